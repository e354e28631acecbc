package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revokes a connection: takes the connection's single flight (no renewal runs here meanwhile) and
 * seizes the store lease (a renewal in flight anywhere can no longer write), revokes at the
 * platform, then leaves a tombstone so that no instance writes the connection back. When the
 * platform refuses the access token it was given (expired, logged out elsewhere), the connection is
 * renewed through the normal fenced path first and the revocation tried once more.
 */
final class Revoker {
  private static final Logger log = LoggerFactory.getLogger(Revoker.class);

  private final Clock clock;
  private final TokenStore store;
  private final HotTier hot;
  private final StoreView view;
  private final HealthBook health;
  private final DurableSaver saver;
  private final Events events;
  private final String owner;
  private final Duration leaseTtl;
  private final Duration outcomeUnknownPause;

  Revoker(
      Clock clock,
      TokenStore store,
      HotTier hot,
      StoreView view,
      HealthBook health,
      DurableSaver saver,
      Events events,
      String owner,
      Duration leaseTtl,
      Duration outcomeUnknownPause) {
    this.clock = clock;
    this.store = store;
    this.hot = hot;
    this.view = view;
    this.health = health;
    this.saver = saver;
    this.events = events;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
    this.outcomeUnknownPause = outcomeUnknownPause;
  }

  /** Runs as the connection's exclusive flight, on a broker thread. */
  @Nullable CachedToken revoke(Connection conn, Revocation revocation) {
    return revoke(conn, revocation, null, true);
  }

  /**
   * Revokes at the platform (unless {@code atPlatform} is false: the platform already ended the
   * link, an uninstall or unlink) and leaves a tombstone whose reason is {@code ended} ({@code
   * removed}, {@code uninstalled}, {@code unlinked}), or {@code revoked}/{@code unlinked} for null.
   */
  @Nullable CachedToken revoke(
      Connection conn, Revocation revocation, @Nullable String ended, boolean atPlatform) {
    Lease lease = store.seizeLease(conn.id, owner, leaseTtl, conn.highestFence());
    conn.sawFence(lease.fencingToken());
    // A revocation that fails after seizing the lease from a renewal in flight leaves the lease,
    // with that renewal's marker, to expire: released, its marker would be cleared and the next
    // renewal would send the refresh token that request may be spending.
    boolean release = lease.renewalCutShortAt() == null;
    try {
      StoredConnection stored = store.read(conn.id);
      UnsavedSet pending = saver.pending(conn);
      TokenSet current = pending != null ? pending.set : stored.tokens();
      if (current == null && stored.tombstone() == null) {
        current = conn.newest(); // the store lost the record: revoke what this instance holds
      }
      boolean dead =
          !atPlatform
              || (current != null
                  && revokeAtPlatform(conn, current, revocation, stored, lease, pending != null));
      saver.drop(conn);
      long version = Math.max(stored.version(), current == null ? 0 : current.version());
      String reason =
          ended != null ? ended : revocation == Revocation.UNLINK ? "unlinked" : "revoked";
      // Written again over an older tombstone: its time orders this revocation after any
      // authorization made before it and still unsaved on another instance (the saver drops it).
      try {
        store.tombstone(conn.id, new Tombstone(reason, clock.instant(), version), lease);
      } catch (TombstonedException | StaleLeaseException e) {
        throw e; // another revocation or a new authorization won: it decides
      } catch (RuntimeException e) {
        if (!dead) {
          throw e;
        }
        throw notRecorded(conn, reason, version, e);
      }
      release = true;
    } catch (LeaseKept kept) {
      release = false;
      throw kept.failure;
    } finally {
      if (release) {
        view.release(lease);
      }
    }
    hot.invalidate(conn);
    conn.forgetTokens();
    if (conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      view.tombstoned(conn, store.read(conn.id));
    }
    events.emit(
        TokenEvent.Type.REVOKED,
        conn.id,
        ended != null
            ? "connection removed (" + ended + ")"
            : "tokens revoked (" + revocation + ")",
        null);
    return null;
  }

  /**
   * The platform revoked the tokens, but the store would not take the tombstone: the stored set is
   * dead. Said as it is, and recorded as far as the store takes it; the lease is left to expire (no
   * instance renews from the dead set meanwhile, and the next one that does is told {@code
   * invalid_grant}). A second revoke records it.
   */
  private LeaseKept notRecorded(
      Connection conn, String reason, long version, RuntimeException error) {
    hot.invalidate(conn);
    String message =
        "tokens revoked at the platform, but the store could not record the revocation (its"
            + " stored tokens are dead): run revoke again to record it, then `tokenbroker connect "
            + conn.id
            + "`";
    log.error("connection {}: {}: {}", conn.id, message, error.getMessage());
    health.failed(conn, Failure.needsPerson(reason, message, error), version);
    return new LeaseKept(new TokenStoreException(conn.id, message, error));
  }

  /** Whether the tokens are dead at the platform now (revoked, or refused already). */
  private boolean revokeAtPlatform(
      Connection conn,
      TokenSet current,
      Revocation revocation,
      StoredConnection stored,
      Lease lease,
      boolean unsaved) {
    try {
      conn.provider.revoke(current, revocation);
      return true;
    } catch (UnsupportedOperationException e) {
      log.info(
          "connection {}: {} has no revocation endpoint; forgetting the tokens locally",
          conn.id,
          conn.provider.name());
      return false;
    } catch (TokenEndpointException e) {
      if (e.kind() != TokenEndpointException.Kind.TOKEN_REJECTED) {
        throw e; // the platform refused: nothing is deleted
      }
      if (current.refreshToken() == null) {
        return true; // the only token is dead already: nothing left to revoke
      }
      if (unsaved || mayBeSpent(stored, lease)) {
        // (An unsaved set is not renewed here either: it is dropped below, and a lost answer would
        // leave its possibly spent refresh token to the saver, which would store it.)
        // Never send a refresh token that may be dead just to log out: a person must reconnect,
        // or an answer was lost (the one deliberate retry belongs to the renewal path).
        if (revocation == Revocation.UNLINK) {
          throw e;
        }
        return false;
      }
      TokenSet renewed = renewUnderLease(conn, current, stored, lease);
      if (renewed == null) {
        if (revocation == Revocation.UNLINK) {
          throw e; // an unlink needs a token the platform accepts: the link stays until then
        }
        return true; // the refresh token is dead as well: nothing left to log out
      }
      try {
        conn.provider.revoke(renewed, revocation);
      } catch (TokenEndpointException again) {
        if (again.kind() != TokenEndpointException.Kind.TOKEN_REJECTED) {
          throw again;
        }
      }
      return true;
    }
  }

  /** The revocation fails with {@link #failure}, and its lease must not be released. */
  private static final class LeaseKept extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final RuntimeException failure;

    LeaseKept(RuntimeException failure) {
      super(null, null, false, false);
      this.failure = failure;
    }
  }

  /**
   * Whether the refresh token in the store may already be spent: the connection needs a person, an
   * answer was lost, or the lease was seized from a renewal cut short after it sent its request.
   */
  private static boolean mayBeSpent(StoredConnection stored, Lease lease) {
    HealthRecord h = stored.health();
    return lease.renewalCutShortAt() != null
        || (h != null
            && (h.state() == Health.State.REAUTHORIZATION_REQUIRED
                || "rotation-outcome-unknown".equals(h.reason())));
  }

  /**
   * The refresh the revocation needs, made like any renewal: marked, sent once, and saved under the
   * lease before the new token is used, so a rotated refresh token is never only in memory.
   */
  private @Nullable TokenSet renewUnderLease(
      Connection conn, TokenSet current, StoredConnection stored, Lease lease) {
    store.markRenewing(lease);
    TokenSet issued;
    Instant sentAt = clock.instant();
    try {
      issued = ProviderCall.keepRefreshToken(current, conn.provider.refresh(current));
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        return null;
      }
      if (e.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN) {
        // The refresh token may be rotated already. The lease keeps its renewal marker (not
        // released), so whoever holds the connection next reports the cut-short renewal and makes
        // the one deliberate retry, as after a crash.
        events.emit(
            TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN,
            conn.id,
            "the refresh made for a revocation lost its answer; the refresh token may already be"
                + " rotated: the next renewal reports it and tries once, deliberately",
            e);
        // Recorded as any renewal's lost answer is, with its pause, and not only on the lease: a
        // store that loses the record loses the marker with it, and this instance, writing its
        // set back, renewed at once while the lost request could still be in process (seed
        // 1551872).
        health.failed(
            conn,
            Failure.outcomeUnknown(Health.State.DEGRADED, e, outcomeUnknownPause),
            stored.version());
        throw new LeaseKept(e);
      }
      throw e;
    }
    long base = stored.tokens() != null ? stored.version() : 0;
    TokenSet saved;
    try {
      saved = store.compareAndSet(conn.id, base, issued, lease);
    } catch (TombstonedException e) {
      throw e; // another revocation won: nothing is deleted here
    } catch (RuntimeException e) {
      // Not saved: the rotated set must not live only in memory. The saver keeps it with the lease
      // and saves it (or, if the lease was seized, writes it back unless a newer write or a
      // tombstone won); the revocation fails (nothing is deleted).
      // Based on the set it was renewed from (this instance's, when the store had lost it): it
      // outranks older sets written back by other instances, never one issued after it.
      saver.hold(conn, issued, Math.max(base, current.version()), lease, false, e, sentAt, current);
      throw new LeaseKept(e);
    }
    conn.sawTokens(saved);
    return saved;
  }
}
