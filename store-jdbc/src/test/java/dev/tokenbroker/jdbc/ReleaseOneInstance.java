package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.TokenCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * An instance of the release before schema version 2, reduced to its SQL: the statements its
 * JdbcTokenStore ran, verbatim, on the version 1 columns only, with its own clock for leases. For
 * the rolling-upgrade tests: what it reads and writes must keep working beside the new store.
 */
final class ReleaseOneInstance {
  private final DataSource dataSource;
  private final String table;
  private final TokenCodec codec = TokenCodec.plaintext();

  ReleaseOneInstance(DataSource dataSource, String table) {
    this.dataSource = dataSource;
    this.table = table;
  }

  /** Its load: the row's data, decoded, with the row's version checked against the record's. */
  @Nullable TokenSet load(ConnectionId id) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT version, token_data FROM " + table + " WHERE connection_id = ?")) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(2) == null) {
          return null;
        }
        TokenSet t = codec.decode(id, rs.getString(2));
        if (t.version() != rs.getLong(1)) {
          throw new IllegalStateException("row and record disagree on the version");
        }
        return t;
      }
    }
  }

  /** Its first save of a connection: an INSERT of the version 1 columns. */
  void insert(ConnectionId id, TokenSet tokens, long nowMillis) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (connection_id, version, token_data, updated_at_ms, lease_fence,"
                    + " lease_expires_at_ms) VALUES (?, 1, ?, ?, 0, 0)")) {
      ps.setString(1, id.toString());
      ps.setString(2, codec.encodeToString(id, tokens.withVersion(1)));
      ps.setLong(3, nowMillis);
      ps.executeUpdate();
    }
  }

  /** Its compare-and-set of a stored version: true if it saved. */
  boolean compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens, long nowMillis)
      throws SQLException {
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET version = ?, token_data = ?, updated_at_ms = ?"
                    + " WHERE connection_id = ? AND version = ? AND token_data IS NOT NULL")) {
      ps.setLong(1, saved.version());
      ps.setString(2, codec.encodeToString(id, saved));
      ps.setLong(3, nowMillis);
      ps.setString(4, id.toString());
      ps.setLong(5, expectedVersion);
      return ps.executeUpdate() == 1;
    }
  }

  /** Its lease: the fence it was granted, or null when another owner holds an unexpired one. */
  @Nullable Long tryAcquireLease(ConnectionId id, String owner, long nowMillis, long ttlMillis)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET lease_owner = ?, lease_fence = lease_fence + 1,"
                    + " lease_expires_at_ms = ?"
                    + " WHERE connection_id = ?"
                    + " AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at_ms <= ?)")) {
          ps.setString(1, owner);
          ps.setLong(2, nowMillis + ttlMillis);
          ps.setString(3, id.toString());
          ps.setString(4, owner);
          ps.setLong(5, nowMillis);
          if (ps.executeUpdate() != 1) {
            return null;
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement("SELECT lease_fence FROM " + table + " WHERE connection_id = ?")) {
          ps.setString(1, id.toString());
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        }
      } finally {
        c.commit();
        c.setAutoCommit(true);
      }
    }
  }

  /** Its release: clears the lease if the fence is still the current one. */
  void releaseLease(ConnectionId id, String owner, long fence) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET lease_owner = NULL, lease_expires_at_ms = 0"
                    + " WHERE connection_id = ? AND lease_fence = ? AND lease_owner = ?")) {
      ps.setString(1, id.toString());
      ps.setLong(2, fence);
      ps.setString(3, owner);
      ps.executeUpdate();
    }
  }
}
