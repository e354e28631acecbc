package dev.tokenbroker;

import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

/**
 * The in-process hot tier in front of the {@link TokenStore}: what {@code accessToken} reads on
 * every call. Implementations must be thread-safe and should make {@link #get} lock-free and
 * allocation-free; the default is an unbounded Caffeine cache, since the number of connections is
 * fixed by configuration.
 *
 * <p>The cache is never the truth: a missing entry only means the broker reads the store again.
 */
public interface TokenCache {

  /** The cached token for {@code id}, or null. */
  @Nullable CachedToken get(ConnectionId id);

  void put(ConnectionId id, CachedToken token);

  void invalidate(ConnectionId id);

  /** The default: an unbounded Caffeine cache. */
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
