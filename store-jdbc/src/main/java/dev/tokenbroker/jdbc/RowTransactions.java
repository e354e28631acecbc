package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.TokenStoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link JdbcTokenStore} runs its SQL: each method on one borrowed connection, serialization
 * failures and deadlocks retried a few times, errors turned into scrubbed {@link
 * TokenStoreException}s (see {@link SqlErrors}); and every write as one short transaction that
 * locks the connection's row ({@code SELECT … FOR UPDATE}), lets the caller decide on what it read,
 * and writes the row back with one {@code UPDATE} before the commit.
 */
final class RowTransactions {
  private static final int ATTEMPTS = 5;
  private static final Object NEED_ROW = new Object();

  /** Work on a borrowed connection, in auto-commit mode. */
  interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** The work of one locked transaction on a connection's row. */
  interface LockedWork<T> {
    /**
     * Decides on {@code row} (null: no row; only when the caller did not ask for one) at the
     * database's time {@code now} (0 unless asked for), changing it and marking it dirty to have it
     * written back.
     */
    T apply(@Nullable Row row, long now) throws SQLException;
  }

  private interface SqlStep<T> {
    T run() throws SQLException;
  }

  private final DataSource dataSource;
  private final TokenTable table;
  private final Dialect dialect;

  RowTransactions(DataSource dataSource, TokenTable table, Dialect dialect) {
    this.dataSource = dataSource;
    this.table = table;
    this.dialect = dialect;
  }

  /**
   * Runs {@code work} in a transaction holding the row lock of {@code id}, on a borrowed connection
   * (see {@link #run}). With {@code needRow}, a missing row is inserted first and the transaction
   * starts again; with {@code needNow}, the work gets the database's time, read once the row is
   * locked.
   */
  <T> T update(
      ConnectionId id,
      String action,
      Collection<String> secrets,
      boolean needRow,
      boolean needNow,
      LockedWork<T> work) {
    return run(id, action, secrets, c -> locked(c, id, needRow, needNow, work));
  }

  /**
   * Runs {@code work} on a borrowed connection in auto-commit mode, retrying serialization
   * failures, and turns SQL errors into {@link TokenStoreException}s whose text is scrubbed of
   * {@code secrets} and of anything that looks like a token. Runtime exceptions other than the
   * store's own (a bug, a driver's) are wrapped too, naming the connection.
   */
  <T> T run(@Nullable ConnectionId id, String action, Collection<String> secrets, SqlWork<T> work) {
    SQLException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try (Connection c = dataSource.getConnection()) {
        boolean autoCommit = c.getAutoCommit();
        if (!autoCommit) {
          c.setAutoCommit(true);
        }
        try {
          return work.run(c);
        } finally {
          if (!autoCommit) {
            c.setAutoCommit(false);
          }
        }
      } catch (SQLException e) {
        if (!SqlErrors.isRetryable(e)) {
          throw SqlErrors.failure(id, action, table.name(), secrets, e);
        }
        last = e;
      } catch (TokenStoreException e) {
        throw e;
      } catch (RuntimeException e) {
        // A driver's or pool's unchecked exception: wrapped like an SQLException, its text
        // scrubbed, its stack trace kept.
        throw SqlErrors.failure(id, action, table.name(), secrets, e);
      }
    }
    throw SqlErrors.failure(id, action, table.name(), secrets, Objects.requireNonNull(last));
  }

  /**
   * Runs {@code work} in a transaction holding the row lock of {@code id}. With {@code needRow}, a
   * missing row is inserted first (outside the transaction: a duplicate key aborts a PostgreSQL
   * transaction) and the transaction starts again.
   */
  @SuppressWarnings("unchecked")
  private <T> T locked(
      Connection c, ConnectionId id, boolean needRow, boolean needNow, LockedWork<T> work)
      throws SQLException {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Object result =
          inTransaction(
              c,
              () -> {
                Row row = table.lock(c, id);
                if (row == null && needRow) {
                  return NEED_ROW;
                }
                long now = needNow ? dialect.now(c) : 0;
                T r = work.apply(row, now);
                if (row != null && row.dirty) {
                  table.write(c, id, row);
                }
                return r;
              });
      if (result != NEED_ROW) {
        return (T) result;
      }
      table.insert(c, id);
    }
    throw new TokenStoreException(
        id,
        "connection "
            + id
            + ": could not create its row in table "
            + table.name()
            + " (contention)",
        null);
  }

  private static <T> T inTransaction(Connection c, SqlStep<T> step) throws SQLException {
    c.setAutoCommit(false);
    try {
      T result = step.run();
      c.commit();
      return result;
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
}
