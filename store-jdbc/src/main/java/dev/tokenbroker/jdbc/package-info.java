/**
 * A {@link dev.tokenbroker.store.TokenStore} on a relational database (PostgreSQL, MySQL/MariaDB,
 * H2): {@link dev.tokenbroker.jdbc.JdbcTokenStore}, and the {@code jdbc} store type for
 * configuration files.
 */
@NullMarked
package dev.tokenbroker.jdbc;

import org.jspecify.annotations.NullMarked;
