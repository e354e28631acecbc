package dev.tokenbroker;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tokenbroker.store.TokenStore;
import org.jspecify.annotations.Nullable;

/**
 * An in-process hot tier of the application's in front of the {@link TokenStore}: what {@code
 * accessToken} reads on every call when one is given to {@link TokenBrokerBuilder#cache}.
 * Implementations must be thread-safe and should make {@link #get} lock-free and allocation-free.
 *
 * <p>By default a broker needs none: each connection keeps its cached token in a slot of its own,
 * found by id through the broker's connection table. Give a cache to bound the heap when very many
 * connections are configured but few are in use ({@link #caffeine(Caffeine)} with a maximum size).
 *
 * <p>The cache is never the truth: a missing entry only means the broker reads the store again.
 */
public interface TokenCache {

  /** The cached token for {@code id}, or null. */
  @Nullable CachedToken get(ConnectionId id);

  void put(ConnectionId id, CachedToken token);

  void invalidate(ConnectionId id);

  /** An unbounded Caffeine cache (the broker's own default, slots per connection, is leaner). */
  static TokenCache caffeine() {
    return new CaffeineTokenCache(Caffeine.newBuilder());
  }

  /**
   * A Caffeine cache configured by {@code builder} (e.g. a maximum size for very many connections;
   * an evicted entry is simply read from the store again).
   */
  static TokenCache caffeine(Caffeine<Object, Object> builder) {
    return new CaffeineTokenCache(builder);
  }
}
