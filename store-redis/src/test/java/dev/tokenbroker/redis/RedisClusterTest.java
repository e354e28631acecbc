package dev.tokenbroker.redis;

import dev.tokenbroker.testkit.cluster.ClusterScenario;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The testkit's {@link ClusterScenario} on one Redis shared by the three broker JVMs. */
class RedisClusterTest {
  @Test
  void threeProcessesRenewEachExpiryOnce_withoutInvalidGrantOrCallerErrors() throws Exception {
    ClusterScenario.run(
        Map.of("type", "redis", "uri", TestRedis.url(), "key-prefix", TestRedis.freshPrefix()));
  }
}
