package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.TokenStoreException;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link JdbcTokenStore} makes of an {@link SQLException}: which ones are worth a retry or
 * mean a duplicate key, and the {@link TokenStoreException} it throws for the others, naming the
 * connection and the table and never containing a token (database error texts are scrubbed).
 */
final class SqlErrors {
  private SqlErrors() {}

  /**
   * The exception for a failed {@code action}: its text and its cause's text scrubbed of {@code
   * secrets} and of anything that looks like a token, the cause's stack trace kept.
   */
  static TokenStoreException failure(
      @Nullable ConnectionId id,
      String action,
      String table,
      Collection<String> secrets,
      SQLException e) {
    String detail = Secrets.scrub(describe(e), secrets, 300);
    SQLException safe = new SQLException(detail, e.getSQLState(), e.getErrorCode());
    safe.setStackTrace(e.getStackTrace());
    String subject = id == null ? "" : "connection " + id + ": ";
    return new TokenStoreException(
        id, subject + "could not " + action + " in table " + table + ": " + detail, safe);
  }

  /**
   * The exception for a driver's or pool's unchecked exception: wrapped like an SQLException, its
   * text scrubbed, its stack trace kept.
   */
  static TokenStoreException failure(
      @Nullable ConnectionId id,
      String action,
      String table,
      Collection<String> secrets,
      RuntimeException e) {
    String detail =
        e.getClass().getSimpleName()
            + ": "
            + Secrets.scrub(String.valueOf(e.getMessage()), secrets, 300);
    RuntimeException safe = new RuntimeException(detail);
    safe.setStackTrace(e.getStackTrace());
    String subject = id == null ? "" : "connection " + id + ": ";
    return new TokenStoreException(
        id, subject + "could not " + action + " in table " + table + ": " + detail, safe);
  }

  static String describe(SQLException e) {
    String state = e.getSQLState();
    return (state == null ? "" : "SQLState " + state + ": ") + e.getMessage();
  }

  static boolean isDuplicateKey(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLIntegrityConstraintViolationException) {
        return true;
      }
      if (t instanceof SQLException) {
        String state = ((SQLException) t).getSQLState();
        // 23505: unique violation (PostgreSQL, H2); 23000: integrity violation (MySQL, MariaDB)
        if ("23505".equals(state) || "23000".equals(state)) {
          return true;
        }
      }
    }
    return false;
  }

  static boolean isRetryable(SQLException e) {
    String state = e.getSQLState();
    // 40001: serialization failure; 40P01: PostgreSQL deadlock; MySQL 1213 deadlock is 40001 too.
    return "40001".equals(state) || "40P01".equals(state);
  }

  /** The tokens of {@code t}, to scrub from error texts. */
  static List<String> secretsOf(TokenSet t) {
    List<String> s = new ArrayList<>(2);
    s.add(t.accessToken());
    if (t.refreshToken() != null) {
      s.add(t.refreshToken());
    }
    return s;
  }
}
