package dev.tokenbroker.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * The SQL of a {@link JdbcTokenStore}'s one-time records, in the table {@code <table>_once}: one
 * row per record ({@code once_key} the key's digest, {@code once_value} the sealed value, {@code
 * expires_at_ms} by the database's clock). Every statement takes the database's time {@code now}
 * read on the same connection ({@link Dialect#now}).
 *
 * <ul>
 *   <li><b>put</b>: deletes the key's row if it is expired, then inserts; a primary-key violation
 *       means the key holds a value (the insert of another instance won), unless a second look
 *       finds it expired meanwhile. Each statement commits on its own: a duplicate key aborts a
 *       PostgreSQL transaction, and neither statement can remove an unexpired value.
 *   <li><b>take</b> on PostgreSQL: one {@code DELETE … RETURNING}, which only one of the
 *       transactions deleting the same row gets back. On MySQL, H2 and others: in one transaction,
 *       {@code SELECT … FOR UPDATE} and then {@code DELETE}; the caller that deleted the row
 *       (update count 1) is the one that gets it, whatever the isolation level. Either way an
 *       expired row is deleted too, and returned as nothing.
 * </ul>
 */
final class OnceTable {
  private final String table;
  private final Dialect dialect;
  private final String deleteExpired;
  private final String insert;
  private final String deleteReturning;
  private final String lockOne;
  private final String deleteOne;
  private final String sweep;

  OnceTable(String tokenTable, Dialect dialect) {
    this.table = JdbcSchema.onceTable(tokenTable);
    this.dialect = dialect;
    String t = table;
    deleteExpired = "DELETE FROM " + t + " WHERE once_key = ? AND expires_at_ms <= ?";
    insert = "INSERT INTO " + t + " (once_key, once_value, expires_at_ms) VALUES (?, ?, ?)";
    deleteReturning =
        "DELETE FROM " + t + " WHERE once_key = ? RETURNING once_value, expires_at_ms";
    lockOne = "SELECT once_value, expires_at_ms FROM " + t + " WHERE once_key = ? FOR UPDATE";
    deleteOne = "DELETE FROM " + t + " WHERE once_key = ?";
    sweep = "DELETE FROM " + t + " WHERE expires_at_ms <= ?";
  }

  String name() {
    return table;
  }

  /** Stores {@code sealed} under {@code digest}; {@code c} is in auto-commit mode. */
  boolean put(Connection c, String digest, String sealed, long expiresAtMs) throws SQLException {
    for (int attempt = 0; attempt < 3; attempt++) {
      long now = dialect.now(c);
      int removed;
      try (PreparedStatement ps = c.prepareStatement(deleteExpired)) {
        ps.setString(1, digest);
        ps.setLong(2, now);
        removed = ps.executeUpdate();
      }
      if (attempt > 0 && removed == 0) {
        return false; // the row that was in the way is unexpired (or gone: taken, which is later)
      }
      try (PreparedStatement ps = c.prepareStatement(insert)) {
        ps.setString(1, digest);
        ps.setString(2, sealed);
        ps.setLong(3, expiresAtMs);
        ps.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (!SqlErrors.isDuplicateKey(e)) {
          throw e;
        }
        // Held: by an unexpired value, or an expired one the next round deletes.
      }
    }
    return false;
  }

  /** A taken record: its sealed value, and whether it was unexpired when taken. */
  static final class Taken {
    final String sealed;
    final boolean live;

    Taken(String sealed, boolean live) {
      this.sealed = sealed;
      this.live = live;
    }
  }

  /** Removes the row of {@code digest} and returns it; {@code c} is in auto-commit mode. */
  @Nullable Taken take(Connection c, String digest) throws SQLException {
    if (dialect == Dialect.POSTGRESQL) {
      try (PreparedStatement ps = c.prepareStatement(deleteReturning)) {
        ps.setString(1, digest);
        String sealed;
        long expiresAt;
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return null;
          }
          sealed = rs.getString(1);
          expiresAt = rs.getLong(2);
        }
        return new Taken(sealed, expiresAt > dialect.now(c));
      }
    }
    c.setAutoCommit(false);
    try {
      String sealed = null;
      long expiresAt = 0;
      try (PreparedStatement ps = c.prepareStatement(lockOne)) {
        ps.setString(1, digest);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            sealed = rs.getString(1);
            expiresAt = rs.getLong(2);
          }
        }
      }
      Taken taken = sealed == null ? null : new Taken(sealed, expiresAt > dialect.now(c));
      if (taken != null) {
        try (PreparedStatement ps = c.prepareStatement(deleteOne)) {
          ps.setString(1, digest);
          if (ps.executeUpdate() != 1) {
            taken = null; // another transaction deleted it first: it is that one's
          }
        }
      }
      c.commit();
      return taken;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** Deletes every expired row; returns how many. */
  int sweep(Connection c) throws SQLException {
    long now = dialect.now(c);
    try (PreparedStatement ps = c.prepareStatement(sweep)) {
      ps.setLong(1, now);
      return ps.executeUpdate();
    }
  }
}
