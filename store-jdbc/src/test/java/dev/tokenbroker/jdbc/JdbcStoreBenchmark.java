package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A scenario runner, not a test: saves per second and the time to load 100,000 connections, for the
 * JDBC store on PostgreSQL (embedded, or {@code TOKENBROKER_TEST_POSTGRES_URL}) with encryption on.
 * Run with the test class path: {@code java -cp … dev.tokenbroker.jdbc.JdbcStoreBenchmark}. Prints
 * medians of three rounds.
 */
public final class JdbcStoreBenchmark {
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final EncryptionKeys KEYS = EncryptionKeys.of(new byte[32]);

  private JdbcStoreBenchmark() {}

  static TokenSet tokens(long n) {
    return TokenSet.builder()
        .accessToken("access-token-" + n + "-0123456789abcdefghijklmnopqrstuvwxyz")
        .refreshToken("refresh-token-" + n + "-0123456789abcdefghijklmnopqrstuvwxyz")
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
        .scopes(List.of("mall.read_order", "mall.write_product"))
        .extra("mall_id", "mall" + n)
        .build();
  }

  public static void main(String[] args) throws Exception {
    HikariDataSource pool = TestDatabases.pool(TestDatabases.postgresUrl(), 10);
    double[] single = new double[3];
    double[] parallel = new double[3];
    double[] load = new double[3];
    for (int round = 0; round < 3; round++) {
      String table = TestDatabases.freshTable();
      JdbcTokenStore store = JdbcTokenStore.builder(pool).table(table).encryption(KEYS).build();
      single[round] = savesPerSecond(store, 1, 1000);
      parallel[round] = savesPerSecond(store, 8, 500);
      load[round] = loadMillis(pool, table, store, 100_000);
      TestDatabases.drop(pool, table);
    }
    System.out.printf(
        "jdbc store (PostgreSQL): %.0f saves/s one thread, %.0f saves/s 8 threads;"
            + " 100,000 connections listed and loaded in %.0f ms (medians of 3)%n",
        median(single), median(parallel), median(load));
    pool.close();
    System.exit(0);
  }

  static double savesPerSecond(TokenStore store, int threads, int saves) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      ConnectionId id = ConnectionId.of("bench", "saver-" + threads + "-" + t);
      futures.add(
          pool.submit(
              () -> {
                TokenSet current = store.load(id);
                long v = current == null ? 0 : current.version();
                for (int i = 0; i < saves; i++) {
                  v = store.compareAndSet(id, v, tokens(i)).version();
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    return threads * saves / ((System.nanoTime() - start) / 1e9);
  }

  /** Inserts {@code n} rows in batches (only loading is measured), then loads all. */
  static double loadMillis(HikariDataSource ds, String table, TokenStore store, int n)
      throws Exception {
    TokenCodec codec = TokenCodec.encrypted(KEYS);
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (connection_id, version, token_data) VALUES (?, 1, ?)")) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        ConnectionId id = ConnectionId.of("cafe24", "mall-" + i);
        ps.setString(1, id.toString());
        ps.setString(2, codec.encodeToString(id, tokens(i).withVersion(1)));
        ps.addBatch();
        if (i % 1000 == 999) {
          ps.executeBatch();
        }
      }
      ps.executeBatch();
      c.commit();
      c.setAutoCommit(true);
    }
    long start = System.nanoTime();
    int loaded = 0;
    for (ConnectionId id : store.connections()) {
      if (store.load(id) != null) {
        loaded++;
      }
    }
    double ms = (System.nanoTime() - start) / 1e6;
    if (loaded < n) {
      throw new AssertionError("loaded " + loaded + " of " + n);
    }
    return ms;
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
