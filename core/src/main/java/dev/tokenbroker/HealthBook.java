package dev.tokenbroker;

import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health, backoff and the events that go with them. The truth is the {@link HealthRecord} in the
 * store, beside the token set, so that every instance and every one-shot process sees the same
 * state: whoever observes a failure records it; a successful renewal or a new authorization clears
 * it. Records are written by compare-and-set on the connection's health version, and the instance
 * whose write moves a connection to a new state is the one that sends the alert event, so each
 * state change is announced once across all instances. A successful write or clear makes the health
 * version exactly one above the one it named (see {@link TokenStore#compareAndSetHealth}), so this
 * instance's view stays current after its own writes without reading the store again.
 *
 * <p>If the store cannot take the record, this instance keeps it locally and says so in the log.
 */
final class HealthBook {
  private static final Logger log = LoggerFactory.getLogger(HealthBook.class);
  private static final int WRITE_ATTEMPTS = 3;

  private final Clock clock;
  private final TokenStore store;
  private final Events events;
  private final Duration backoffInitial;
  private final Duration backoffMax;

  /** Picks the random half of "equal jitter" from the capped delay; replaceable in tests. */
  private final LongUnaryOperator jitter;

  HealthBook(
      Clock clock,
      TokenStore store,
      Events events,
      Duration backoffInitial,
      Duration backoffMax,
      @Nullable LongUnaryOperator jitter) {
    this.clock = clock;
    this.store = store;
    this.events = events;
    this.backoffInitial = backoffInitial;
    this.backoffMax = backoffMax;
    this.jitter = jitter != null ? jitter : half -> ThreadLocalRandom.current().nextLong(half + 1);
  }

  /**
   * Takes the health record of a store read as this instance's view. A record about an older token
   * set than the one stored (a new authorization or a renewal elsewhere saved a newer set after the
   * failure) is superseded: it is cleared, in the store too.
   */
  void observe(Connection conn, StoredConnection stored) {
    HealthRecord h = stored.health();
    long version = stored.healthVersion();
    if (h != null && stored.tokens() != null && h.tokenVersion() < stored.version()) {
      try {
        if (store.compareAndSetHealth(conn.id, h.version(), null)) {
          version = h.version() + 1; // none stored; the clear moved the version on
        }
      } catch (RuntimeException e) {
        log.debug(
            "connection {}: superseded health record not cleared: {}", conn.id, e.getMessage());
      }
      h = null;
    }
    // Nothing at all in the store (it lost the record): a record this instance holds is not
    // contradicted, only missing there, as if the store had refused it (seed 1551872: an unknown
    // outcome kept only by the lost record and its lease's marker was dropped here, and the set
    // written back was renewed at once while the lost request could still be in process).
    boolean lost = h == null && stored.tokens() == null && stored.tombstone() == null;
    synchronized (conn) {
      HealthRecord mine = conn.health();
      if (mine != null
          && (conn.healthLocalOnly() || lost)
          && HealthRules.weight(mine) > HealthRules.weight(h)
          && HealthRules.weight(mine) >= 2
          && mine.tokenVersion() >= stored.version()
          // A revocation lives in the store as its tombstone: a stored set without one is a new
          // authorization (versions restart after a store lost the record), not the revoked one.
          && !(HealthRules.fromTombstone(mine)
              && stored.tombstone() == null
              && stored.tokens() != null)) {
        // A verdict or an unknown outcome recorded here that the store could not take: a record
        // that says less about the same tokens does not settle it (only a newer set, an answer, or
        // a
        // verdict does). Dropping it would make the next try an ordinary one, or a second
        // deliberate retry of a refresh token the platform already refused.
        conn.setHealthVersion(version);
        conn.setHealthLocalOnly(true); // (if the store lost it, it holds it no more)
        return;
      }
      if (conn.health() != null && h == null) {
        conn.activeSince = clock.instant();
        conn.setLastCause(null);
      }
      conn.setHealthLocalOnly(false);
      conn.setHealth(h);
      conn.setHealthVersion(version);
    }
  }

  /**
   * Records a failure observed by this instance and returns the exception for every caller of the
   * renewal. {@code tokenVersion} is the stored version the failure was seen on.
   */
  TokenUnavailableException failed(Connection conn, Failure f, long tokenVersion) {
    Instant now = clock.instant();
    HealthRecord next = null;
    boolean moved = false;
    for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      HealthRecord previous;
      long expected;
      synchronized (conn) {
        previous = conn.health();
        expected = conn.healthVersion();
      }
      next = nextRecord(previous, f, tokenVersion, conn.newest() != null, now);
      try {
        if (store.compareAndSetHealth(conn.id, expected, next)) {
          moved = previous == null || previous.state() != next.state();
          synchronized (conn) {
            conn.setHealth(next.withVersion(expected + 1));
            conn.setHealthVersion(expected + 1);
            conn.setHealthLocalOnly(false);
          }
          break;
        }
        observe(conn, store.read(conn.id)); // another instance moved it: build on theirs
      } catch (RuntimeException e) {
        log.warn(
            "connection {}: health not recorded in the store, kept here only: {}",
            conn.id,
            e.getMessage());
        synchronized (conn) {
          conn.setHealth(next.withVersion(conn.healthVersion()));
          conn.setHealthLocalOnly(true);
        }
        moved = previous == null || previous.state() != next.state();
        break;
      }
    }
    conn.setLastCause(f.cause);
    HealthRecord recorded = conn.health() != null ? conn.health() : next;
    log.warn("connection {}: {} ({})", conn.id, f.detail, f.reasonCode);
    events.emit(TokenEvent.Type.REFRESH_FAILED, conn.id, f.detail, f.cause);
    if (moved && recorded.state() == Health.State.REAUTHORIZATION_REQUIRED) {
      events.emit(TokenEvent.Type.REAUTHORIZATION_REQUIRED, conn.id, f.detail, f.cause);
    }
    return exception(conn, snapshot(conn, null, false), f.cause);
  }

  /** Clears the record after a successful renewal or a new authorization. */
  void succeeded(Connection conn) {
    HealthRecord previous;
    long expected;
    synchronized (conn) {
      previous = conn.health();
      expected = conn.healthVersion();
    }
    if (previous == null) {
      return;
    }
    boolean moved = false;
    try {
      moved = store.compareAndSetHealth(conn.id, expected, null);
    } catch (RuntimeException e) {
      log.warn("connection {}: could not clear its health record: {}", conn.id, e.getMessage());
    }
    conn.setLastCause(null);
    synchronized (conn) {
      conn.setHealth(null);
      conn.setHealthLocalOnly(false);
      // Cleared: none stored, and the clear made the version expected + 1 (it stays: another
      // writer's next record gets expected + 2, so a write built on this view cannot overwrite it
      // unseen).
      conn.setHealthVersion(moved ? expected + 1 : conn.healthVersion());
      conn.activeSince = clock.instant();
    }
    if (moved) {
      log.info("connection {} is active again", conn.id);
      events.emit(
          TokenEvent.Type.RECOVERED,
          conn.id,
          "active again (was " + previous.state() + ": " + previous.reason() + ")",
          null);
    }
  }

  /**
   * A new authorization (or import) replaced the chain and cleared {@code was}, the health record
   * the store held before: this instance's write did it, so it says so, once.
   */
  void recoveredByAuthorization(Connection conn, @Nullable HealthRecord was) {
    if (was != null) {
      log.info("connection {} is active again (authorized)", conn.id);
      events.emit(
          TokenEvent.Type.RECOVERED,
          conn.id,
          "active again: authorized (was " + was.state() + ": " + was.reason() + ")",
          null);
    }
  }

  /** Forgets the local view after the store cleared it (a new authorization). */
  void clearedInStore(Connection conn) {
    synchronized (conn) {
      conn.setHealth(null);
      conn.setHealthLocalOnly(false);
      conn.activeSince = clock.instant();
    }
  }

  private HealthRecord nextRecord(
      @Nullable HealthRecord previous,
      Failure f,
      long tokenVersion,
      boolean holdsTokens,
      Instant now) {
    int failures = previous == null ? 1 : previous.failures() + 1;
    if (f.state == Health.State.DEGRADED
        && previous != null
        && previous.state() == Health.State.REAUTHORIZATION_REQUIRED
        && (previous.tokenVersion() >= tokenVersion
            || HealthRules.aboutTheStore(f) && !HealthRules.noneHeld(previous))
        // "Nothing is held anywhere" is refuted by this instance holding a set (the store lost
        // the record or went back to before it, perhaps to a copy that carried that very verdict:
        // seed 616730); the set is written back, and until then the store is what failed.
        && !(HealthRules.noneHeld(previous) && holdsTokens)
        && (!"rotation-outcome-unknown".equals(f.reasonCode) || HealthRules.spent(previous))) {
      // A failure that says nothing about the tokens (an explicit refresh's 503, the store) does
      // not undo the verdict that a person must act: automatic renewals would resume and send a
      // refresh token the platform refused. Only a success or a new authorization clears it. An
      // unknown outcome does, unless the refresh token was known spent (nothing could rotate); so
      // does a failure seen on a newer token set than the verdict's (this instance holds a set
      // another one, finding nothing in the store, gave up on) — though a store failure only
      // contradicts a verdict that nobody holds anything: the version it names is what this
      // instance last knew, perhaps from before the store lost the record and a new authorization
      // was saved, and says nothing about the set a verdict was about.
      // An unknown outcome kept under the verdict still holds off every request until the lost
      // one cannot be in process any more, even an explicit refresh (see awaitsOutcome).
      Instant until = previous.nextAttemptAt();
      if ("rotation-outcome-unknown".equals(f.reasonCode) && f.minimumPause != null) {
        Instant pause = now.plus(f.minimumPause);
        until = until == null || pause.isAfter(until) ? pause : until;
      }
      return new HealthRecord(
          previous.state(),
          previous.reason(),
          previous.detail(),
          previous.errorCode(),
          previous.since(),
          until,
          null,
          failures,
          previous.tokenVersion(),
          0);
    }
    // An unknown rotation outcome stays the reason until a refresh is answered: a failure that sent
    // nothing (a 503, the store) does not settle it, the next try is still the one deliberate
    // retry, and its pause is never shortened.
    boolean unsettled =
        f.state == Health.State.DEGRADED
            && previous != null
            && previous.state() == Health.State.DEGRADED
            && "rotation-outcome-unknown".equals(previous.reason());
    Instant since = previous != null && previous.state() == f.state ? previous.since() : now;
    Instant retryAfter =
        f.retryAfter == null ? null : now.plus(min(f.retryAfter, Duration.ofHours(1)));
    Instant nextAttempt = null;
    if (f.state == Health.State.REAUTHORIZATION_REQUIRED && f.minimumPause != null) {
      nextAttempt = now.plus(f.minimumPause); // a lost request may still be in process until then
    }
    if (f.state == Health.State.DEGRADED) {
      long delay = backoffMillis(failures);
      if (f.minimumPause != null) {
        delay = Math.max(delay, f.minimumPause.toMillis());
      }
      nextAttempt = now.plusMillis(delay);
      if (retryAfter != null && retryAfter.isAfter(nextAttempt)) {
        nextAttempt = retryAfter;
      }
      if (unsettled
          && previous.nextAttemptAt() != null
          && previous.nextAttemptAt().isAfter(nextAttempt)) {
        nextAttempt = previous.nextAttemptAt();
      }
    }
    return new HealthRecord(
        f.state,
        unsettled ? previous.reason() : f.reasonCode,
        unsettled ? "rotation outcome still unknown; " + f.detail : f.detail,
        f.errorCode,
        since,
        nextAttempt,
        retryAfter,
        failures,
        // Not lowered by a failure seen with an older view of the tokens (a store read that
        // failed): the record would look superseded and be cleared.
        unsettled ? Math.max(previous.tokenVersion(), tokenVersion) : tokenVersion,
        0);
  }

  /**
   * Doubling from the initial delay with each failure in a row, capped, with "equal jitter": half
   * fixed, half random, so the delay after failure n lies in [d/2, d] for d = min(initial *
   * 2^(n-1), max).
   */
  long backoffMillis(int failures) {
    long base = backoffInitial.toMillis() << Math.min(failures - 1, 20);
    long capped = Math.min(base, backoffMax.toMillis());
    long half = capped / 2;
    return capped - half + jitter.applyAsLong(half);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** The connection's health now, as this instance sees it. */
  Health snapshot(Connection conn, @Nullable TokenSet known, boolean unsaved) {
    HealthRecord h = conn.health();
    long lastRenewal;
    Instant activeSince;
    synchronized (conn) {
      lastRenewal = conn.lastRenewalAtMillis;
      activeSince = conn.activeSince;
    }
    Instant lastRenewalAt =
        lastRenewal >= 0
            ? Instant.ofEpochMilli(lastRenewal)
            : known == null ? null : known.issuedAt(); // by whoever saved the set
    Instant accessExpires = known == null ? null : known.expiresAt();
    Instant refreshExpires = known == null ? null : known.refreshExpiresAt();
    if (h == null) {
      return new Health(
          Health.State.ACTIVE,
          null,
          null,
          null,
          activeSince,
          null,
          0,
          lastRenewalAt,
          accessExpires,
          refreshExpires,
          unsaved);
    }
    return new Health(
        h.state(),
        h.reason(),
        h.detail(),
        h.errorCode(),
        h.since(),
        h.state() == Health.State.DEGRADED ? h.nextAttemptAt() : null,
        h.failures(),
        lastRenewalAt,
        accessExpires,
        refreshExpires,
        unsaved);
  }

  /** The exception a caller gets for {@code health}. */
  static TokenUnavailableException exception(
      Connection conn, Health health, @Nullable Throwable cause) {
    if (health.state() == Health.State.REAUTHORIZATION_REQUIRED) {
      return new ReauthorizationRequiredException(conn.id, health, cause);
    }
    return new TokenUnavailableException(
        conn.id,
        "connection "
            + conn.id
            + " has no valid token: "
            + health.reason()
            + (health.nextAttemptAt() == null ? "" : "; next attempt at " + health.nextAttemptAt()),
        health,
        cause);
  }
}
