package dev.tokenbroker;

import dev.tokenbroker.store.TokenStore;
import org.jspecify.annotations.Nullable;

/**
 * An in-process hot tier of the application's in front of the {@link TokenStore}: what {@code
 * accessToken} reads on every call when one is given to {@link TokenBrokerBuilder#cache}.
 * Implementations must be thread-safe and should make {@link #get} lock-free and allocation-free.
 *
 * <p>By default a broker needs none: each connection keeps its cached token in a slot of its own,
 * found by id through the broker's connection table. Give a cache to bound the heap when very many
 * connections are configured but few are in use ({@link #bounded(long)}).
 *
 * <p>The cache is never the truth: a missing entry only means the broker reads the store again.
 */
public interface TokenCache {

  /**
   * The cached token for {@code id}, or null.
   *
   * @param id the connection
   * @return the cached token for {@code id}, or null
   */
  @Nullable CachedToken get(ConnectionId id);

  /**
   * Stores {@code token} as the connection's current token, replacing any. Called by the broker
   * whenever it holds a newer token set (saved after a renewal, or read from the store), from any
   * thread.
   *
   * @param id the connection
   * @param token the token to serve until it is no longer fresh
   */
  void put(ConnectionId id, CachedToken token);

  /**
   * Forgets the connection's token: the next call reads the store. Called after a revoke, a
   * rejected token or a new authorization, from any thread.
   *
   * @param id the connection
   */
  void invalidate(ConnectionId id);

  /**
   * A cache holding at most {@code maximumSize} connections' tokens, evicting the least recently
   * used beyond it (an evicted token is simply read from the store again). For brokers with very
   * many connections of which few are in use. Backed by Caffeine, which stays an implementation
   * detail.
   *
   * @param maximumSize the most connections kept
   * @return a cache holding at most {@code maximumSize} connections' tokens
   * @throws IllegalArgumentException if {@code maximumSize} is negative
   */
  static TokenCache bounded(long maximumSize) {
    if (maximumSize < 0) {
      throw new IllegalArgumentException("maximumSize must not be negative, got " + maximumSize);
    }
    return new CaffeineTokenCache(maximumSize);
  }

  /**
   * An unbounded cache (the broker's own default, a slot per connection, is leaner).
   *
   * @return an unbounded cache
   */
  static TokenCache unbounded() {
    return new CaffeineTokenCache(-1);
  }
}
