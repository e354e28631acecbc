package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.StoreBenchmark;
import dev.tokenbroker.spi.TokenCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;

/**
 * A scenario runner, not a test: {@link StoreBenchmark} for the JDBC store on PostgreSQL (embedded,
 * or {@code TOKENBROKER_TEST_POSTGRES_URL}) with encryption on. Run with the test class path:
 * {@code java -cp … dev.tokenbroker.jdbc.JdbcStoreBenchmark}. Prints medians of three rounds.
 */
public final class JdbcStoreBenchmark {
  private JdbcStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    HikariDataSource pool = TestDatabases.pool(TestDatabases.postgresUrl(), 10);
    StoreBenchmark.run(
        "jdbc store (PostgreSQL)",
        1000,
        500,
        index -> {
          String table = TestDatabases.freshTable();
          JdbcTokenStore store =
              JdbcTokenStore.builder(pool).table(table).encryption(StoreBenchmark.KEYS).build();
          return new StoreBenchmark.Round(
              store,
              (n, codec) -> insert(pool, table, n, codec),
              () -> TestDatabases.drop(pool, table));
        });
    pool.close();
    System.exit(0);
  }

  /** Inserts the rows in batches. */
  private static void insert(HikariDataSource ds, String table, int n, TokenCodec codec)
      throws Exception {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (connection_id, version, token_data) VALUES (?, 1, ?)")) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        ConnectionId id = StoreBenchmark.connection(i);
        ps.setString(1, id.toString());
        ps.setString(2, codec.encodeToString(id, StoreBenchmark.record(i)));
        ps.addBatch();
        if (i % 1000 == 999) {
          ps.executeBatch();
        }
      }
      ps.executeBatch();
      c.commit();
      c.setAutoCommit(true);
    }
  }
}
