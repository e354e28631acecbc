package dev.tokenbroker.jdbc;

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
}
