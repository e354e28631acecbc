package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariDataSource;

/** The schema scripts and the upgrade from version 1 on H2, in a fresh in-memory database each. */
class H2SchemaMigrationTest extends SchemaMigrationTestBase {
  @Override
  protected HikariDataSource freshDatabase() {
    return TestDatabases.h2();
  }

  @Override
  protected Dialect dialect() {
    return Dialect.H2;
  }
}
