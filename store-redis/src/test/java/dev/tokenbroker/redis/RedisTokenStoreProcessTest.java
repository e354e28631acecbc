package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.StoreChild;
import dev.tokenbroker.StoreProcessScenarios;
import dev.tokenbroker.store.Lease;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Separate JVMs sharing one Redis. */
class RedisTokenStoreProcessTest {
  private final String prefix = TestRedis.freshPrefix();

  private Map<String, String> settings() {
    return Map.of("type", "redis", "uri", TestRedis.url(), "key-prefix", prefix);
  }

  @Test
  void aProcessKilledWhileHoldingTheLease_blocksOthersOnlyUntilItExpiresByRedisClock()
      throws Exception {
    long ttlMillis = 1500;
    long grantedNoEarlierThan;
    long fence;
    try (ChildJvm child =
        StoreChild.start(settings(), "hold-lease", "child", Long.toString(ttlMillis))) {
      grantedNoEarlierThan = Long.parseLong(child.await("BEFORE", 60).substring(7));
      fence = Long.parseLong(child.await("LEASED", 60).split(" ")[1]);
      child.kill();
    }

    // The lease expires by Redis's clock (TIME against the holder record's expiry): poll for it,
    // bounded. The assertion is not on timing: a lease granted at or after grantedNoEarlierThan
    // cannot be free before its TTL.
    RedisTokenStore parent =
        RedisTokenStore.builder(TestRedis.connection()).keyPrefix(prefix).build();
    Lease lease = null;
    long deadline = System.currentTimeMillis() + 30_000;
    while (lease == null && System.currentTimeMillis() < deadline) {
      lease = parent.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0);
      if (lease == null) {
        Thread.sleep(20);
      }
    }
    long acquiredAt = System.currentTimeMillis();

    assertThat(lease).as("the dead process's lease expired by itself").isNotNull();
    assertThat(acquiredAt).isGreaterThanOrEqualTo(grantedNoEarlierThan + ttlMillis);
    assertThat(lease.fencingToken()).isGreaterThan(fence);
  }

  @Test
  void threeProcessesSharingRedis_neverHoldTheLeaseAtOnce() throws Exception {
    StoreProcessScenarios.threeProcesses_neverHoldTheLeaseAtOnce(settings());
  }

  @Test
  void twoProcessesSharingRedis_takeEachOneTimeRecordExactlyOnce() throws Exception {
    StoreProcessScenarios.twoProcessesRacing_takeEachOneTimeRecordExactlyOnce(settings());
  }
}
