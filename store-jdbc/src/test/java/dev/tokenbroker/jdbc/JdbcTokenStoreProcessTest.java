package dev.tokenbroker.jdbc;

import dev.tokenbroker.StoreProcessScenarios;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Separate JVMs sharing one PostgreSQL table. */
class JdbcTokenStoreProcessTest {
  private String table;

  @BeforeEach
  void createTable() {
    table = TestDatabases.freshTable();
    JdbcTokenStore.builder(TestDatabases.postgres()).table(table).build();
  }

  @AfterEach
  void dropTable() {
    TestDatabases.drop(TestDatabases.postgres(), table);
  }

  private Map<String, String> settings() {
    return Map.of(
        "type", "jdbc", "url", TestDatabases.postgresUrl(), "table", table, "pool-size", "8");
  }

  @Test
  void aProcessKilledWhileHoldingTheLease_blocksOthersOnlyUntilItsLeaseExpires() throws Exception {
    StoreProcessScenarios.killedLeaseHolder_blocksOthersOnlyUntilItsLeaseExpires(settings());
  }

  @Test
  void threeProcessesSharingTheTable_neverHoldTheLeaseAtOnce() throws Exception {
    StoreProcessScenarios.threeProcesses_neverHoldTheLeaseAtOnce(settings());
  }
}
