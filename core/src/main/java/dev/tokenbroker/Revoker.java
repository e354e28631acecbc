package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import java.time.Clock;
import java.time.Duration;
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
  private final StoreRenewal renewal;
  private final DurableSaver saver;
  private final Events events;
  private final String owner;
  private final Duration leaseTtl;

  Revoker(
      Clock clock,
      TokenStore store,
      HotTier hot,
      StoreRenewal renewal,
      DurableSaver saver,
      Events events,
      String owner,
      Duration leaseTtl) {
    this.clock = clock;
    this.store = store;
    this.hot = hot;
    this.renewal = renewal;
    this.saver = saver;
    this.events = events;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
  }

  /** Runs as the connection's exclusive flight, on a broker thread. */
  @Nullable CachedToken revoke(Connection conn, Revocation revocation) {
    Lease lease = store.seizeLease(conn.id, owner, leaseTtl, conn.highestFence());
    conn.sawFence(lease.fencingToken());
    try {
      StoredConnection stored = store.read(conn.id);
      DurableSaver.Pending pending = saver.pending(conn);
      TokenSet current = pending != null ? pending.set : stored.tokens();
      if (current == null) {
        current = conn.newest();
      }
      if (current != null) {
        revokeAtPlatform(conn, current, revocation, stored, lease);
      }
      saver.drop(conn);
      long version = Math.max(stored.version(), current == null ? 0 : current.version());
      String reason = revocation == Revocation.UNLINK ? "unlinked" : "revoked";
      if (stored.tombstone() == null) {
        store.tombstone(conn.id, new Tombstone(reason, clock.instant(), version), lease);
      }
    } finally {
      renewal.release(lease);
    }
    hot.invalidate(conn);
    conn.forgetTokens();
    if (conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      renewal.tombstoned(conn, store.read(conn.id));
    }
    events.emit(TokenEvent.Type.REVOKED, conn.id, "tokens revoked (" + revocation + ")", null);
    return null;
  }

  private void revokeAtPlatform(
      Connection conn,
      TokenSet current,
      Revocation revocation,
      StoredConnection stored,
      Lease lease) {
    try {
      conn.provider.revoke(current, revocation);
    } catch (UnsupportedOperationException e) {
      log.info(
          "connection {}: {} has no revocation endpoint; forgetting the tokens locally",
          conn.id,
          conn.provider.name());
    } catch (TokenEndpointException e) {
      if (e.kind() != TokenEndpointException.Kind.TOKEN_REJECTED) {
        throw e; // the platform refused: nothing is deleted
      }
      if (current.refreshToken() == null) {
        return; // the only token is dead already: nothing left to revoke
      }
      TokenSet renewed = renewUnderLease(conn, current, stored, lease);
      if (renewed == null) {
        if (revocation == Revocation.UNLINK) {
          throw e; // an unlink needs a token the platform accepts: the link stays until then
        }
        return; // the refresh token is dead as well: nothing left to log out
      }
      try {
        conn.provider.revoke(renewed, revocation);
      } catch (TokenEndpointException again) {
        if (again.kind() != TokenEndpointException.Kind.TOKEN_REJECTED) {
          throw again;
        }
      }
    }
  }

  /**
   * The refresh the revocation needs, made like any renewal: marked, sent once, and saved under the
   * lease before the new token is used, so a rotated refresh token is never only in memory.
   */
  private @Nullable TokenSet renewUnderLease(
      Connection conn, TokenSet current, StoredConnection stored, Lease lease) {
    store.markRenewing(lease);
    TokenSet issued;
    try {
      issued = StoreRenewal.keepRefreshToken(current, conn.provider.refresh(current));
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        return null;
      }
      throw e;
    }
    long base = stored.tokens() != null ? stored.version() : 0;
    TokenSet saved = store.compareAndSet(conn.id, base, issued, lease);
    conn.sawTokens(saved);
    return saved;
  }
}
