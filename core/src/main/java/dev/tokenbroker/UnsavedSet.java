package dev.tokenbroker;

import dev.tokenbroker.store.Lease;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A token set the {@link DurableSaver} holds because the store would not take it: the lease it was
 * made under, what it was renewed from while unsaved, and whether a refresh from it lost its
 * answer. Immutable; replaced as a whole.
 */
final class UnsavedSet {
  final TokenSet set;
  final long baseVersion;
  final @Nullable Lease lease;
  final boolean authorization;
  final int attempts;
  final @Nullable Throwable lastError;

  /**
   * The set this one was renewed from, if known: a stored or unsaved set (see {@link #replace}), or
   * this instance's own when the store had lost the record.
   */
  final @Nullable TokenSet renewedFrom;

  /**
   * Every set this one descends from through renewals made while unsaved under the same lease,
   * oldest first ({@link #renewedFrom} last). A store that took one of them after all (a save whose
   * reply was lost) holds an ancestor: ours replaces it, however many renewals back.
   */
  final List<TokenSet> ancestors;

  /**
   * When the set was first held: for an authorization, when it completed. A revocation that wrote
   * its tombstone before then is older than the authorization, which wins over it.
   */
  final Instant heldAt;

  /**
   * A refresh from this set lost its answer: its refresh token may be spent. Saved all the same (it
   * is the newest set known), but reported as an unknown outcome, not as a success.
   */
  final boolean mayBeSpent;

  /**
   * When the request that produced {@link #set} was sent (for an authorization, the set's issue
   * time). A set issued after it by someone else, found when the lease was lost, won.
   */
  final Instant requestedAt;

  /**
   * Whether a retry of this record is queued: each record has at most one, whoever schedules it (a
   * failed retry, a failed {@code saveNow} from a renewal, a replacement).
   */
  final AtomicBoolean retryQueued = new AtomicBoolean();

  private UnsavedSet(
      TokenSet set,
      long baseVersion,
      @Nullable Lease lease,
      boolean authorization,
      int attempts,
      @Nullable Throwable lastError,
      @Nullable TokenSet renewedFrom,
      List<TokenSet> ancestors,
      Instant heldAt,
      boolean mayBeSpent,
      Instant requestedAt) {
    this.ancestors = ancestors;
    this.set = set;
    this.baseVersion = baseVersion;
    this.lease = lease;
    this.authorization = authorization;
    this.attempts = attempts;
    this.lastError = lastError;
    this.renewedFrom = renewedFrom;
    this.heldAt = heldAt;
    this.mayBeSpent = mayBeSpent;
    this.requestedAt = requestedAt;
  }

  /**
   * The first record of {@code set}, after its first save failed with {@code error}: one attempt
   * made, held since {@code heldAt}.
   */
  static UnsavedSet first(
      TokenSet set,
      long baseVersion,
      @Nullable Lease lease,
      boolean authorization,
      Throwable error,
      @Nullable TokenSet renewedFrom,
      Instant heldAt,
      Instant requestedAt) {
    return new UnsavedSet(
        set.withVersion(0),
        baseVersion,
        lease,
        authorization,
        1,
        error,
        renewedFrom,
        renewedFrom == null ? List.of() : List.of(renewedFrom),
        heldAt,
        false,
        requestedAt);
  }

  /** Whether {@code stored} is one of the sets this one descends from while unsaved. */
  boolean descendsFrom(@Nullable TokenSet stored) {
    if (stored == null) {
      return false;
    }
    for (TokenSet a : ancestors) {
      if (stored.sameTokensAs(a)) {
        return true;
      }
    }
    return false;
  }

  private static List<TokenSet> lineage(List<TokenSet> ancestors, TokenSet parent) {
    List<TokenSet> next = new ArrayList<>(ancestors.size() + 1);
    // bounded: renewals during one outage are few (one per access-token lifetime)
    next.addAll(ancestors.subList(Math.max(0, ancestors.size() - 63), ancestors.size()));
    next.add(parent);
    return List.copyOf(next);
  }

  /** A stored set issued after this instant is newer than this one's lineage. */
  Instant newerThan() {
    return renewedFrom != null ? renewedFrom.issuedAt() : requestedAt;
  }

  /** This set, to be saved over {@code baseVersion} under {@code lease}. */
  UnsavedSet under(long baseVersion, @Nullable Lease lease, @Nullable Throwable error) {
    return new UnsavedSet(
        set,
        baseVersion,
        lease,
        authorization,
        attempts,
        error,
        renewedFrom,
        ancestors,
        heldAt,
        mayBeSpent,
        requestedAt);
  }

  /** This set after one more failed attempt under {@code lease}. */
  UnsavedSet failed(@Nullable Lease lease, Throwable error) {
    return new UnsavedSet(
        set,
        baseVersion,
        lease,
        authorization,
        attempts + 1,
        error,
        renewedFrom,
        ancestors,
        heldAt,
        mayBeSpent,
        requestedAt);
  }

  /** This set, after a refresh from it lost its answer. */
  UnsavedSet spent() {
    return new UnsavedSet(
        set,
        baseVersion,
        lease,
        authorization,
        attempts,
        lastError,
        renewedFrom,
        ancestors,
        heldAt,
        true,
        requestedAt);
  }

  /** {@code newer}, renewed from this set under the same lease by a request sent at {@code at}. */
  UnsavedSet renewedTo(TokenSet newer, Instant at) {
    return new UnsavedSet(
        newer.withVersion(0),
        baseVersion,
        lease,
        authorization,
        attempts,
        lastError,
        set,
        lineage(ancestors, set),
        heldAt,
        false,
        at);
  }
}
