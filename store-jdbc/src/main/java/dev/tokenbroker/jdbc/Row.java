package dev.tokenbroker.jdbc;

import dev.tokenbroker.store.Lease;
import org.jspecify.annotations.Nullable;

/**
 * One row of the store's table as read, changed in memory and written back under its lock (see
 * {@link RowTransactions}). A row read without its lock has only the record columns; the lease
 * columns keep their defaults.
 */
final class Row {
  long version;
  @Nullable String tokenData;
  @Nullable String healthData;
  long healthVersion;
  @Nullable String tombstoneData;
  @Nullable String leaseOwner;
  long leaseFence;
  long leaseExpiresAtMs;
  @Nullable Long renewingFence;
  @Nullable Long renewingSinceMs;

  /**
   * The database's time of a registry change made by this write (created, authorized, restored,
   * tombstoned), or null to keep the stored one; never read, only written.
   */
  @Nullable Long changedAtMs;

  /** True when the row was changed and must be written back. */
  boolean dirty;

  boolean holds(Lease lease) {
    return leaseOwner != null
        && leaseFence == lease.fencingToken()
        && leaseOwner.equals(lease.owner());
  }

  void clearMarker() {
    renewingFence = null;
    renewingSinceMs = null;
  }

  /** The marker of the lease the row holds, if any: a renewal that lease started. */
  @Nullable Long marker() {
    return leaseOwner != null
            && renewingSinceMs != null
            && renewingFence != null
            && renewingFence == leaseFence
        ? renewingSinceMs
        : null;
  }
}
