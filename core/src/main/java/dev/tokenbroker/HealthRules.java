package dev.tokenbroker;

import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a health record means for the engine: how much it says, whether a request must wait for an
 * unknown outcome or hold off for a backoff, whether a person must act, and what becomes of a lease
 * after an unknown outcome. Pure rules over records and a connection's view; {@link HealthBook}
 * keeps and writes the records.
 */
final class HealthRules {
  private static final Logger log = LoggerFactory.getLogger(HealthRules.class);

  private HealthRules() {}

  /**
   * After a renewal ended with an unknown rotation outcome (an answer lost, or a cut-short renewal
   * reported), or with the verdict of the deliberate retry that followed one — or after the durable
   * saver stored a set whose refresh lost its answer while it was unsaved —, that the store did not
   * take as the health record: the lease is not released but left, marked, to expire, so whoever
   * holds the connection next learns of it from the lease itself. Otherwise nobody else would know,
   * and the next renewal would send a possibly spent refresh token as an ordinary one.
   *
   * @return what to do with {@code lease}
   */
  static LeaseAfterUnknown leaseAfterUnknown(TokenStore store, Connection conn, Lease lease) {
    HealthRecord mine = conn.health();
    if (mine == null || !"rotation-outcome-unknown".equals(mine.reason())) {
      // (DEGRADED: an unknown outcome; needing a person: the deliberate retry's)
      return LeaseAfterUnknown.RELEASE;
    }
    try {
      HealthRecord stored = store.read(conn.id).health();
      if (stored != null
          && "rotation-outcome-unknown".equals(stored.reason())
          // As much as this instance's record says: an earlier unknown outcome (DEGRADED, one
          // deliberate try left) does not report that the deliberate try was made and lost, nor
          // the pause after it (seed 1304382: the next instance sent the same refresh token at
          // once, while that try may still have been in process).
          && weight(stored) >= weight(mine)
          && !isBefore(stored.nextAttemptAt(), mine.nextAttemptAt())) {
        return LeaseAfterUnknown.RELEASE;
      }
    } catch (RuntimeException e) {
      // Unknown: mark it anyway.
    }
    log.warn(
        "connection {}: the unknown rotation outcome is not in the store's health record; the"
            + " renewal lease is left to expire with its marker",
        conn.id);
    try {
      // (Marked already if a request was sent under it; not after a save, which clears the mark.)
      store.markRenewing(lease);
      return LeaseAfterUnknown.LEFT_MARKED;
    } catch (RuntimeException e) {
      return LeaseAfterUnknown.MARK_FAILED;
    }
  }

  /** Whether {@code a} is before {@code b}; no instant (null) is before any. */
  private static boolean isBefore(@Nullable Instant a, @Nullable Instant b) {
    return b != null && (a == null || a.isBefore(b));
  }

  /** What becomes of a lease after an unknown rotation outcome; see {@link #leaseAfterUnknown}. */
  enum LeaseAfterUnknown {
    /** The store's health record tells of it: the lease may go. */
    RELEASE,
    /** Kept, marked, to expire. */
    LEFT_MARKED,
    /** Kept; the marker could not be written now (after a request, it is there already). */
    MARK_FAILED
  }

  /** Whether {@code h} says no instance holds any tokens (nothing stored, nothing held). */
  static boolean noneHeld(HealthRecord h) {
    return "not-authorized".equals(h.reason()) || "store-lost-record".equals(h.reason());
  }

  static boolean fromTombstone(HealthRecord h) {
    return "revoked".equals(h.reason()) || "unlinked".equals(h.reason());
  }

  /** How much a record says: none, DEGRADED, an unknown outcome, a person must act. */
  static int weight(@Nullable HealthRecord h) {
    if (h == null) {
      return 0;
    }
    if (h.state() == Health.State.REAUTHORIZATION_REQUIRED) {
      return 3;
    }
    return unsettled(h) ? 2 : 1;
  }

  /** Whether {@code h} is an unknown rotation outcome not yet settled by an answer. */
  static boolean unsettled(@Nullable HealthRecord h) {
    return h != null
        && h.state() == Health.State.DEGRADED
        && "rotation-outcome-unknown".equals(h.reason());
  }

  /** REAUTHORIZATION_REQUIRED for the stored version (a newer stored set supersedes it). */
  static boolean needsPerson(Connection conn, long storedVersion) {
    HealthRecord h = conn.health();
    return h != null
        && h.state() == Health.State.REAUTHORIZATION_REQUIRED
        && h.tokenVersion() >= storedVersion;
  }

  /**
   * Whether a refresh whose answer was lost may still be in process at the platform: until its
   * pause is over no request may be sent, not even for an explicit refresh.
   */
  static boolean awaitsOutcome(Connection conn, long nowMillis) {
    HealthRecord h = conn.health();
    // Also after the deliberate retry's own answer was lost (REAUTHORIZATION_REQUIRED): that
    // request may be in process too, and an explicit refresh would race it.
    // A verdict's next attempt is set only while a lost request may be in process.
    return h != null
        && ("rotation-outcome-unknown".equals(h.reason())
            || h.state() == Health.State.REAUTHORIZATION_REQUIRED)
        && h.nextAttemptAt() != null
        && nowMillis < h.nextAttemptAt().toEpochMilli();
  }

  /**
   * Whether an automatic renewal must wait (backoff, Retry-After) or give up (a person must act).
   */
  static boolean holdsOff(Connection conn, long nowMillis) {
    HealthRecord h = conn.health();
    if (h == null) {
      return false;
    }
    if (h.state() == Health.State.REAUTHORIZATION_REQUIRED) {
      return true;
    }
    Instant next = h.nextAttemptAt();
    return next != null && nowMillis < next.toEpochMilli();
  }

  /** Whether {@code f} is the store's failure, saying nothing about the tokens. */
  static boolean aboutTheStore(Failure f) {
    return "store-unavailable".equals(f.reasonCode) || "lease-busy".equals(f.reasonCode);
  }

  /** Whether {@code h} says the stored refresh token itself is dead. */
  static boolean spent(HealthRecord h) {
    return "refresh-token-rejected".equals(h.reason())
        || "rotation-outcome-unknown".equals(h.reason());
  }
}
