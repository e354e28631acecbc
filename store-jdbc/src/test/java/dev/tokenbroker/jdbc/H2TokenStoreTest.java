package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;

class H2TokenStoreTest extends JdbcTokenStoreTestBase {
  private static final HikariDataSource H2 = TestDatabases.h2();

  @Override
  protected DataSource dataSource() {
    return H2;
  }

  @AfterAll
  static void closePool() {
    // One pool for the class; H2 forgets the database with it.
  }
}
