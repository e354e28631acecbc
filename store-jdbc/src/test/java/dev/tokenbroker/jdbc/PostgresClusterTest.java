package dev.tokenbroker.jdbc;

import dev.tokenbroker.testkit.cluster.ClusterScenario;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The testkit's {@link ClusterScenario} on one PostgreSQL table shared by the three broker JVMs.
 */
class PostgresClusterTest {
  @Test
  void threeProcessesRenewEachExpiryOnce_withoutInvalidGrantOrCallerErrors() throws Exception {
    String table = TestDatabases.freshTable();
    try {
      ClusterScenario.run(
          Map.of("type", "jdbc", "url", TestDatabases.postgresUrl(), "table", table));
    } finally {
      TestDatabases.drop(TestDatabases.postgres(), table);
    }
  }
}
