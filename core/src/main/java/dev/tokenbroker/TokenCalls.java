package dev.tokenbroker;

import java.time.Clock;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a caller asking for a token gets, blocking: the hot tier's token while FRESH (no lock, no
 * allocation); while STALE the same token, and one background renewal; when EXPIRED or missing, the
 * connection's single renewal, waited for. Also the explicit renewals: after the platform's API
 * rejected a token, an operator's {@code refresh}, and a check of the token with the platform.
 */
final class TokenCalls {
  private final Clock clock;
  private final ConnectionRegistry registry;
  private final HotTier hot;
  private final @Nullable TokenCache cache;
  private final SingleFlight flights;
  private final HealthBook health;
  private final Lifecycle life;

  TokenCalls(
      Clock clock,
      ConnectionRegistry registry,
      HotTier hot,
      @Nullable TokenCache cache,
      SingleFlight flights,
      HealthBook health,
      Lifecycle life) {
    this.clock = clock;
    this.registry = registry;
    this.hot = hot;
    this.cache = cache;
    this.flights = flights;
    this.health = health;
    this.life = life;
  }

  /** The cached token, renewing as {@link TokenBroker#accessToken} does. */
  CachedToken current(ConnectionId id) {
    Connection conn = null;
    CachedToken c;
    if (cache == null) {
      conn = registry.find(id);
      c = conn == null ? null : conn.hot;
    } else {
      c = cache.get(id);
    }
    if (c != null) {
      long now = clock.millis();
      if (now < c.renewAtMillis()) {
        return c;
      }
      if (now < c.expiredAtMillis()) {
        staleHit(conn != null ? conn : registry.get(id), now);
        return c;
      }
    }
    return expired(conn != null ? conn : registry.get(id));
  }

  /** The hot path of {@link TokenSource}: {@link #current(ConnectionId)}, without the lookup. */
  CachedToken current(Connection conn) {
    CachedToken c = hot.get(conn);
    if (c != null) {
      long now = clock.millis();
      if (now < c.renewAtMillis()) {
        return c;
      }
      if (now < c.expiredAtMillis()) {
        staleHit(conn, now);
        return c;
      }
    }
    return expired(conn);
  }

  /** A STALE token was served: one background renewal, unless closed or backing off. */
  void staleHit(Connection conn, long now) {
    if (!life.isClosed() && !HealthRules.holdsOff(conn, now)) {
      flights.startInBackground(conn, Flight.Purpose.STALE);
    }
  }

  private CachedToken expired(Connection conn) {
    life.checkOpen();
    return flights.await(conn, Flight.Purpose.EXPIRED, null);
  }

  /** As {@link TokenBroker#tokenSetAfterRejection}, with the rejected token given by value. */
  TokenSet afterRejection(ConnectionId id, String rejectedAccessToken) {
    Objects.requireNonNull(rejectedAccessToken, "rejectedAccessToken");
    Connection conn = registry.get(id);
    CachedToken now = hot.get(conn);
    if (now != null && !now.accessToken().equals(rejectedAccessToken)) {
      return now.tokenSet(); // someone renewed already: never invalidate a token we did not send
    }
    life.checkOpen();
    hot.invalidate(conn);
    return flights.await(conn, Flight.Purpose.REJECTED, rejectedAccessToken).tokenSet();
  }

  /**
   * After the API rejected {@code rejected}: returns a different valid token, renewing once if the
   * rejected one is still the current one.
   */
  CachedToken renewAfterRejection(Connection conn, CachedToken rejected) {
    CachedToken now = hot.get(conn);
    if (now != null && !now.accessToken().equals(rejected.accessToken())) {
      return now; // someone renewed already: never invalidate a token the request did not carry
    }
    hot.invalidate(conn);
    return flights.await(conn, Flight.Purpose.REJECTED, rejected.accessToken());
  }

  /** As {@link TokenBroker#refresh}. */
  TokenSet refresh(ConnectionId id) {
    Connection conn = registry.get(id);
    life.checkOpen();
    return flights.await(conn, Flight.Purpose.REFRESH, null).tokenSet();
  }

  /** As {@link TokenBroker#validate}. */
  TokenSet validate(ConnectionId id) {
    Connection conn = registry.get(id);
    CachedToken current = current(conn);
    TokenSet validated;
    try {
      validated = conn.provider.validate(current.tokenSet());
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.TOKEN_REJECTED) {
        CachedToken renewed = renewAfterRejection(conn, current);
        return conn.provider.validate(renewed.tokenSet());
      }
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        hot.invalidate(conn);
      }
      throw health.failed(conn, Failure.of(e), current.tokenSet().version());
    }
    conn.setValidatedVersion(current.tokenSet().version());
    hot.put(conn, new CachedToken(validated, conn.policy));
    return validated;
  }
}
