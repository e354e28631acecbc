package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.Statement;

/**
 * The schema scripts and the upgrade from version 1 on a real PostgreSQL, in a fresh schema each.
 */
class PostgresSchemaMigrationTest extends SchemaMigrationTestBase {
  private String schema;

  @Override
  protected HikariDataSource freshDatabase() throws Exception {
    schema = TestDatabases.freshTable().replace("tb_test_", "tb_schema_");
    try (Connection c = TestDatabases.postgres().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(TestDatabases.postgresUrl());
    config.setSchema(schema); // unqualified names resolve in this schema only
    config.setMaximumPoolSize(8);
    config.setMinimumIdle(1);
    config.setPoolName("test-" + schema);
    return new HikariDataSource(config);
  }

  @Override
  protected Dialect dialect() {
    return Dialect.POSTGRESQL;
  }

  @Override
  protected void dropDatabase() throws Exception {
    super.dropDatabase();
    try (Connection c = TestDatabases.postgres().getConnection();
        Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA " + schema + " CASCADE");
    }
  }
}
