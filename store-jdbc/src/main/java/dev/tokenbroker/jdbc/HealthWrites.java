package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.store.HealthRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The health record of a {@link JdbcTokenStore} and its version bookkeeping: the {@code
 * health_version} column is the health version. A compare-and-set (one transaction on the
 * connection's locked row, see {@link RowTransactions}) compares it and moves it one up, whether it
 * writes a record or clears one; so does the clear a new authorization makes. A clear leaves {@code
 * health_data} null and keeps the column.
 */
final class HealthWrites {
  private final RowTransactions tx;

  HealthWrites(RowTransactions tx) {
    this.tx = tx;
  }

  /** See {@link JdbcTokenStore#compareAndSetHealth}. */
  boolean compareAndSet(ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    // Version 0 may have no row yet: a clear moves the version too, so it needs one as well.
    boolean needRow = expectedVersion == 0;
    return tx.update(
        id,
        "save the health record",
        List.of(),
        needRow,
        false,
        (row, now) -> {
          if (row == null) {
            return false; // no row, so version 0, and the caller named another one
          }
          if (row.healthVersion != expectedVersion) {
            return false;
          }
          long version = expectedVersion + 1;
          row.healthData =
              next == null
                  ? null
                  : new String(
                      StateCodec.encodeHealth(id, next.withVersion(version)),
                      StandardCharsets.UTF_8);
          row.healthVersion = version;
          row.dirty = true;
          return true;
        });
  }

  /** The clear of a new authorization, on its locked {@code row}: only when there is a record. */
  static void clear(Row row) {
    if (row.healthData != null) {
      // A clear: the health version moves one up and stays.
      row.healthData = null;
      row.healthVersion++;
    }
  }
}
