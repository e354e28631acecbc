package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The right, held by one broker instance, to renew one connection and to write its token set. The
 * {@link #fencingToken()} grows with every grant for the connection, and the store rejects a write
 * under any lease but the current one ({@link StaleLeaseException}), so a holder that lost its
 * lease (expired and taken over, or seized by a revoke or a new authorization) can never overwrite
 * a newer holder's work.
 */
public final class Lease {
  private final ConnectionId connection;
  private final String owner;
  private final long fencingToken;
  private final Instant expiresAt;
  private final @Nullable Instant renewalCutShortAt;

  /**
   * @param connection the leased connection
   * @param owner the holding instance
   * @param fencingToken the fence every write under this lease carries; grows with every grant
   * @param expiresAt when the lease lapses unless renewed
   * @param renewalCutShortAt when a previous holder's renewal was found cut short, or null
   */
  public Lease(
      ConnectionId connection,
      String owner,
      long fencingToken,
      Instant expiresAt,
      @Nullable Instant renewalCutShortAt) {
    this.connection = Objects.requireNonNull(connection);
    this.owner = Objects.requireNonNull(owner);
    this.fencingToken = fencingToken;
    this.expiresAt = Objects.requireNonNull(expiresAt);
    this.renewalCutShortAt = renewalCutShortAt;
  }

  /**
   * A lease with no renewal cut short.
   *
   * @param connection the leased connection
   * @param owner the holding instance
   * @param fencingToken the fence every write under this lease carries
   * @param expiresAt when the lease lapses unless renewed
   */
  public Lease(ConnectionId connection, String owner, long fencingToken, Instant expiresAt) {
    this(connection, owner, fencingToken, expiresAt, null);
  }

  /**
   * The leased connection.
   *
   * @return the connection id
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * Which broker instance holds it.
   *
   * @return which broker instance holds it
   */
  public String owner() {
    return owner;
  }

  /**
   * The fence every write under this lease carries; a store rejects a write with an older one.
   *
   * @return the fencing token
   */
  public long fencingToken() {
    return fencingToken;
  }

  /**
   * When it expires, by the store's clock (a database's clock for JDBC).
   *
   * @return when it expires, by the store's clock (a database's clock for JDBC)
   */
  public Instant expiresAt() {
    return expiresAt;
  }

  /**
   * When this lease was granted over a previous one that had {@linkplain TokenStore#markRenewing
   * started a token request} and neither saved nor released (its holder crashed or hung): the
   * instant that request started. Null otherwise.
   *
   * @return when this lease was granted over a previous one that had {@linkplain
   *     TokenStore#markRenewing started a token request} and neither saved nor released (its holder
   *     crashed or hung): the instant that request started
   */
  public @Nullable Instant renewalCutShortAt() {
    return renewalCutShortAt;
  }

  /**
   * This lease with another expiry (same fence), as {@link TokenStore#extendLease} returns it.
   *
   * @param newExpiry when the lease should now lapse
   * @return a copy with another expiry
   */
  public Lease withExpiry(Instant newExpiry) {
    return new Lease(connection, owner, fencingToken, newExpiry, renewalCutShortAt);
  }

  @Override
  public String toString() {
    return "Lease{"
        + connection
        + ", owner="
        + owner
        + ", fence="
        + fencingToken
        + ", expiresAt="
        + expiresAt
        + (renewalCutShortAt == null ? "" : ", renewalCutShortAt=" + renewalCutShortAt)
        + '}';
  }
}
