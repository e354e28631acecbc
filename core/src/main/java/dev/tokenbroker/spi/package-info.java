/**
 * Helpers for provider and store implementations: typed access to a connection's settings, the
 * token-endpoint HTTP client that never re-sends a request on its own, and secret scrubbing.
 * Applications do not need this package.
 */
@NullMarked
package dev.tokenbroker.spi;

import org.jspecify.annotations.NullMarked;
