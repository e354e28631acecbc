package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The renewal lease of a {@link JdbcTokenStore}: each operation one transaction on the connection's
 * locked row (see {@link RowTransactions}), decided at the <b>database's time</b>, read once the
 * row is locked. A lease is granted until the database's time plus the TTL, so the instances'
 * clocks play no part. A lease is current while the row holds its fence and owner (an expired lease
 * nobody took over still is); fences grow with every grant, above the row's last one and the
 * caller's {@code minFence}.
 */
final class JdbcLeases {
  private static final int MAX_OWNER = 255;

  private final RowTransactions tx;

  JdbcLeases(RowTransactions tx) {
    this.tx = tx;
  }

  /** See {@link JdbcTokenStore#tryAcquireLease}. */
  @Nullable Lease tryAcquire(ConnectionId id, String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(id, "id");
    checkLeaseArguments(owner, ttl, minFence);
    return tx.update(
        id,
        "take the renewal lease",
        List.of(),
        true,
        true,
        (row, now) -> {
          Row r = Objects.requireNonNull(row);
          if (r.leaseOwner != null && !r.leaseOwner.equals(owner) && now < r.leaseExpiresAtMs) {
            return null; // another owner holds an unexpired lease
          }
          return grant(r, id, owner, ttl, minFence, now);
        });
  }

  /** See {@link JdbcTokenStore#seizeLease}. */
  Lease seize(ConnectionId id, String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(id, "id");
    checkLeaseArguments(owner, ttl, minFence);
    return tx.update(
        id,
        "seize the renewal lease",
        List.of(),
        true,
        true,
        (row, now) -> grant(Objects.requireNonNull(row), id, owner, ttl, minFence, now));
  }

  /** A new lease for {@code owner}, whoever holds the row's; reports a renewal it cut short. */
  private static Lease grant(
      Row row, ConnectionId id, String owner, Duration ttl, long minFence, long now) {
    Long cutShort = row.marker();
    row.leaseFence = Math.max(row.leaseFence, minFence) + 1;
    row.leaseOwner = owner;
    row.leaseExpiresAtMs = now + ttl.toMillis();
    if (cutShort == null) {
      row.clearMarker();
    } else {
      // The marker stays, now on this lease, until its holder marks, saves or releases: a grant
      // whose reply was lost must not erase the only report of a renewal cut short.
      row.renewingFence = row.leaseFence;
    }
    row.dirty = true;
    return new Lease(
        id,
        owner,
        row.leaseFence,
        Instant.ofEpochMilli(row.leaseExpiresAtMs),
        cutShort == null ? null : Instant.ofEpochMilli(cutShort));
  }

  /** See {@link JdbcTokenStore#extendLease}. */
  @Nullable Lease extend(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    checkLeaseArguments(lease.owner(), ttl, 0);
    ConnectionId id = lease.connection();
    return tx.update(
        id,
        "extend the renewal lease",
        List.of(),
        false,
        true,
        (row, now) -> {
          if (row == null || !row.holds(lease)) {
            return null;
          }
          row.leaseExpiresAtMs = now + ttl.toMillis();
          row.dirty = true;
          return lease.withExpiry(Instant.ofEpochMilli(row.leaseExpiresAtMs));
        });
  }

  /** See {@link JdbcTokenStore#markRenewing}. */
  void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    tx.update(
        id,
        "mark the renewal",
        List.of(),
        false,
        true,
        (row, now) -> {
          requireCurrent(row, id, lease);
          row.renewingFence = row.leaseFence;
          row.renewingSinceMs = now;
          row.dirty = true;
          return null;
        });
  }

  /** See {@link JdbcTokenStore#releaseLease}. */
  void release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    tx.update(
        id,
        "release the renewal lease",
        List.of(),
        false,
        false,
        (row, now) -> {
          if (row != null && row.holds(lease)) {
            row.leaseOwner = null;
            row.leaseExpiresAtMs = 0;
            row.clearMarker();
            row.dirty = true;
          }
          return null;
        });
  }

  private static void checkLeaseArguments(String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(ttl, "ttl");
    if (owner.isEmpty() || owner.length() > MAX_OWNER) {
      throw new IllegalArgumentException("lease owner must be 1 to " + MAX_OWNER + " characters");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
    if (minFence < 0) {
      throw new IllegalArgumentException("minFence must be >= 0, got " + minFence);
    }
  }

  /** Rejects a lease of another connection, before any SQL. */
  static void requireLeaseOf(ConnectionId id, Lease lease) {
    Objects.requireNonNull(lease, "lease");
    if (!lease.connection().equals(id)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  /** Rejects a write under a lease that {@code row} does not hold. */
  static void requireCurrent(@Nullable Row row, ConnectionId id, Lease lease) {
    if (row == null || !row.holds(lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }
}
