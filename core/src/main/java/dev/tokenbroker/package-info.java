/**
 * Tokenbroker's public API: a {@link dev.tokenbroker.TokenBroker} that keeps OAuth tokens of many
 * {@link dev.tokenbroker.ConnectionId connections} alive, one renewal per connection at a time,
 * saving every new {@link dev.tokenbroker.TokenSet} durably before anyone uses it.
 *
 * <p>Everything in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.tokenbroker;

import org.jspecify.annotations.NullMarked;
