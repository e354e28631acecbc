package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The writes of a {@link JdbcTokenStore}'s token set and tombstone, each one transaction on the
 * connection's locked row (see {@link RowTransactions}): the checks of the contract (lease current,
 * version expected, no tombstone) run on what it read. Versions grow with every save and survive a
 * tombstone. An authorization, a tombstone, a restore that writes and a connection's first set are
 * registry changes: they stamp {@code changed_at_ms} with the database's time; renewals do not.
 */
final class TokenWrites {
  private final RowTransactions tx;
  private final RowCodec rows;

  TokenWrites(RowTransactions tx, RowCodec rows) {
    this.tx = tx;
    this.rows = rows;
  }

  /** See {@link JdbcTokenStore#compareAndSet}. */
  TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    JdbcLeases.requireLeaseOf(id, lease);
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    return tx.update(
        id,
        "save tokens",
        SqlErrors.secretsOf(tokens),
        false,
        expectedVersion == 0,
        (row, now) -> {
          JdbcLeases.requireCurrent(row, id, lease);
          Tombstone tombstone = rows.tombstoneOf(id, row);
          if (tombstone != null) {
            throw new TombstonedException(id, tombstone);
          }
          long actual = RowCodec.tokenVersion(row);
          if (actual != expectedVersion) {
            throw new VersionConflictException(id, expectedVersion, actual);
          }
          if (actual == 0) {
            row.changedAtMs = now; // the connection's first set: a registry change
          }
          if (row.tokenData != null) {
            // Never replace a record this instance cannot read (wrong key, corrupt row).
            rows.decode(id, row.version, row.tokenData);
          }
          return rows.save(id, row, tokens, Math.max(row.version, actual) + 1);
        });
  }

  /** See {@link JdbcTokenStore#authorize}. */
  TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    JdbcLeases.requireLeaseOf(id, lease);
    return tx.update(
        id,
        "save tokens",
        SqlErrors.secretsOf(tokens),
        false,
        true,
        (row, now) -> {
          JdbcLeases.requireCurrent(row, id, lease);
          row.changedAtMs = now;
          long highest = row.version;
          Tombstone tombstone = rows.tombstoneOf(id, row);
          if (tombstone != null) {
            highest = Math.max(highest, tombstone.version());
          }
          row.tombstoneData = null;
          HealthWrites.clear(row);
          return rows.save(id, row, tokens, highest + 1);
        });
  }

  /** See {@link JdbcTokenStore#restore}. */
  StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    return tx.update(
        id,
        "restore tokens",
        SqlErrors.secretsOf(tokens),
        true,
        true,
        (row, now) -> {
          Row r = Objects.requireNonNull(row);
          if (r.tombstoneData == null && tokens.version() > RowCodec.tokenVersion(r)) {
            r.changedAtMs = now;
            r.tokenData = rows.encode(id, tokens);
            r.version = tokens.version();
            r.dirty = true;
          }
          return rows.snapshot(id, r);
        });
  }

  /** See {@link JdbcTokenStore#tombstone}. */
  void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    JdbcLeases.requireLeaseOf(id, lease);
    tx.update(
        id,
        "write the tombstone",
        List.of(),
        false,
        true,
        (row, now) -> {
          JdbcLeases.requireCurrent(row, id, lease);
          row.changedAtMs = now;
          long version = Math.max(row.version, tombstone.version());
          Tombstone previous = rows.tombstoneOf(id, row);
          if (previous != null) {
            version = Math.max(version, previous.version());
          }
          Tombstone stored = new Tombstone(tombstone.reason(), tombstone.at(), version);
          row.tombstoneData =
              new String(StateCodec.encodeTombstone(id, stored), StandardCharsets.UTF_8);
          // Instances of an earlier release see a row without data: nothing stored.
          row.tokenData = null;
          row.version = version;
          row.clearMarker();
          row.dirty = true;
          return null;
        });
  }
}
