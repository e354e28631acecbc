package dev.tokenbroker;

import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token sets the platform issued but the store would not take. Each keeps the lease it was made
 * under, extended before every attempt, so no other instance renews from the older stored set (and
 * spends a dead refresh token) meanwhile; it is served while FRESH and its save is retried with
 * backoff until it succeeds, the broker closes, or a new authorization or a revoke supersedes it.
 * Every failed attempt is logged by connection and the first one sent as an event: a retry never
 * dies silently.
 */
final class DurableSaver {
  private static final Logger log = LoggerFactory.getLogger(DurableSaver.class);

  /** What the saver needs of the rest of the engine once a set is saved. */
  interface Saved {
    /** {@code mayBeSpent}: a refresh from {@code saved} lost its answer while it was unsaved. */
    void saved(Connection conn, TokenSet saved, boolean mayBeSpent);
  }

  private final Clock clock;
  private final TokenStore store;
  private final Events events;
  private final ScheduledExecutorService scheduler;
  private final String owner;
  private final Duration leaseTtl;
  private final Duration backoffInitial;
  private final Duration backoffMax;
  private final Map<Connection, UnsavedSet> pending = new ConcurrentHashMap<>();
  private @Nullable Saved onSaved;
  private volatile boolean closed;

  DurableSaver(
      Clock clock,
      TokenStore store,
      Events events,
      ScheduledExecutorService scheduler,
      String owner,
      Duration leaseTtl,
      Duration backoffInitial,
      Duration backoffMax) {
    this.clock = clock;
    this.store = store;
    this.events = events;
    this.scheduler = scheduler;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
    this.backoffInitial = backoffInitial;
    this.backoffMax = backoffMax;
  }

  /** Set once while the engine is assembled (the saver and the renewal refer to each other). */
  void onSaved(Saved onSaved) {
    this.onSaved = onSaved;
  }

  /** The unsaved set of {@code conn}, or null. */
  @Nullable UnsavedSet pending(Connection conn) {
    return pending.get(conn);
  }

  /**
   * Whether an authorization completed here after {@code revoked} waits to be saved: it wins over
   * that revocation.
   */
  boolean authorizedAfter(Connection conn, Tombstone revoked) {
    UnsavedSet p = pending.get(conn);
    return p != null && p.authorization && revoked.at().isBefore(p.heldAt);
  }

  /** Whether any set is unsaved. */
  boolean isEmpty() {
    return pending.isEmpty();
  }

  /**
   * Takes over {@code set}, which the store refused with {@code error}, with the lease it was made
   * under (null for a new authorization made while the store was unreachable: a lease is seized at
   * the first retry). Retries start at once in the background. {@code baseVersion}: the stored
   * version the set replaces (0: the store held nothing); {@code renewedFrom}: the set it was
   * renewed from, which a store that took it back after all may hold (ours replaces it).
   */
  void hold(
      Connection conn,
      TokenSet set,
      long baseVersion,
      @Nullable Lease lease,
      boolean authorization,
      Throwable error,
      Instant requestedAt,
      @Nullable TokenSet renewedFrom) {
    UnsavedSet p =
        UnsavedSet.first(
            set,
            baseVersion,
            lease,
            authorization,
            error,
            renewedFrom,
            clock.instant(),
            requestedAt);
    pending.put(conn, p);
    log.warn(
        "connection {}: could not save the new token set; keeping it in memory with the renewal"
            + " lease and retrying: {}",
        conn.id,
        error.getMessage());
    events.emit(
        TokenEvent.Type.SAVE_FAILED,
        conn.id,
        "new token set kept in memory with its lease, save will be retried: " + error.getMessage(),
        error);
    schedule(conn, p, 0);
  }

  /**
   * Replaces {@code old}'s set with {@code newer}, renewed from it under the same lease while the
   * store was still refusing saves. False if {@code old} is no longer the pending set.
   */
  boolean replace(Connection conn, UnsavedSet old, TokenSet newer, Instant requestedAt) {
    UnsavedSet next = old.renewedTo(newer, requestedAt);
    if (!pending.replace(conn, old, next)) {
      return false;
    }
    schedule(conn, next, 0);
    return true;
  }

  /**
   * Records that a refresh from {@code p}'s set lost its answer, if it is still the pending one.
   */
  void mayBeSpent(Connection conn, UnsavedSet p) {
    UnsavedSet next = p.spent();
    if (pending.replace(conn, p, next)) {
      schedule(conn, next, delay(next.attempts)); // the retry scheduled for p stops at the swap
    }
  }

  /** Forgets {@code conn}'s unsaved set: a new authorization or a revoke replaced it. */
  void drop(Connection conn) {
    UnsavedSet p = pending.remove(conn);
    if (p != null) {
      log.info("connection {}: an unsaved token set was superseded and dropped", conn.id);
    }
  }

  /**
   * One save attempt now, of whatever is pending; true if nothing is left unsaved for {@code conn}.
   * Synchronized like {@link #attempt}: a background retry cannot replace the pending record
   * between the look and the attempt (which would then find its record stale and report "not
   * saved").
   */
  synchronized boolean saveNow(Connection conn) {
    UnsavedSet p = pending.get(conn);
    if (p == null || attempt(conn, p)) {
      return true;
    }
    // The failed attempt replaced the record (with its count, error and lease): the retry queued
    // for the old one stops at the swap, so this one gets its own, or retries would end here and
    // the lease lapse with the set unsaved.
    UnsavedSet next = pending.get(conn);
    if (next != null) {
      schedule(conn, next, delay(next.attempts));
    }
    return false;
  }

  /** Queues a retry of {@code p}, unless one is queued already. */
  private void schedule(Connection conn, UnsavedSet p, long delayMillis) {
    if (closed || !p.retryQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      scheduler.schedule(() -> retry(conn, p), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      p.retryQueued.set(false);
      log.error("connection {}: save retries stopped with an unsaved token set", conn.id);
    }
  }

  private void retry(Connection conn, UnsavedSet p) {
    p.retryQueued.set(false);
    try {
      if (pending.get(conn) != p) {
        return; // saved, superseded, or replaced by a newer record (which has its own retry)
      }
      if (!attempt(conn, p)) {
        UnsavedSet next = pending.get(conn);
        if (next != null) {
          schedule(conn, next, delay(next.attempts));
        }
      }
    } catch (Throwable t) {
      // Never die silently: report and try again later.
      log.error("connection {}: save retry failed unexpectedly: {}", conn.id, t.toString());
      UnsavedSet next = pending.get(conn);
      if (next != null) {
        schedule(conn, next, delay(next.attempts));
      }
    }
  }

  /** Retries come well inside the lease, so it never lapses between two extensions. */
  private long delay(int attempts) {
    long backoff = backoffInitial.toMillis() << Math.min(Math.max(attempts - 1, 0), 20);
    return Math.min(Math.min(backoff, backoffMax.toMillis()), leaseTtl.toMillis() / 3);
  }

  /** Extends the lease and saves; true if saved (or superseded). */
  private synchronized boolean attempt(Connection conn, UnsavedSet p) {
    if (pending.get(conn) != p) {
      return !pending.containsKey(conn);
    }
    Lease lease = p.lease;
    TokenSet saved;
    try {
      if (lease == null) {
        // Seizing overrides whoever holds the lease: look first, so that an authorization that
        // lost already does not cut another holder's renewal short.
        if (p.authorization && supersededWhileLeaseless(conn, p, store.read(conn.id))) {
          return true;
        }
        Lease seized = store.seizeLease(conn.id, owner, leaseTtl, conn.highestFence());
        conn.sawFence(seized.fencingToken());
        if (p.authorization) {
          // Again under the seized lease: a write may have landed between the look and the seize.
          StoredConnection now;
          try {
            now = store.read(conn.id);
          } catch (RuntimeException e) {
            releaseUnlessCutShort(seized); // (the next attempt seizes and reads again)
            throw e;
          }
          if (supersededWhileLeaseless(conn, p, now)) {
            releaseUnlessCutShort(seized);
            return true;
          }
        }
        lease = seized;
      } else {
        Lease extended = store.extendLease(lease, leaseTtl);
        if (extended == null) {
          return lostLease(conn, p);
        }
        lease = extended;
      }
      conn.sawFence(lease.fencingToken());
      TokenSet held = p.mayBeSpent ? store.read(conn.id).tokens() : null;
      if (held != null && held.sameTokensAs(p.set)) {
        // Taken already by a save whose reply was lost. Saving it again would clear the marker of
        // the request that lost its answer — the store's only report of it (seed 14483).
        saved = held;
      } else {
        saved =
            p.authorization
                ? store.authorize(conn.id, p.set, lease)
                : store.compareAndSet(conn.id, p.baseVersion, p.set, lease);
      }
    } catch (StaleLeaseException | TombstonedException e) {
      return lostLease(conn, p);
    } catch (VersionConflictException e) {
      if (e.actualVersion() < p.baseVersion) {
        // The store went back in time: save over what it holds now.
        pending.replace(conn, p, p.under(e.actualVersion(), lease, e));
        return false;
      }
      return lostLease(conn, p);
    } catch (RuntimeException e) {
      if (p.mayBeSpent && lease != null) {
        // The save may have been applied all the same (only its reply lost), clearing the marker
        // of the request that lost its answer: put it back, or a holder after this lease lapses
        // would renew as if nothing had been sent (seed 14483).
        try {
          store.markRenewing(lease);
        } catch (RuntimeException again) {
          // The next attempt tries again.
        }
      }
      UnsavedSet next = p.failed(lease, e);
      pending.replace(conn, p, next);
      log.warn(
          "connection {}: save attempt {} of the unsaved token set failed: {}",
          conn.id,
          next.attempts,
          e.getMessage());
      return false;
    }
    pending.remove(conn, p);
    if (!p.mayBeSpent) {
      releaseQuietly(lease);
    }
    log.info("connection {}: unsaved token set saved after {} attempt(s)", conn.id, p.attempts);
    events.emit(
        TokenEvent.Type.SAVE_RECOVERED,
        conn.id,
        "token set saved after " + p.attempts + " attempt(s)",
        null);
    if (onSaved != null) {
      onSaved.saved(conn, saved, p.mayBeSpent);
    }
    // A set whose refresh lost its answer: the save cleared the lease's marker and the stored
    // health record (it is a new version). Until the store holds the unknown outcome again, the
    // lease stays, marked, so the next holder anywhere reports it (seed 26465).
    if (p.mayBeSpent) {
      HealthRules.LeaseAfterUnknown after = HealthRules.leaseAfterUnknown(store, conn, lease);
      if (after == HealthRules.LeaseAfterUnknown.RELEASE) {
        releaseQuietly(lease);
      } else if (after == HealthRules.LeaseAfterUnknown.MARK_FAILED) {
        scheduleMark(conn, lease, 1);
      }
    }
    return true;
  }

  /**
   * Whether what the store holds, read by an unsaved authorization that has to seize the lease
   * again, won over it: a revocation made after it completed (as it would have had the
   * authorization been saved at once), or a set another writer issued after it — a newer
   * authorization (seed 100333: an older one, saved late, wrote over it), or a renewal of one. The
   * seize itself overrides every lease, so the store's content is all there is to go by.
   */
  private boolean supersededWhileLeaseless(Connection conn, UnsavedSet p, StoredConnection now) {
    Tombstone revoked = now.tombstone();
    if (revoked != null && !revoked.at().isBefore(p.heldAt)) {
      pending.remove(conn, p);
      log.warn(
          "connection {}: an unsaved authorization was revoked before it could be saved; dropped",
          conn.id);
      return true;
    }
    TokenSet stored = now.tokens();
    if (stored != null
        && !stored.sameTokensAs(p.set)
        && !p.descendsFrom(stored)
        && stored.issuedAt().isAfter(p.newerThan())) {
      pending.remove(conn, p);
      log.warn(
          "connection {}: an unsaved authorization was superseded by a newer one before it could be"
              + " saved; dropped",
          conn.id);
      return true;
    }
    return false;
  }

  /**
   * The lease is gone: a revoke or a new authorization seized it (the set is superseded), or it was
   * taken over after it lapsed. Whatever the store now holds is newer than our base; if it holds
   * nothing newer, ours is written back as the newest set.
   */
  private boolean lostLease(Connection conn, UnsavedSet p) {
    StoredConnection now;
    try {
      now = store.read(conn.id);
    } catch (RuntimeException e) {
      return false; // try again later
    }
    Tombstone revoked = now.tombstone();
    if (p.authorization && revoked != null && revoked.at().isBefore(p.heldAt)) {
      // The tombstone predates this authorization: whoever seized the lease (a revoke that then
      // failed, say) wrote nothing newer. The authorization still wins over the old revocation:
      // the next attempt seizes the lease again, unless a newer tombstone is there by then.
      pending.replace(conn, p, p.under(p.baseVersion, null, p.lastError));
      return false;
    }
    // A set ours was renewed from (however many renewals back while unsaved), saved after all
    // (its save failed only in the reply), is not a newer write: ours replaces it (seed 8062).
    boolean predecessor = p.descendsFrom(now.tokens());
    if (now.tombstone() == null
        && (now.version() <= p.baseVersion || predecessor)
        // (an unsaved set has no version: only the times say which is newer. A set issued after
        // the one ours was renewed from is another writer's, who took the lease — a new
        // authorization, perhaps at a lower version after the store lost the record — while an
        // older one is a write-back our set outranks.)
        && (now.tokens() == null || !now.tokens().issuedAt().isAfter(p.newerThan()))) {
      try {
        now = store.restore(conn.id, p.set.withVersion(Math.max(p.baseVersion, now.version()) + 1));
        if (now.tokens() != null && now.tokens().sameTokensAs(p.set)) {
          pending.remove(conn, p);
          events.emit(
              TokenEvent.Type.SAVE_RECOVERED,
              conn.id,
              "token set written back after its lease was lost",
              null);
          if (onSaved != null) {
            onSaved.saved(conn, now.tokens(), p.mayBeSpent);
          }
          return true;
        }
      } catch (RuntimeException e) {
        return false;
      }
    }
    pending.remove(conn, p);
    log.warn(
        "connection {}: the unsaved token set was superseded by a newer write and dropped",
        conn.id);
    return true;
  }

  /**
   * Keeps {@code lease} and retries marking it until the store takes the marker — the only report,
   * then, that the saved set's refresh token may be spent — or the lease is gone (it lapsed, or a
   * revoke or new authorization seized it: either way the next holder decides).
   */
  private void scheduleMark(Connection conn, Lease lease, int attempts) {
    if (closed) {
      return;
    }
    try {
      scheduler.schedule(
          () -> markAgain(conn, lease, attempts), delay(attempts), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      log.error("connection {}: could not mark its lease after an unknown outcome", conn.id);
    }
  }

  private void markAgain(Connection conn, Lease lease, int attempts) {
    Lease held = lease;
    try {
      held = store.extendLease(lease, leaseTtl);
      if (held == null) {
        return;
      }
      store.markRenewing(held);
      log.info("connection {}: lease marked after an unknown outcome", conn.id);
    } catch (RuntimeException e) {
      scheduleMark(conn, held != null ? held : lease, attempts + 1);
    }
  }

  /**
   * Gives back a lease seized for an authorization that did not save, unless its grant reported a
   * renewal cut short: released, that marker — the store's only report that the stored refresh
   * token may be spent — would be cleared, and the next holder would send it as an ordinary renewal
   * (seed 493522). Left alone, the lease lapses with its marker, as {@link Revoker} leaves it.
   */
  private void releaseUnlessCutShort(Lease seized) {
    if (seized.renewalCutShortAt() == null) {
      releaseQuietly(seized);
    }
  }

  private void releaseQuietly(Lease lease) {
    try {
      store.releaseLease(lease);
    } catch (RuntimeException e) {
      log.warn(
          "connection {}: could not release the lease: {}", lease.connection(), e.getMessage());
    }
  }

  /** Last save attempt for every unsaved set; reports, by connection, any still unsaved. */
  void close() {
    closed = true;
    for (Connection conn : pending.keySet()) {
      if (!saveNow(conn)) {
        log.error(
            "connection {}: closing with a token set that could not be saved; its lease expires"
                + " in {}",
            conn.id,
            leaseTtl);
      }
    }
  }
}
