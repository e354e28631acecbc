package dev.tokenbroker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

/** {@link TokenCache} on Caffeine. An unbounded Caffeine cache reads like a ConcurrentHashMap. */
final class CaffeineTokenCache implements TokenCache {
  private final Cache<ConnectionId, CachedToken> cache;

  /** A cache of at most {@code maximumSize} entries; unbounded when negative. */
  CaffeineTokenCache(long maximumSize) {
    Caffeine<Object, Object> builder = Caffeine.newBuilder();
    if (maximumSize >= 0) {
      builder.maximumSize(maximumSize);
    }
    this.cache = builder.build();
  }

  @Override
  public @Nullable CachedToken get(ConnectionId id) {
    return cache.getIfPresent(id);
  }

  @Override
  public void put(ConnectionId id, CachedToken token) {
    cache.put(id, token);
  }

  @Override
  public void invalidate(ConnectionId id) {
    cache.invalidate(id);
  }
}
