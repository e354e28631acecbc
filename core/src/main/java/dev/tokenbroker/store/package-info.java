/**
 * The store SPI: {@link dev.tokenbroker.store.TokenStore}, the durable shared truth about every
 * connection (its token set, renewal lease, health record and tombstone), and the two stores core
 * ships: in memory and in files. Applications pick a store; store implementations (JDBC, Redis)
 * implement this package's interfaces.
 */
@NullMarked
package dev.tokenbroker.store;

import org.jspecify.annotations.NullMarked;
