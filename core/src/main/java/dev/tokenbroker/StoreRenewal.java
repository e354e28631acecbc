package dev.tokenbroker;

import dev.tokenbroker.spi.Secrets;
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
  private final Pause pause;
  private final StoreView view;
  private final ProviderCall calls;

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
      Pause pause,
      StoreView view,
      ProviderCall calls) {
    this.clock = clock;
    this.store = store;
    this.hot = hot;
    this.health = health;
    this.saver = saver;
    this.events = events;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
    this.leaseWait = leaseWait;
    this.pause = pause;
    this.view = view;
    this.calls = calls;
  }

  /** Runs {@code flight}'s renewal; returns the token the flight hands out. */
  CachedToken renew(Connection conn, Flight flight) {
    UnsavedSet pending = saver.pending(conn);
    if (pending != null) {
      return fromUnsaved(conn, flight, pending);
    }
    StoredConnection stored = view.reconcile(conn, view.read(conn));
    CachedToken served = view.serveable(conn, flight, stored.tokens());
    if (served != null) {
      return served;
    }
    served = view.serveWhileRenewing(conn, flight, stored.tokens());
    view.gate(conn, flight, stored, false);
    Lease lease = acquireLease(conn, flight, stored);
    if (lease == null) {
      // Another instance renewed while we waited for its lease.
      StoredConnection now = view.reconcile(conn, view.read(conn));
      CachedToken c = view.serveable(conn, flight, now.tokens());
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
      handedOver =
          HealthRules.leaseAfterUnknown(store, conn, lease)
              != HealthRules.LeaseAfterUnknown.RELEASE;
      throw e;
    } finally {
      if (!handedOver) {
        view.release(lease);
      }
    }
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
      calls.cutShort(conn, lease.renewalCutShortAt());
    }
    StoredConnection stored = view.reconcile(conn, view.read(conn));
    if (stored.version() != before.version()) {
      // Someone saved a newer set between our first read and the lease: use it if it is good.
      CachedToken c = view.serveable(conn, flight, stored.tokens());
      if (c != null) {
        return new Result(c, false);
      }
    }
    // A cut-short renewal just reported, its pause over: the one try follows now, not after the
    // backoff of the record that reported it.
    view.gate(conn, flight, stored, reported);
    TokenSet base = stored.tokens();
    if (flight.purpose == Flight.Purpose.KEEP_ALIVE
        && base != null
        && !view.keepAliveDue(conn, base)) {
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
      throw view.storeFailure(conn, "could not start the renewal in the store", e, base);
    }
    TokenSet issued;
    Instant sentAt = clock.instant();
    try {
      issued = calls.call(conn, base);
    } catch (ProviderCall.Superseded newer) {
      return new Result(servedInstead(conn, newer), false);
    }
    Result r = save(conn, base, issued, lease, sentAt);
    if (r.token.tokenSet().sameTokensAs(issued)) {
      flight.renewed = true; // saved, or kept unsaved: not superseded by another writer's set
    }
    return r;
  }

  /** What a renewal that failed after a newer set was saved hands out: that set, if valid. */
  private CachedToken servedInstead(Connection conn, ProviderCall.Superseded newer) {
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

  /** The fenced save; a set the store would not take goes to the durable saver with the lease. */
  private Result save(
      Connection conn, @Nullable TokenSet base, TokenSet issued, Lease lease, Instant sentAt) {
    return save(conn, base, issued, lease, base == null ? 0 : base.version(), sentAt);
  }

  /** {@code renewedFrom}: the version {@code issued} was renewed from, whatever base now says. */
  private Result save(
      Connection conn,
      @Nullable TokenSet base,
      TokenSet issued,
      Lease lease,
      long renewedFrom,
      Instant sentAt) {
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
      return refused(conn, issued, base, renewedFrom, lease, e, sentAt);
    } catch (VersionConflictException e) {
      if (e.actualVersion() < baseVersion) {
        // The store went back in time under our lease; ours is the live chain.
        return save(conn, base.withVersion(e.actualVersion()), issued, lease, renewedFrom, sentAt);
      }
      return refused(conn, issued, base, renewedFrom, lease, e, sentAt);
    } catch (RuntimeException e) {
      // Any failure means "not saved": keep the set and the lease until it is saved.
      saver.hold(conn, issued, baseVersion, lease, base == null, e, sentAt, base);
      CachedToken c = hot.offer(conn, issued);
      view.renewedHere(conn);
      return new Result(c, true);
    }
    return new Result(view.published(conn, saved, TokenEvent.Type.REFRESHED), false);
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
      Connection conn,
      TokenSet issued,
      @Nullable TokenSet base,
      long renewedFrom,
      Lease lease,
      RuntimeException why,
      Instant sentAt) {
    Instant newerThan = base != null ? base.issuedAt() : sentAt;
    StoredConnection after = null;
    try {
      StoredConnection now = store.read(conn.id);
      // The set ours was renewed from, written back at another version, is not a newer write.
      boolean predecessor = base != null && now.tokens() != null && now.tokens().sameTokensAs(base);
      if (now.tombstone() == null
          && (now.version() <= renewedFrom || predecessor)
          // a set issued after the one ours was renewed from is another writer's (a new
          // authorization, perhaps at a lower version after the store lost the record)
          && (now.tokens() == null || !now.tokens().issuedAt().isAfter(newerThan))) {
        after =
            store.restore(conn.id, issued.withVersion(Math.max(renewedFrom, now.version()) + 1));
      }
    } catch (RuntimeException e) {
      // Not saved: the saver keeps it and decides again when it can read the store.
      saver.hold(conn, issued, renewedFrom, lease, false, e, sentAt, base);
      view.renewedHere(conn);
      if (why instanceof StaleLeaseException) {
        // Whoever took the lease may have revoked the connection: nothing is handed out from this
        // set until the store can say who it was.
        throw view.storeFailure(
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
    return new Result(view.published(conn, after.tokens(), TokenEvent.Type.REFRESHED), false);
  }

  /**
   * The lease was lost before any request was sent. A revoke or a new authorization that seized it
   * won (tombstone, or a newer set); another instance that took it over renews in our place.
   */
  private CachedToken lostLeaseBeforeSending(
      Connection conn, StoredConnection before, StaleLeaseException why) {
    StoredConnection now = view.reconcile(conn, view.read(conn));
    if (now.tombstone() == null && now.version() == before.version()) {
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": another instance took over the renewal lease",
          health.snapshot(conn, now.tokens(), false),
          why);
    }
    return superseded(conn, why);
  }

  /** A revoke or new authorization won over this renewal: its set is dropped. */
  private CachedToken superseded(Connection conn, RuntimeException why) {
    log.info(
        "connection {}: renewal superseded, its token set is dropped: {}",
        conn.id,
        why.getMessage());
    StoredConnection now = view.reconcile(conn, view.read(conn));
    if (now.tombstone() != null) {
      throw view.tombstoned(conn, now);
    }
    if (now.tokens() != null
        && !HealthRules.needsPerson(conn, now.version())
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
        throw view.storeFailure(
            conn, "token store unavailable for the renewal lease", e, before.tokens());
      }
      if (lease != null) {
        conn.sawFence(lease.fencingToken());
        return lease;
      }
      StoredConnection now = view.reconcile(conn, view.read(conn));
      if (now.version() != before.version() && view.serveable(conn, flight, now.tokens()) != null) {
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

  /** Whether {@code e} reports a request whose answer was lost (the platform may have rotated). */
  private static boolean answerLost(TokenUnavailableException e) {
    return e.getCause() instanceof TokenEndpointException t
        && t.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN;
  }

  /**
   * The newest set is one the store refused: it holds the live refresh token, and the saver holds
   * the lease, so no other instance renews meanwhile. Served while FRESH; renewed from (under that
   * same lease) when it is not, the new set replacing it in the saver.
   */
  private CachedToken fromUnsaved(Connection conn, Flight flight, UnsavedSet pending) {
    if (saver.saveNow(conn)) {
      return renew(conn, flight); // saved: the normal path from the store
    }
    UnsavedSet current = saver.pending(conn);
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
    if (HealthRules.awaitsOutcome(conn, clock.millis())) {
      // As on the path from the store (see StoreView.gate): not even an explicit refresh is sent
      // while a request whose answer was lost may still be in process (seed 652613).
      throw HealthBook.exception(conn, health.snapshot(conn, set, true), conn.lastCause());
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
      // Nothing is sent unless the store knows a request is on its way: if this instance then
      // closed or crashed with the answer unsaved, the marker is the only report that the stored
      // refresh token may be spent. The unsaved set is still served while it is valid.
      throw view.storeFailure(conn, "could not start the renewal in the store", e, set);
    }
    TokenSet issued;
    Instant sentAt = clock.instant();
    try {
      issued = calls.call(conn, set, current.baseVersion);
    } catch (ProviderCall.Superseded newer) {
      return servedInstead(conn, newer); // the saver finds the newer set and drops its own
    } catch (TokenUnavailableException e) {
      if (HealthRules.unsettled(conn.health()) || answerLost(e)) {
        // The answer was lost: when the saver stores this set, it must say so, not "renewed".
        // Read from the failure itself too: the health this instance holds may be the store's
        // record about the chain an unsaved authorization replaces, which outranks a failure on
        // the new chain (seed 1389769).
        saver.mayBeSpent(conn, current);
      }
      throw e;
    }
    if (!saver.replace(conn, current, issued, sentAt)) {
      return renew(conn, flight); // saved or superseded meanwhile
    }
    flight.renewed = true;
    view.renewedHere(conn);
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
