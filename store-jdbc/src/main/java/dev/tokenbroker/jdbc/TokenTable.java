package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The SQL of a {@link JdbcTokenStore}'s table: each statement the store runs on it, and the mapping
 * between its columns and a {@link Row}. Portable SQL, the same on every {@link Dialect} (which
 * differ only in how they tell the time). The caller runs them on a borrowed connection, within the
 * transaction they need.
 */
final class TokenTable {
  private static final String COLUMNS =
      "connection_id, version, token_data, health_data, health_version, tombstone_data";
  private static final String LOCKED_COLUMNS =
      COLUMNS
          + ", lease_owner, lease_fence, lease_expires_at_ms, renewing_fence, renewing_since_ms";

  private final String table;
  private final Clock clock;

  private final String selectRow;
  private final String lockRow;
  private final String insertRow;
  private final String writeRow;
  private final String selectConnections;
  private final String selectChanged;

  /** {@code clock} stamps {@code updated_at_ms}. */
  TokenTable(String table, Clock clock) {
    this.table = table;
    this.clock = clock;
    String t = table;
    selectRow = "SELECT " + COLUMNS + " FROM " + t + " WHERE connection_id = ?";
    lockRow = "SELECT " + LOCKED_COLUMNS + " FROM " + t + " WHERE connection_id = ? FOR UPDATE";
    // Only version 1 columns, with the values an instance of an earlier release inserts for a
    // connection that has nothing yet: it sees a row without data and a free lease.
    insertRow =
        "INSERT INTO "
            + t
            + " (connection_id, version, token_data, updated_at_ms, lease_fence,"
            + " lease_expires_at_ms) VALUES (?, 0, NULL, ?, 0, 0)";
    writeRow =
        "UPDATE "
            + t
            + " SET version = ?, token_data = ?, health_data = ?, health_version = ?,"
            + " tombstone_data = ?, lease_owner = ?, lease_fence = ?, lease_expires_at_ms = ?,"
            + " renewing_fence = ?, renewing_since_ms = ?, updated_at_ms = ?,"
            + " changed_at_ms = COALESCE(?, changed_at_ms)"
            + " WHERE connection_id = ?";
    selectConnections =
        "SELECT connection_id FROM "
            + t
            + " WHERE token_data IS NOT NULL AND tombstone_data IS NULL";
    selectChanged = "SELECT connection_id FROM " + t + " WHERE changed_at_ms >= ?";
  }

  /** The table's name, optionally schema-qualified. */
  String name() {
    return table;
  }

  /** The record columns of {@code id}'s row, read without a lock, or null if it has none. */
  @Nullable Row select(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(selectRow)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? readColumns(rs) : null;
      }
    }
  }

  /**
   * The record columns of the rows of {@code ids} that exist, by connection id, in one statement.
   */
  Map<String, Row> selectAll(Connection c, List<ConnectionId> ids) throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM "
            + table
            + " WHERE connection_id IN ("
            + String.join(", ", Collections.nCopies(ids.size(), "?"))
            + ")";
    Map<String, Row> found = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < ids.size(); i++) {
        ps.setString(i + 1, ids.get(i).toString());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.put(rs.getString("connection_id"), readColumns(rs));
        }
      }
    }
    return found;
  }

  /** The ids, as stored, of the rows whose registry change is at or after {@code sinceMs}. */
  List<String> changedSince(Connection c, long sinceMs) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(selectChanged)) {
      ps.setLong(1, sinceMs);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
    }
    return ids;
  }

  /** The ids, as stored, of the rows with a token set and no tombstone. */
  List<String> connectionIds(Connection c) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(selectConnections)) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  private static Row readColumns(ResultSet rs) throws SQLException {
    Row r = new Row();
    r.version = rs.getLong("version");
    r.tokenData = rs.getString("token_data");
    r.healthData = rs.getString("health_data");
    r.healthVersion = rs.getLong("health_version");
    r.tombstoneData = rs.getString("tombstone_data");
    return r;
  }

  /** Locks {@code id}'s row ({@code SELECT … FOR UPDATE}) and reads all of it; null if none. */
  @Nullable Row lock(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(lockRow)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Row r = readColumns(rs);
        r.leaseOwner = rs.getString("lease_owner");
        r.leaseFence = rs.getLong("lease_fence");
        r.leaseExpiresAtMs = rs.getLong("lease_expires_at_ms");
        r.renewingFence = nullableLong(rs, "renewing_fence");
        r.renewingSinceMs = nullableLong(rs, "renewing_since_ms");
        return r;
      }
    }
  }

  private static @Nullable Long nullableLong(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  /** Writes {@code r} back over {@code id}'s row, which this transaction has locked. */
  void write(Connection c, ConnectionId id, Row r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(writeRow)) {
      ps.setLong(1, r.version);
      ps.setString(2, r.tokenData);
      ps.setString(3, r.healthData);
      ps.setLong(4, r.healthVersion);
      ps.setString(5, r.tombstoneData);
      ps.setString(6, r.leaseOwner);
      ps.setLong(7, r.leaseFence);
      ps.setLong(8, r.leaseExpiresAtMs);
      setNullableLong(ps, 9, r.renewingFence);
      setNullableLong(ps, 10, r.renewingSinceMs);
      ps.setLong(11, clock.millis());
      setNullableLong(ps, 12, r.changedAtMs);
      ps.setString(13, id.toString());
      if (ps.executeUpdate() != 1) {
        throw new SQLException("row vanished while locked by its own transaction");
      }
    }
  }

  private static void setNullableLong(PreparedStatement ps, int index, @Nullable Long value)
      throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }

  /** Inserts an empty row for {@code id}, unless another instance inserted it first. */
  void insert(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(insertRow)) {
      ps.setString(1, id.toString());
      ps.setLong(2, clock.millis());
      ps.executeUpdate();
    } catch (SQLException e) {
      if (!SqlErrors.isDuplicateKey(e)) {
        throw e;
      }
      // Another instance inserted it first: fine, the row is there.
    }
  }
}
