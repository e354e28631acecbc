package dev.tokenbroker;

import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What a caller asking for a token gets without blocking, for reactive and asynchronous callers (an
 * event-loop thread must never wait for a renewal): a completed future while the token is FRESH or
 * STALE, else the connection's single renewal as a future. Never throws but for a null argument: an
 * unknown connection or a closed broker completes the future exceptionally.
 */
final class AsyncCalls {
  private final Clock clock;
  private final ConnectionRegistry registry;
  private final HotTier hot;
  private final SingleFlight flights;
  private final TokenCalls blocking;
  private final Lifecycle life;

  AsyncCalls(
      Clock clock,
      ConnectionRegistry registry,
      HotTier hot,
      SingleFlight flights,
      TokenCalls blocking,
      Lifecycle life) {
    this.clock = clock;
    this.registry = registry;
    this.hot = hot;
    this.flights = flights;
    this.blocking = blocking;
    this.life = life;
  }

  /** The cached token, or the single flight's future; never throws but for a null id. */
  CompletableFuture<CachedToken> current(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    try {
      Connection conn = registry.get(id);
      CachedToken c = hot.get(conn);
      if (c != null) {
        long now = clock.millis();
        if (now < c.expiredAtMillis()) {
          if (now >= c.renewAtMillis()) {
            blocking.staleHit(conn, now);
          }
          return CompletableFuture.completedFuture(c);
        }
      }
      life.checkOpen();
      return flights.awaitAsync(conn, Flight.Purpose.EXPIRED, null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** As {@link TokenBroker#tokenSetAfterRejectionAsync}. */
  CompletableFuture<TokenSet> afterRejection(ConnectionId id, String rejectedAccessToken) {
    Objects.requireNonNull(rejectedAccessToken, "rejectedAccessToken");
    try {
      Connection conn = registry.get(id);
      CachedToken now = hot.get(conn);
      if (now != null && !now.accessToken().equals(rejectedAccessToken)) {
        return CompletableFuture.completedFuture(now.tokenSet());
      }
      life.checkOpen();
      hot.invalidate(conn);
      return flights
          .awaitAsync(conn, Flight.Purpose.REJECTED, rejectedAccessToken)
          .thenApply(CachedToken::tokenSet);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
