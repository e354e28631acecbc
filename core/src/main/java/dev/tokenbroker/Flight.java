package dev.tokenbroker;

import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One renewal (or revocation) of one connection in progress on the broker's own threads, and what
 * it was started for. Callers only wait on {@link #future}; none runs it.
 */
final class Flight {

  /** Why a flight runs: what its outcome must satisfy. Replaces a triple of boolean flags. */
  enum Purpose {
    /** A caller has no valid token: any valid token will do, the store's included. */
    EXPIRED,
    /** A caller was served a STALE token: renew unless someone already did. */
    STALE,
    /** The refresh token nears its end: renew if, after taking the lease, it is still due. */
    KEEP_ALIVE,
    /** An explicit {@code refresh}: a new token set from the platform, whatever the store holds. */
    REFRESH,
    /** The API rejected {@link #rejected}: any valid token but that one. */
    REJECTED,
    /** A revocation holds the connection: no renewal may run meanwhile. */
    REVOKE
  }

  final Purpose purpose;

  /** For {@link Purpose#REJECTED}: the access token the API rejected. */
  final @Nullable String rejected;

  final CompletableFuture<CachedToken> future = new CompletableFuture<>();

  /**
   * Whether this flight itself obtained a new token set from the platform and kept it (saved, or
   * held unsaved by the durable saver), as opposed to finding one another writer saved. Set before
   * {@link #future} completes.
   */
  volatile boolean renewed;

  Flight(Purpose purpose, @Nullable String rejected) {
    this.purpose = purpose;
    this.rejected = rejected;
  }

  /**
   * Whether the outcome of this flight answers a caller that wanted {@code wanted}: an explicit
   * refresh or a revoke needs its own flight; a rejected token needs any other token.
   */
  boolean answers(Purpose wanted, @Nullable String rejectedToken, CachedToken outcome) {
    switch (wanted) {
      case REFRESH:
        return purpose == Purpose.REFRESH;
      case REVOKE:
        return false;
      case REJECTED:
        return rejectedToken == null || !rejectedToken.equals(outcome.accessToken());
      default:
        return purpose != Purpose.REVOKE;
    }
  }
}
