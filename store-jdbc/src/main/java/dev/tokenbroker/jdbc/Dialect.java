package dev.tokenbroker.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What differs between the databases the store knows: the folder of its schema scripts and how it
 * asks the database for the time.
 */
enum Dialect {
  POSTGRESQL(
      "postgresql",
      // clock_timestamp(): the time when evaluated, not when the transaction started (now()), so a
      // transaction that waited for the row lock does not judge a lease by a stale time.
      "CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)"),
  MYSQL(
      "mysql",
      // UTC_TIMESTAMP does not depend on the session's time zone (no DST fold).
      "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000"),
  H2("h2", "CAST(FLOOR(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP(6)) * 1000) AS BIGINT)"),
  /**
   * A database the store has no scripts for: the schema is the operator's, the time is asked as
   * {@code CURRENT_TIMESTAMP}.
   */
  OTHER(null, null);

  /** The folder under {@code db/tokenbroker/} holding the scripts, or null. */
  final @Nullable String folder;

  /** An SQL expression for the database's time in epoch milliseconds, or null. */
  final @Nullable String nowMillis;

  Dialect(@Nullable String folder, @Nullable String nowMillis) {
    this.folder = folder;
    this.nowMillis = nowMillis;
  }

  static Dialect of(String productName) {
    String p = productName.toLowerCase(Locale.ROOT);
    if (p.contains("postgres")) {
      return POSTGRESQL;
    }
    if (p.contains("mysql") || p.contains("mariadb")) {
      return MYSQL;
    }
    if (p.equals("h2")) {
      return H2;
    }
    return OTHER;
  }

  /** The query that returns the database's time. */
  String nowQuery() {
    return nowMillis == null ? "SELECT CURRENT_TIMESTAMP" : "SELECT " + nowMillis;
  }

  /** The database's time, epoch milliseconds: the clock leases are judged by. */
  long now(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(nowQuery())) {
      if (!rs.next()) {
        throw new SQLException("the database returned no time");
      }
      if (nowMillis != null) {
        return rs.getLong(1);
      }
      try {
        OffsetDateTime t = rs.getObject(1, OffsetDateTime.class);
        if (t != null) {
          return t.toInstant().toEpochMilli();
        }
      } catch (SQLException e) {
        // the driver cannot convert: fall back to a Timestamp
      }
      Timestamp t = rs.getTimestamp(1);
      if (t == null) {
        throw new SQLException("the database returned no time");
      }
      return t.getTime();
    }
  }
}
