package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * Where FRESH tokens are served from: each connection's own slot ({@link Connection#hot}, the
 * default: no second table, no entry objects), or the application's {@link TokenCache}. Reads take
 * no lock and allocate nothing. Puts and invalidations are serialised by the connection's lock,
 * held for an in-memory write: the last of two racing changes wins, as for every other field of the
 * connection.
 */
final class HotTier {
  private final @Nullable TokenCache cache;

  HotTier(@Nullable TokenCache cache) {
    this.cache = cache;
  }

  /** The cached token, or null. */
  @Nullable CachedToken get(Connection conn) {
    return cache == null ? conn.hot : cache.get(conn.id);
  }

  /** Whether tokens live in the connections' own slots (no application cache). */
  boolean usesSlots() {
    return cache == null;
  }

  void put(Connection conn, CachedToken token) {
    synchronized (conn) {
      if (cache == null) {
        conn.hot = token;
      } else {
        cache.put(conn.id, token);
      }
    }
  }

  /** Caches {@code tokens} unless a newer version is cached already; returns what is cached. */
  CachedToken offer(Connection conn, TokenSet tokens) {
    synchronized (conn) {
      CachedToken now = get(conn);
      if (now != null
          && now.tokenSet().version() > tokens.version()
          && tokens.version() > 0
          && !StoreView.issuedLater(tokens, now.tokenSet())) {
        return now;
      }
      CachedToken fresh = new CachedToken(tokens, conn.policy);
      put(conn, fresh);
      return fresh;
    }
  }

  void invalidate(Connection conn) {
    synchronized (conn) {
      if (cache != null) {
        cache.invalidate(conn.id);
      }
      conn.hot = null;
    }
  }
}
