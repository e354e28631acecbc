package dev.tokenbroker;

import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of connections at run time, beside the configured ones: added under an app's template
 * ({@code cafe24:{mall}}), onboarded through an authorization (as its {@link
 * AuthorizationFlow.Target}), given an imported refresh token, learnt from the store ({@link
 * Discovery}), and removed — by the application, or because the platform's API said the link ended.
 * A removal revokes, leaves a tombstone every instance sees, and stops serving the connection here
 * at once. Also the replay guard for the platform's signed onboarding requests.
 */
final class RuntimeConnections implements AuthorizationFlow.Target {
  // Logged under the facade's name, as before these operations moved here.
  private static final Logger log = LoggerFactory.getLogger(TokenBroker.class);

  private final Clock clock;
  private final TokenStore store;
  private final ConnectionRegistry registry;
  private final HotTier hot;
  private final HealthBook health;
  private final SingleFlight flights;
  private final AuthorizationFlow authorization;
  private final Revoker revoker;
  private final Events events;
  private final TokenCalls tokens;
  private final Lifecycle life;
  private final Discovery discovery;

  RuntimeConnections(
      Clock clock,
      TokenStore store,
      ConnectionRegistry registry,
      HotTier hot,
      HealthBook health,
      SingleFlight flights,
      AuthorizationFlow authorization,
      Revoker revoker,
      Events events,
      TokenCalls tokens,
      Lifecycle life) {
    this.clock = clock;
    this.store = store;
    this.registry = registry;
    this.hot = hot;
    this.health = health;
    this.flights = flights;
    this.authorization = authorization;
    this.revoker = revoker;
    this.events = events;
    this.tokens = tokens;
    this.life = life;
    this.discovery = new Discovery(clock, store, registry, events, this::forgetRemoved);
  }

  /** The background discovery, for the assembly to schedule. */
  Discovery discovery() {
    return discovery;
  }

  // ------------------------------------------------------------------------------------------
  // How an authorization finds its connection, or names a new one from its app's template

  @Override
  public Connection connection(ConnectionId id) {
    Connection conn = registry.open(id);
    if (registry.isRunTime(conn)) {
      events.emit(TokenEvent.Type.CONNECTION_ADDED, id, "authorized", null);
    }
    return conn;
  }

  @Override
  public Connection app(String app) {
    return registry.appConnection(app);
  }

  @Override
  public ConnectionId named(String app, String subject) {
    return registry.template(app).idFor(subject);
  }

  // ------------------------------------------------------------------------------------------
  // Adding and removing

  /** As {@link TokenBroker#connect}. */
  ConnectionId connect(String app, String subject) {
    life.checkOpen();
    ConnectionTemplate t = registry.template(Objects.requireNonNull(app, "app"));
    ConnectionId id = t.idFor(subject);
    Connection conn = registry.add(id, t);
    if (conn.provider.grantType() == GrantType.CLIENT_CREDENTIALS) {
      // Nothing for a person to do: the first token, saved, is what other instances learn from.
      tokens.current(conn);
    }
    return id;
  }

  /** As {@link TokenBroker#removeEnded}: checks the reason, then removes. */
  void removeEnded(ConnectionId id, String reason) {
    if (!ConnectionRegistry.REMOVAL_REASONS.contains(Objects.requireNonNull(reason, "reason"))) {
      throw new IllegalArgumentException(
          "reason must be one of " + new TreeSet<>(ConnectionRegistry.REMOVAL_REASONS));
    }
    remove(id, reason);
  }

  /**
   * Removes a run-time connection everywhere: revoked at the platform unless the platform {@code
   * ended} the link itself (then its reason), tombstoned, and no longer served here.
   */
  void remove(ConnectionId id, @Nullable String ended) {
    life.checkOpen();
    Connection conn = registry.find(Objects.requireNonNull(id, "id"));
    if (conn == null) {
      conn = registry.open(id); // not known here: still tombstoned in the store for everyone
    }
    if (!registry.isRunTime(conn)) {
      throw new ConfigurationException(
          id, null, "is a configured connection: remove it from the configuration, or revoke it");
    }
    Connection c = conn;
    flights.exclusive(
        c,
        (x, flight) ->
            revoker.revoke(x, Revocation.TOKENS, ended != null ? ended : "removed", ended == null));
    // (the platform refusing the revocation throws: then nothing is removed)
    forgetRemoved(c, ended != null ? ended : "removed");
  }

  /** Stops serving a removed run-time connection here. */
  void forgetRemoved(Connection conn, String reason) {
    if (registry.remove(conn)) {
      hot.invalidate(conn);
      conn.forgetTokens();
      events.emit(
          TokenEvent.Type.CONNECTION_REMOVED, conn.id, "connection removed (" + reason + ")", null);
    }
  }

  /** As {@link TokenBroker#discover}. */
  int discover() {
    life.checkOpen();
    return registry.hasTemplates() ? discovery.poll() : 0;
  }

  /**
   * The API said the connection is dead (app uninstalled, IP not allowed): it needs
   * re-authorization, and a run-time one whose link the platform ended is removed everywhere.
   */
  void markDead(Connection conn, ApiVerdict verdict) {
    hot.invalidate(conn);
    TokenSet known = conn.newest();
    health.failed(
        conn,
        Failure.of(
            TokenEndpointException.builder(conn.provider.name())
                .kind(TokenEndpointException.Kind.PERMANENT)
                .reason(Objects.requireNonNull(verdict.reason()))
                .platformCode(verdict.code())
                .build()),
        known == null ? 0 : known.version());
    if (verdict.ended() && registry.isRunTime(conn) && !life.isClosed()) {
      try {
        String reason = verdict.reason();
        // everywhere: the platform ended the link
        remove(
            conn.id,
            reason != null && ConnectionRegistry.REMOVAL_REASONS.contains(reason)
                ? reason
                : "uninstalled");
      } catch (RuntimeException e) {
        log.warn(
            "connection {}: the platform ended the link, but removing it failed: {}",
            conn.id,
            e.getMessage());
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Tokens from elsewhere, and replay guards

  /** As {@link TokenBroker#importRefreshToken}. */
  TokenSet importRefreshToken(ConnectionId id, String refreshToken) {
    life.checkOpen();
    Objects.requireNonNull(refreshToken, "refreshToken");
    if (refreshToken.isBlank()) {
      throw new IllegalArgumentException("refresh token is blank");
    }
    Connection conn = registry.open(id);
    if (conn.provider.grantType() != GrantType.AUTHORIZATION_CODE) {
      throw new ConfigurationException(
          id, null, "uses client credentials: there is no refresh token to import");
    }
    Instant now = clock.instant();
    // Only carries the refresh token to the provider; never stored or served.
    TokenSet carrier =
        TokenSet.builder()
            .accessToken("imported")
            .refreshToken(refreshToken.trim())
            .issuedAt(now.minusSeconds(1))
            .expiresAt(now)
            .build();
    TokenSet[] saved = new TokenSet[1];
    flights.exclusive(
        conn,
        (c, flight) -> {
          saved[0] = authorization.importSet(c, carrier);
          return null;
        });
    return saved[0];
  }

  /** As {@link TokenBroker#claimOnce}. */
  boolean claimOnce(String key, Instant until) {
    life.checkOpen();
    Objects.requireNonNull(key, "key");
    if (key.length() > 150) {
      throw new IllegalArgumentException("key must be at most 150 characters");
    }
    return store.putOnce("tb-once:" + key, new byte[0], Objects.requireNonNull(until, "until"));
  }
}
