package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.time.Instant;
import java.util.Objects;

/**
 * The right, held by one broker instance until {@link #expiresAt()}, to renew one connection. The
 * {@link #fencingToken()} grows with every grant for the connection, so a holder whose lease
 * expired cannot release (or, where a store checks it, overwrite under) a newer holder's lease.
 */
public final class Lease {
  private final ConnectionId connection;
  private final String owner;
  private final long fencingToken;
  private final Instant expiresAt;

  public Lease(ConnectionId connection, String owner, long fencingToken, Instant expiresAt) {
    this.connection = Objects.requireNonNull(connection);
    this.owner = Objects.requireNonNull(owner);
    this.fencingToken = fencingToken;
    this.expiresAt = Objects.requireNonNull(expiresAt);
  }

  public ConnectionId connection() {
    return connection;
  }

  /** Which broker instance holds it. */
  public String owner() {
    return owner;
  }

  public long fencingToken() {
    return fencingToken;
  }

  public Instant expiresAt() {
    return expiresAt;
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
        + '}';
  }
}
