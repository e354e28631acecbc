package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's view of a connection's stored state, and the decisions made from it before any
 * request: read (a store failure becomes DEGRADED), reconcile (a store that forgot a record or went
 * back in time gets the newer set held here written back), what may be served as it is, whether a
 * renewal may be attempted now ({@link #gate}), and a saved set becoming the current one.
 */
final class StoreView {
  private static final Logger log = LoggerFactory.getLogger(StoreView.class);

  private final Clock clock;
  private final TokenStore store;
  private final HotTier hot;
  private final HealthBook health;
  private final Events events;

  StoreView(Clock clock, TokenStore store, HotTier hot, HealthBook health, Events events) {
    this.clock = clock;
    this.store = store;
    this.hot = hot;
    this.health = health;
    this.events = events;
  }

  /**
   * Whether {@code stored}, at a lower version than {@code mine}, was issued after it. Versions and
   * issue times agree unless the store lost a record (and its version counter) and a new
   * authorization was saved since: then the later-issued set is the newest, whatever its version.
   */
  static boolean issuedLater(TokenSet stored, TokenSet mine) {
    return stored.version() < mine.version() && stored.issuedAt().isAfter(mine.issuedAt());
  }

  /**
   * A set the durable saver stored at last becomes this instance's current one. If a refresh from
   * it lost its answer meanwhile, its refresh token may be spent: that is recorded against the
   * saved version (so the next renewal anywhere is the one deliberate retry), not cleared.
   */
  void savedLater(Connection conn, TokenSet saved, boolean mayBeSpent) {
    if (!mayBeSpent) {
      published(conn, saved, TokenEvent.Type.REFRESHED);
      return;
    }
    conn.sawTokens(saved);
    hot.offer(conn, saved);
    String message =
        "saved a token set whose refresh lost its answer while it was unsaved: the refresh token"
            + " may already be rotated; one deliberate try follows";
    events.emit(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, conn.id, message, null);
    health.failed(
        conn, Failure.degraded("rotation-outcome-unknown", message, null), saved.version());
  }

  /** A saved set becomes this instance's current one. */
  CachedToken published(Connection conn, TokenSet saved, TokenEvent.Type type) {
    conn.sawTokens(saved);
    CachedToken c = hot.offer(conn, saved);
    conn.savedHere(saved.version());
    health.succeeded(conn);
    renewedHere(conn);
    events.emit(
        type,
        conn.id,
        "new token set "
            + Secrets.fingerprint(saved.accessToken())
            + " expires "
            + saved.expiresAt(),
        null);
    Instant keepAliveAt = conn.policy.keepAliveAt(saved);
    if (keepAliveAt != null && !clock.instant().isBefore(keepAliveAt)) {
      events.emit(
          TokenEvent.Type.REFRESH_TOKEN_EXPIRING_SOON,
          conn.id,
          "refresh token expires at " + saved.refreshExpiresAt(),
          null);
    }
    return c;
  }

  void renewedHere(Connection conn) {
    synchronized (conn) {
      conn.lastRenewalAtMillis = clock.millis();
    }
  }

  StoredConnection read(Connection conn) {
    try {
      return store.read(conn.id);
    } catch (RuntimeException e) {
      TokenSet known = conn.newest();
      throw storeFailure(conn, "token store unavailable", e, known);
    }
  }

  TokenUnavailableException storeFailure(
      Connection conn, String what, RuntimeException e, @Nullable TokenSet known) {
    return health.failed(
        conn,
        Failure.degraded("store-unavailable", what + ": " + e.getMessage(), e),
        known == null ? 0 : known.version());
  }

  /**
   * Takes what the store says as this instance's view, and repairs a store that forgot a record or
   * went back in time: a newer set held here is written back (newest version wins; a tombstone
   * always wins), loudly.
   */
  StoredConnection reconcile(Connection conn, StoredConnection stored) {
    health.observe(conn, stored);
    if (stored.tombstone() != null) {
      hot.invalidate(conn);
      conn.forgetTokens();
      return stored;
    }
    TokenSet mine = conn.newest();
    if (mine != null && stored.tokens() != null && issuedLater(stored.tokens(), mine)) {
      // The store lost this record and its version counter with it, and a set issued after ours (a
      // new authorization) was saved since at a lower version: that one is the newest.
      synchronized (conn) {
        conn.newest = stored.tokens();
      }
      return stored;
    }
    if (mine != null && stored.tokens() != null && stored.tokens().sameTokensAs(mine)) {
      // The same set, perhaps at another version (written back by another instance after the
      // store lost the record): the store's numbering is the one to build on.
      synchronized (conn) {
        conn.newest = stored.tokens();
      }
      return stored;
    }
    if (mine != null && mine.version() > stored.version()) {
      StoredConnection after;
      try {
        after = store.restore(conn.id, mine);
      } catch (RuntimeException e) {
        throw storeFailure(conn, "could not write back a record the store lost", e, mine);
      }
      String message =
          (stored.tokens() == null
                  ? "the store lost this connection's record"
                  : "the store went back from version "
                      + mine.version()
                      + " to "
                      + stored.version())
              + "; wrote back version "
              + mine.version()
              + " held by this instance";
      log.error("connection {}: {}", conn.id, message);
      events.emit(TokenEvent.Type.STORE_RESTORED, conn.id, message, null);
      health.observe(conn, after);
      conn.sawTokens(after.tokens());
      return after;
    }
    conn.sawTokens(stored.tokens());
    return stored;
  }

  /**
   * A token from {@code tokens} if it answers {@code flight} as is: FRESH (for keep-alive: not due
   * either), not the rejected token, not superseded by a failure needing a person. An explicit
   * refresh is never answered from the store.
   */
  @Nullable CachedToken serveable(Connection conn, Flight flight, @Nullable TokenSet tokens) {
    if (tokens == null
        || flight.purpose == Flight.Purpose.REFRESH
        || (flight.rejected != null && flight.rejected.equals(tokens.accessToken()))
        || HealthRules.needsPerson(conn, tokens.version())) {
      return null;
    }
    long now = clock.millis();
    if (now >= conn.policy.renewAtMillis(tokens)) {
      return null;
    }
    if (flight.purpose == Flight.Purpose.KEEP_ALIVE && keepAliveDue(conn, tokens)) {
      return null;
    }
    TokenSet checked = validateLoaded(conn, tokens);
    if (checked == null) {
      return null;
    }
    return hot.offer(conn, checked);
  }

  /**
   * A caller with no valid token is answered at once with a stored set that is STALE but not
   * EXPIRED, while this flight goes on to renew it (as a STALE hit would have started).
   */
  @Nullable CachedToken serveWhileRenewing(
      Connection conn, Flight flight, @Nullable TokenSet tokens) {
    if (tokens == null
        || flight.purpose != Flight.Purpose.EXPIRED
        || HealthRules.needsPerson(conn, tokens.version())
        || conn.provider.validatesOnLoad() && conn.validatedVersion() != tokens.version()
        || clock.millis() >= conn.policy.expiredAtMillis(tokens)) {
      return null;
    }
    CachedToken c = hot.offer(conn, tokens);
    flight.future.complete(c); // waiters go on at once; the renewal continues behind them
    return c;
  }

  /**
   * For a provider that validates tokens read from a store (Kakao token info): the set as the
   * platform confirms it, or null when the platform no longer accepts it (renew it then).
   */
  @Nullable TokenSet validateLoaded(Connection conn, TokenSet tokens) {
    if (!conn.provider.validatesOnLoad() || conn.validatedVersion() == tokens.version()) {
      return tokens;
    }
    TokenSet checked;
    try {
      checked = conn.provider.validate(tokens);
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        throw health.failed(conn, Failure.of(e), tokens.version());
      }
      if (e.kind() == TokenEndpointException.Kind.TOKEN_REJECTED || e.httpStatus() == 401) {
        return null; // rejected although fresh by our clock (logged out elsewhere): renew it
      }
      throw health.failed(conn, Failure.of(e), tokens.version());
    }
    conn.setValidatedVersion(tokens.version());
    return checked;
  }

  boolean keepAliveDue(Connection conn, TokenSet tokens) {
    Instant at = conn.policy.keepAliveAt(tokens);
    return at != null && !clock.instant().isBefore(at);
  }

  /**
   * Throws when no renewal may be attempted now. An explicit refresh passes holds and backoff, but
   * never the pause after a lost answer: the platform may still be processing that request. {@code
   * cutShortReported}: this renewal has just reported a cut-short one and may try at once.
   */
  void gate(Connection conn, Flight flight, StoredConnection stored, boolean cutShortReported) {
    boolean explicit =
        flight.purpose == Flight.Purpose.REFRESH
            && !HealthRules.awaitsOutcome(conn, clock.millis());
    if (stored.tombstone() != null && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      throw tombstoned(conn, stored);
    }
    long version = stored.version();
    if (!explicit && HealthRules.needsPerson(conn, version)) {
      throw HealthBook.exception(
          conn, health.snapshot(conn, stored.tokens(), false), conn.lastCause());
    }
    if (!explicit && !cutShortReported && HealthRules.holdsOff(conn, clock.millis())) {
      throw HealthBook.exception(
          conn, health.snapshot(conn, stored.tokens(), false), conn.lastCause());
    }
    if (stored.tokens() == null && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      // Lost only if it existed: a lease seized by a revocation or an authorization that never
      // saved is no sign of that.
      boolean lost = conn.sawAnyTokens() || conn.lastRenewalAtMillis >= 0;
      throw health.failed(
          conn,
          Failure.needsPerson(
              lost ? "store-lost-record" : "not-authorized",
              lost
                  ? "the store lost this connection's record and no instance holds its tokens: run"
                      + " `tokenbroker connect "
                      + conn.id
                      + "`"
                  : notAuthorized(conn),
              null),
          0);
    }
  }

  static String notAuthorized(Connection conn) {
    return "not authorized yet: run `tokenbroker connect " + conn.id + "`";
  }

  /** The connection was revoked or uninstalled: a person must authorize it again. */
  TokenUnavailableException tombstoned(Connection conn, StoredConnection stored) {
    hot.invalidate(conn);
    String reason = stored.tombstone().reason();
    HealthRecord local =
        new HealthRecord(
            Health.State.REAUTHORIZATION_REQUIRED,
            reason,
            reason
                + " at "
                + stored.tombstone().at()
                + ": run `tokenbroker connect "
                + conn.id
                + "`",
            reason,
            stored.tombstone().at(),
            null,
            null,
            1,
            stored.tombstone().version(),
            0);
    synchronized (conn) {
      if (conn.health() == null || !reason.equals(conn.health().reason())) {
        conn.setHealth(local);
        conn.setHealthLocalOnly(false); // the store's tombstone says it: nothing to keep
      }
    }
    return HealthBook.exception(conn, health.snapshot(conn, null, false), null);
  }

  void release(Lease lease) {
    try {
      store.releaseLease(lease);
    } catch (RuntimeException e) {
      // The lease expires on its own; a failed release only delays other instances.
      log.warn(
          "connection {}: could not release the renewal lease: {}",
          lease.connection(),
          e.getMessage());
    }
  }
}
