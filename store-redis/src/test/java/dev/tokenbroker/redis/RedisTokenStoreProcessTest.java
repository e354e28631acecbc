package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.Lease;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Separate JVMs sharing one Redis. */
class RedisTokenStoreProcessTest {
  private final String prefix = TestRedis.freshPrefix();

  private RedisTokenStore store() {
    return RedisTokenStore.builder(TestRedis.connection()).keyPrefix(prefix).build();
  }

  @Test
  void aProcessKilledWhileHoldingTheLease_blocksOthersOnlyUntilRedisExpiresIt() throws Exception {
    long ttlMillis = 1500;
    long grantedNoEarlierThan;
    long fence;
    try (ChildJvm child =
        ChildJvm.start(
            RedisStoreChild.class,
            TestRedis.url(),
            prefix,
            "hold-lease",
            "child",
            Long.toString(ttlMillis))) {
      grantedNoEarlierThan = Long.parseLong(child.await("BEFORE", 60).substring(7));
      fence = Long.parseLong(child.await("LEASED", 60).split(" ")[1]);
      child.kill();
    }

    // Redis expires the lease by its own clock (PX): poll for it, bounded. The assertion is not on
    // timing: a lease granted at or after grantedNoEarlierThan cannot be free before its TTL.
    RedisTokenStore parent = store();
    Lease lease = null;
    long deadline = System.currentTimeMillis() + 30_000;
    while (lease == null && System.currentTimeMillis() < deadline) {
      lease = parent.tryAcquireLease(RedisStoreChild.ID, "parent", Duration.ofSeconds(5));
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
    int processes = 3;
    int threads = 4;
    int rounds = 25;
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int p = 0; p < processes; p++) {
        children.add(
            ChildJvm.start(
                RedisStoreChild.class,
                TestRedis.url(),
                prefix,
                "lease-stress",
                "process" + p,
                Integer.toString(threads),
                Integer.toString(rounds)));
      }
      List<String> conflicts = new ArrayList<>();
      for (ChildJvm child : children) {
        String done = null;
        String line;
        while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
          if (line.startsWith("CONFLICT")) {
            conflicts.add(line);
          } else if (line.startsWith("DONE")) {
            done = line;
          }
        }
        assertThat(done).isEqualTo("DONE " + threads * rounds + " 0");
        assertThat(child.waitFor(30)).isZero();
      }
      assertThat(conflicts).isEmpty();
    } finally {
      for (ChildJvm child : children) {
        child.close();
      }
    }

    TokenSet stored = store().load(RedisStoreChild.ID);
    assertThat(stored.version()).isEqualTo((long) processes * threads * rounds);
    assertThat(stored.sameTokensAs(RedisStoreChild.tokensFor(stored.version()))).isTrue();
  }
}
