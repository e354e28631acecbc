package dev.tokenbroker.jdbc;

import javax.sql.DataSource;

/** Against a real PostgreSQL: embedded, or the server in TOKENBROKER_TEST_POSTGRES_URL. */
class PostgresTokenStoreTest extends JdbcTokenStoreTestBase {
  @Override
  protected DataSource dataSource() {
    return TestDatabases.postgres();
  }
}
