package dev.tokenbroker;

import dev.tokenbroker.HealthBook.Failure;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One renewal of one connection, on a broker thread: load from the store (another instance may have
 * renewed already) → take the store lease → load again → mark the renewal started → call the
 * provider (never under a JVM lock) → fenced compare-and-set → cache → release the lease.
 *
 * <p>Every write is made under the lease: a revoke or a new authorization that seized the lease in
 * the meantime wins, and this renewal's set is dropped. A set the store would not take is handed,
 * with its lease, to the {@link DurableSaver}: it is served, and no other instance may renew from
 * the older stored set meanwhile.
 */
final class StoreRenewal {
  private static final Logger log = LoggerFactory.getLogger(StoreRenewal.class);

  private final Clock clock;
  private final TokenStore store;
  private final HotTier hot;
  private final HealthBook health;
  private final DurableSaver saver;
  private final Events events;
  private final String owner;
  private final Duration leaseTtl;
  private final Duration leaseWait;
  private final Duration outcomeUnknownPause;
  private final Pause pause;

  /** How the renewal waits between looks at a lease another instance holds (real time). */
  interface Pause {
    void sleep(long millis) throws InterruptedException;
  }

  StoreRenewal(
      Clock clock,
      TokenStore store,
      HotTier hot,
      HealthBook health,
      DurableSaver saver,
      Events events,
      String owner,
      Duration leaseTtl,
      Duration leaseWait,
      Duration outcomeUnknownPause,
      Pause pause) {
    this.clock = clock;
    this.store = store;
    this.hot = hot;
    this.health = health;
    this.saver = saver;
    this.events = events;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
    this.leaseWait = leaseWait;
    this.outcomeUnknownPause = outcomeUnknownPause;
    this.pause = pause;
  }

  /** Runs {@code flight}'s renewal; returns the token the flight hands out. */
  CachedToken renew(Connection conn, Flight flight) {
    DurableSaver.Pending pending = saver.pending(conn);
    if (pending != null) {
      return fromUnsaved(conn, flight, pending);
    }
    StoredConnection stored = reconcile(conn, read(conn));
    CachedToken served = serveable(conn, flight, stored.tokens());
    if (served != null) {
      return served;
    }
    served = serveWhileRenewing(conn, flight, stored.tokens());
    gate(conn, flight, stored, false);
    Lease lease = acquireLease(conn, flight, stored);
    if (lease == null) {
      // Another instance renewed while we waited for its lease.
      StoredConnection now = reconcile(conn, read(conn));
      CachedToken c = serveable(conn, flight, now.tokens());
      if (c != null) {
        return c;
      }
      throw new TokenUnavailableException(
          conn.id,
          "connection "
              + conn.id
              + ": another instance holds the renewal lease and did not renew within "
              + leaseWait,
          health.snapshot(conn, now.tokens(), false),
          null);
    }
    boolean handedOver = false;
    try {
      Result r = renewUnderLease(conn, flight, stored, lease);
      handedOver = r.leaseHandedOver;
      return served != null ? served : r.token;
    } catch (TokenUnavailableException e) {
      handedOver = keepsMarker(conn, lease);
      throw e;
    } finally {
      if (!handedOver) {
        release(lease);
      }
    }
  }

  /**
   * After a renewal ended with an unknown rotation outcome (an answer lost, or a cut-short renewal
   * reported), or with the verdict of the deliberate retry that followed one, that the store did
   * not take as the health record: the lease is not released but left, marked, to expire, so
   * whoever holds the connection next learns of it from the lease itself. Otherwise nobody else
   * would know, and the next renewal would send a possibly spent refresh token as an ordinary one.
   */
  private boolean keepsMarker(Connection conn, Lease lease) {
    HealthRecord mine = conn.health;
    if (mine == null || !"rotation-outcome-unknown".equals(mine.reason())) {
      return false; // (DEGRADED: an unknown outcome; needing a person: the deliberate retry's)
    }
    try {
      HealthRecord stored = store.read(conn.id).health();
      if (stored != null && "rotation-outcome-unknown".equals(stored.reason())) {
        return false;
      }
      store.markRenewing(lease);
    } catch (RuntimeException e) {
      // Left as it is: marked if a request was sent under it, and it expires on its own.
    }
    log.warn(
        "connection {}: the unknown rotation outcome is not in the store's health record; the"
            + " renewal lease is left to expire with its marker",
        conn.id);
    return true;
  }

  private static final class Result {
    final CachedToken token;
    final boolean leaseHandedOver;

    Result(CachedToken token, boolean leaseHandedOver) {
      this.token = token;
      this.leaseHandedOver = leaseHandedOver;
    }
  }

  private Result renewUnderLease(
      Connection conn, Flight flight, StoredConnection before, Lease lease) {
    boolean reported = lease.renewalCutShortAt() != null;
    if (reported) {
      cutShort(conn, lease.renewalCutShortAt());
    }
    StoredConnection stored = reconcile(conn, read(conn));
    if (stored.version() != before.version()) {
      // Someone saved a newer set between our first read and the lease: use it if it is good.
      CachedToken c = serveable(conn, flight, stored.tokens());
      if (c != null) {
        return new Result(c, false);
      }
    }
    // A cut-short renewal just reported, its pause over: the one try follows now, not after the
    // backoff of the record that reported it.
    gate(conn, flight, stored, reported);
    TokenSet base = stored.tokens();
    if (flight.purpose == Flight.Purpose.KEEP_ALIVE && base != null && !keepAliveDue(conn, base)) {
      // Another instance renewed it since we found it due: nothing to do (no forced renewal).
      return new Result(hot.offer(conn, base), false);
    }
    try {
      store.markRenewing(lease);
    } catch (StaleLeaseException e) {
      // Nothing was sent. Not a store failure either (no DEGRADED record, no alert): a revoke or a
      // new authorization seized the lease since we read, or another instance took it over.
      return new Result(lostLeaseBeforeSending(conn, stored, e), false);
    } catch (RuntimeException e) {
      throw storeFailure(conn, "could not start the renewal in the store", e, base);
    }
    TokenSet issued;
    try {
      issued = callProvider(conn, base);
    } catch (Superseded newer) {
      return new Result(servedInstead(conn, newer), false);
    }
    Result r = save(conn, base, issued, lease);
    if (r.token.tokenSet().sameTokensAs(issued)) {
      flight.renewed = true; // saved, or kept unsaved: not superseded by another writer's set
    }
    return r;
  }

  /** A failed renewal of an old chain, after a new authorization saved a new one meanwhile. */
  private static final class Superseded extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient TokenSet tokens;

    Superseded(TokenSet tokens) {
      super(null, null, false, false);
      this.tokens = tokens;
    }
  }

  /** What a renewal that failed after a newer set was saved hands out: that set, if valid. */
  private CachedToken servedInstead(Connection conn, Superseded newer) {
    if (clock.millis() >= conn.policy.expiredAtMillis(newer.tokens)) {
      // Written back from an older copy after the store lost data: nothing to hand out yet; the
      // next renewal starts from it.
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": a newer but expired token set was written meanwhile",
          health.snapshot(conn, newer.tokens, false),
          null);
    }
    return hot.offer(conn, newer.tokens);
  }

  /** A previous holder started a token request and neither saved nor released: report it first. */
  private void cutShort(Connection conn, Instant startedAt) {
    String message =
        "a renewal started at "
            + startedAt
            + " was cut short before its answer was saved (a crash?): the stored refresh token may"
            + " already be spent; one deliberate try follows";
    log.warn("connection {}: {}", conn.id, message);
    events.emit(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, conn.id, message, null);
    long wait = startedAt.toEpochMilli() + outcomeUnknownPause.toMillis() - clock.millis();
    if (wait > 0) {
      // The platform may still be processing that request: come back when it cannot be.
      throw health.failed(
          conn,
          new Failure(
              Health.State.DEGRADED,
              "rotation-outcome-unknown",
              message,
              null,
              null,
              Duration.ofMillis(wait),
              null),
          conn.newest() == null ? 0 : conn.newest().version());
    }
    health.failed(
        conn,
        Failure.degraded("rotation-outcome-unknown", message, null),
        conn.newest() == null ? 0 : conn.newest().version());
  }

  private TokenSet callProvider(Connection conn, @Nullable TokenSet base) {
    return callProvider(conn, base, base == null ? 0 : base.version());
  }

  /** {@code version}: the stored version {@code base} stands for (an unsaved set has none). */
  private TokenSet callProvider(Connection conn, @Nullable TokenSet base, long version) {
    TokenProvider provider = conn.provider;
    boolean secondTry = isDeliberateRetry(conn);
    if (secondTry) {
      log.warn(
          "connection {}: the one deliberate try after a lost or cut-short renewal; its answer"
              + " decides",
          conn.id);
    }
    TokenSet issued;
    try {
      if (provider.grantType() == GrantType.CLIENT_CREDENTIALS) {
        issued = provider.obtain(base);
      } else if (base == null || base.refreshToken() == null) {
        throw health.failed(
            conn, Failure.needsPerson("not-authorized", notAuthorized(conn), null), version);
      } else {
        issued = provider.refresh(base);
      }
    } catch (TokenEndpointException e) {
      throw providerFailure(conn, e, base, version, secondTry);
    } catch (TokenUnavailableException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // A provider bug: the request may have been sent and processed.
      TokenEndpointException wrapped =
          TokenEndpointException.builder(provider.name())
              .kind(
                  provider.grantType() == GrantType.CLIENT_CREDENTIALS
                      ? TokenEndpointException.Kind.TRANSIENT
                      : TokenEndpointException.Kind.OUTCOME_UNKNOWN)
              .reason(
                  "unexpected error in the "
                      + provider.name()
                      + " provider: "
                      + e.getClass().getName())
              .cause(e)
              .build();
      throw providerFailure(conn, wrapped, base, version, secondTry);
    }
    return keepRefreshToken(base, issued);
  }

  /** The renewal after a lost answer or a cut-short renewal: its failure is final. */
  private static boolean isDeliberateRetry(Connection conn) {
    HealthRecord h = conn.health;
    return h != null && "rotation-outcome-unknown".equals(h.reason());
  }

  private TokenUnavailableException providerFailure(
      Connection conn,
      TokenEndpointException e,
      @Nullable TokenSet base,
      long version,
      boolean secondTry) {
    if (e.kind() != TokenEndpointException.Kind.TRANSIENT) {
      TokenSet now = null;
      try {
        now = store.load(conn.id);
      } catch (RuntimeException ignored) {
        // the failure below is reported as it is
      }
      if (now != null && base != null && now.sameTokensAs(base)) {
        // The set renewed from, unsaved, was saved after all (only its save's reply was lost):
        // not a newer set; the failure is about that stored version.
        version = now.version();
      } else if (now != null && now.version() > version) {
        log.info(
            "connection {}: renewal of an older chain failed after a newer set was saved: {}",
            conn.id,
            e.getMessage());
        throw new Superseded(now);
      }
    }
    Failure f;
    if (e.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN) {
      String message =
          "refresh answer lost; the refresh token may already be rotated. Not retried blindly: "
              + (secondTry
                  ? "this was the one deliberate retry, a person must reconnect"
                  : "one deliberate retry after " + outcomeUnknownPause);
      events.emit(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, conn.id, message, e);
      f =
          new Failure(
              secondTry ? Health.State.REAUTHORIZATION_REQUIRED : Health.State.DEGRADED,
              "rotation-outcome-unknown",
              "rotation outcome unknown: " + e.reason(),
              Failure.errorCode(e),
              null,
              outcomeUnknownPause,
              e);
    } else if (e.kind() == TokenEndpointException.Kind.PERMANENT && secondTry) {
      // The lost or cut-short request spent the refresh token.
      f =
          new Failure(
              Health.State.REAUTHORIZATION_REQUIRED,
              "rotation-outcome-unknown",
              "the refresh token was spent by a request whose answer was lost: " + e.reason(),
              Failure.errorCode(e),
              null,
              null,
              e);
    } else {
      f = Failure.of(e);
    }
    return health.failed(conn, f, version);
  }

  /** Never drop a refresh token: a platform that did not resend it means "keep the old one". */
  static TokenSet keepRefreshToken(@Nullable TokenSet previous, TokenSet issued) {
    if (issued.refreshToken() != null || previous == null || previous.refreshToken() == null) {
      return issued;
    }
    return issued.toBuilder()
        .refreshToken(previous.refreshToken())
        .refreshExpiresAt(previous.refreshExpiresAt())
        .scopes(issued.scopes().isEmpty() ? previous.scopes() : issued.scopes())
        .build();
  }

  /** The fenced save; a set the store would not take goes to the durable saver with the lease. */
  private Result save(Connection conn, @Nullable TokenSet base, TokenSet issued, Lease lease) {
    return save(conn, base, issued, lease, base == null ? 0 : base.version());
  }

  /** {@code renewedFrom}: the version {@code issued} was renewed from, whatever base now says. */
  private Result save(
      Connection conn, @Nullable TokenSet base, TokenSet issued, Lease lease, long renewedFrom) {
    long baseVersion = base == null ? 0 : base.version();
    TokenSet saved;
    try {
      saved =
          base == null
              ? store.authorize(conn.id, issued, lease)
              : store.compareAndSet(conn.id, baseVersion, issued, lease);
    } catch (TombstonedException e) {
      return new Result(superseded(conn, e), false);
    } catch (StaleLeaseException e) {
      return refused(conn, issued, renewedFrom, lease, e);
    } catch (VersionConflictException e) {
      if (e.actualVersion() < baseVersion) {
        // The store went back in time under our lease; ours is the live chain.
        return save(conn, base.withVersion(e.actualVersion()), issued, lease, renewedFrom);
      }
      return refused(conn, issued, renewedFrom, lease, e);
    } catch (RuntimeException e) {
      // Any failure means "not saved": keep the set and the lease until it is saved.
      saver.hold(conn, issued, baseVersion, lease, base == null, e);
      CachedToken c = hot.offer(conn, issued);
      renewedHere(conn);
      return new Result(c, true);
    }
    return new Result(published(conn, saved, TokenEvent.Type.REFRESHED), false);
  }

  /**
   * The store refused, under our lease, the set the platform just issued from version {@code
   * renewedFrom}. A revoke (tombstone) or a new authorization (a version above it) won: ours is
   * dropped. Otherwise the store lost our lease or went back in time — restarted without
   * persistence, restored from an old snapshot, an older set written back by another instance — and
   * ours is the live chain: it is written back above {@code renewedFrom}, newest version wins, as
   * the durable saver does when its lease is lost.
   */
  private Result refused(
      Connection conn, TokenSet issued, long renewedFrom, Lease lease, RuntimeException why) {
    StoredConnection after = null;
    try {
      StoredConnection now = store.read(conn.id);
      if (now.tombstone() == null
          && now.version() <= renewedFrom
          && (now.tokens() == null || !now.tokens().issuedAt().isAfter(issued.issuedAt()))) {
        after = store.restore(conn.id, issued.withVersion(renewedFrom + 1));
      }
    } catch (RuntimeException e) {
      // Not saved: the saver keeps it and decides again when it can read the store.
      saver.hold(conn, issued, renewedFrom, lease, false, e);
      renewedHere(conn);
      if (why instanceof StaleLeaseException) {
        // Whoever took the lease may have revoked the connection: nothing is handed out from this
        // set until the store can say who it was.
        throw storeFailure(
            conn, "lost the renewal lease and cannot read the store", e, issued.withVersion(0));
      }
      CachedToken c = hot.offer(conn, issued);
      return new Result(c, true);
    }
    // Outside the try: a revoke makes superseded() throw, and that is its answer, not a store
    // failure to hand the (dropped) set to the saver for.
    if (after == null || after.tokens() == null || !after.tokens().sameTokensAs(issued)) {
      return new Result(superseded(conn, why), false);
    }
    String message =
        "the store lost the renewal lease or went back in time while the new token set was being"
            + " saved ("
            + why.getMessage()
            + "); wrote it back as version "
            + after.version();
    log.error("connection {}: {}", conn.id, message);
    events.emit(TokenEvent.Type.STORE_RESTORED, conn.id, message, null);
    health.observe(conn, after);
    return new Result(published(conn, after.tokens(), TokenEvent.Type.REFRESHED), false);
  }

  /**
   * The lease was lost before any request was sent. A revoke or a new authorization that seized it
   * won (tombstone, or a newer set); another instance that took it over renews in our place.
   */
  private CachedToken lostLeaseBeforeSending(
      Connection conn, StoredConnection before, StaleLeaseException why) {
    StoredConnection now = reconcile(conn, read(conn));
    if (now.tombstone() == null && now.version() == before.version()) {
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": another instance took over the renewal lease",
          health.snapshot(conn, now.tokens(), false),
          why);
    }
    return superseded(conn, why);
  }

  /**
   * Whether {@code stored}, at a lower version than {@code mine}, was issued after it. Versions and
   * issue times agree unless the store lost a record (and its version counter) and a new
   * authorization was saved since: then the later-issued set is the newest, whatever its version.
   */
  static boolean issuedLater(TokenSet stored, TokenSet mine) {
    return stored.version() < mine.version() && stored.issuedAt().isAfter(mine.issuedAt());
  }

  /** A saved set becomes this instance's current one. */
  CachedToken published(Connection conn, TokenSet saved, TokenEvent.Type type) {
    conn.sawTokens(saved);
    CachedToken c = hot.offer(conn, saved);
    conn.validatedVersion = saved.version();
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

  private void renewedHere(Connection conn) {
    synchronized (conn) {
      conn.lastRenewalAtMillis = clock.millis();
    }
  }

  /** A revoke or new authorization won over this renewal: its set is dropped. */
  private CachedToken superseded(Connection conn, RuntimeException why) {
    log.info(
        "connection {}: renewal superseded, its token set is dropped: {}",
        conn.id,
        why.getMessage());
    StoredConnection now = reconcile(conn, read(conn));
    if (now.tombstone() != null) {
      throw tombstoned(conn, now);
    }
    if (now.tokens() != null
        && !HealthBook.needsPerson(conn, now.version())
        && clock.millis() < conn.policy.expiredAtMillis(now.tokens())) {
      return hot.offer(conn, now.tokens());
    }
    // Nothing valid to hand out: what superseded ours is expired (written back from an older copy
    // after the store lost data); the next renewal starts from it.
    throw new TokenUnavailableException(
        conn.id,
        "connection " + conn.id + ": renewal superseded by another writer",
        health.snapshot(conn, now.tokens(), false),
        why);
  }

  // ------------------------------------------------------------------------------------------

  StoredConnection read(Connection conn) {
    try {
      return store.read(conn.id);
    } catch (RuntimeException e) {
      TokenSet known = conn.newest();
      throw storeFailure(conn, "token store unavailable", e, known);
    }
  }

  private TokenUnavailableException storeFailure(
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
  private @Nullable CachedToken serveable(
      Connection conn, Flight flight, @Nullable TokenSet tokens) {
    if (tokens == null
        || flight.purpose == Flight.Purpose.REFRESH
        || (flight.rejected != null && flight.rejected.equals(tokens.accessToken()))
        || HealthBook.needsPerson(conn, tokens.version())) {
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
  private @Nullable CachedToken serveWhileRenewing(
      Connection conn, Flight flight, @Nullable TokenSet tokens) {
    if (tokens == null
        || flight.purpose != Flight.Purpose.EXPIRED
        || HealthBook.needsPerson(conn, tokens.version())
        || conn.provider.validatesOnLoad() && conn.validatedVersion != tokens.version()
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
  private @Nullable TokenSet validateLoaded(Connection conn, TokenSet tokens) {
    if (!conn.provider.validatesOnLoad() || conn.validatedVersion == tokens.version()) {
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
    conn.validatedVersion = tokens.version();
    return checked;
  }

  private boolean keepAliveDue(Connection conn, TokenSet tokens) {
    Instant at = conn.policy.keepAliveAt(tokens);
    return at != null && !clock.instant().isBefore(at);
  }

  /**
   * Throws when no renewal may be attempted now. An explicit refresh passes holds and backoff, but
   * never the pause after a lost answer: the platform may still be processing that request. {@code
   * cutShortReported}: this renewal has just reported a cut-short one and may try at once.
   */
  private void gate(
      Connection conn, Flight flight, StoredConnection stored, boolean cutShortReported) {
    boolean explicit =
        flight.purpose == Flight.Purpose.REFRESH && !HealthBook.awaitsOutcome(conn, clock.millis());
    if (stored.tombstone() != null && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      throw tombstoned(conn, stored);
    }
    long version = stored.version();
    if (!explicit && HealthBook.needsPerson(conn, version)) {
      throw HealthBook.exception(
          conn, health.snapshot(conn, stored.tokens(), false), conn.lastCause);
    }
    if (!explicit && !cutShortReported && HealthBook.holdsOff(conn, clock.millis())) {
      throw HealthBook.exception(
          conn, health.snapshot(conn, stored.tokens(), false), conn.lastCause);
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

  private static String notAuthorized(Connection conn) {
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
      if (conn.health == null || !reason.equals(conn.health.reason())) {
        conn.health = local;
        conn.healthLocalOnly = false; // the store's tombstone says it: nothing to keep
      }
    }
    return HealthBook.exception(conn, health.snapshot(conn, null, false), null);
  }

  /**
   * Takes the store lease, waiting (bounded) while another instance holds it. Returns null when the
   * other instance saved a newer set meanwhile, so no provider call is needed.
   */
  private @Nullable Lease acquireLease(Connection conn, Flight flight, StoredConnection before) {
    long deadline = System.nanoTime() + leaseWait.toNanos();
    long wait = 10;
    while (true) {
      Lease lease;
      try {
        lease = store.tryAcquireLease(conn.id, owner, leaseTtl, conn.highestFence());
      } catch (RuntimeException e) {
        throw storeFailure(
            conn, "token store unavailable for the renewal lease", e, before.tokens());
      }
      if (lease != null) {
        conn.sawFence(lease.fencingToken());
        return lease;
      }
      StoredConnection now = reconcile(conn, read(conn));
      if (now.version() != before.version() && serveable(conn, flight, now.tokens()) != null) {
        return null;
      }
      if (System.nanoTime() > deadline) {
        return null;
      }
      try {
        pause.sleep(wait); // real time: the holder is another process doing real I/O
      } catch (InterruptedException e) {
        // Only close() interrupts broker threads: give up this wait, touching no health.
        Thread.currentThread().interrupt();
        throw new TokenUnavailableException(
            conn.id,
            "connection " + conn.id + ": broker closing while waiting for the renewal lease",
            health.snapshot(conn, now.tokens(), false),
            e);
      }
      wait = Math.min(wait * 2, 250);
    }
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

  /**
   * The newest set is one the store refused: it holds the live refresh token, and the saver holds
   * the lease, so no other instance renews meanwhile. Served while FRESH; renewed from (under that
   * same lease) when it is not, the new set replacing it in the saver.
   */
  private CachedToken fromUnsaved(Connection conn, Flight flight, DurableSaver.Pending pending) {
    if (saver.saveNow(conn)) {
      return renew(conn, flight); // saved: the normal path from the store
    }
    DurableSaver.Pending current = saver.pending(conn);
    if (current == null) {
      return renew(conn, flight);
    }
    TokenSet set = current.set;
    if (flight.purpose != Flight.Purpose.REFRESH
        && clock.millis() < conn.policy.renewAtMillis(set)
        && (flight.rejected == null || !flight.rejected.equals(set.accessToken()))) {
      return hot.offer(conn, set);
    }
    if (current.lease == null) {
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": its new authorization is not saved yet (store unavailable)",
          health.snapshot(conn, set, true),
          current.lastError);
    }
    try {
      store.markRenewing(current.lease);
    } catch (StaleLeaseException e) {
      // A revoke or a new authorization seized the saver's lease: never renew from (nor serve) a
      // set it may have superseded. The saver finds out, dropping it or writing it back.
      if (saver.saveNow(conn)) {
        return renew(conn, flight);
      }
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": its unsaved token set lost its lease; the store decides",
          health.snapshot(conn, set, true),
          e);
    } catch (RuntimeException e) {
      log.debug("connection {}: renewal marker not written: {}", conn.id, e.getMessage());
    }
    TokenSet issued;
    try {
      issued = callProvider(conn, set, current.baseVersion);
    } catch (Superseded newer) {
      return servedInstead(conn, newer); // the saver finds the newer set and drops its own
    }
    if (!saver.replace(conn, current, issued)) {
      return renew(conn, flight); // saved or superseded meanwhile
    }
    flight.renewed = true;
    renewedHere(conn);
    events.emit(
        TokenEvent.Type.REFRESHED,
        conn.id,
        "new token set "
            + Secrets.fingerprint(issued.accessToken())
            + " renewed from an unsaved set; its save is being retried",
        null);
    return hot.offer(conn, issued);
  }
}
