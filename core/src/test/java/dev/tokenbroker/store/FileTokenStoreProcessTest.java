package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.StoreChild;
import dev.tokenbroker.StoreProcessScenarios;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenCodecTest;
import dev.tokenbroker.TokenSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store, encrypted, shared by separate JVMs ({@link StoreChild}), and killed with {@code
 * kill -9}.
 */
class FileTokenStoreProcessTest {
  private static final ConnectionId ID = StoreChild.ID;
  private static final int KILLS = Integer.getInteger("tokenbroker.crashTest.kills", 60);

  @TempDir Path dir;
  private Path key;

  @BeforeEach
  void writeKey() throws Exception {
    key = dir.resolve("key");
    Files.writeString(key, TokenCodecTest.keyText(9) + "\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
  }

  /** The settings of an encrypted file store in {@code directory}. */
  private Map<String, String> settings(Path directory) {
    return Map.of("type", "file", "path", directory.toString(), "key-file", key.toString());
  }

  @Test
  void killedWhileSavingInATightLoop_theStoreHoldsTheLastAcknowledgedSetOrTheNext()
      throws Exception {
    // Two directories killed in parallel: most of each run is the child JVM starting.
    int chains = 2;
    ExecutorService pool = Executors.newFixedThreadPool(chains);
    try {
      List<Future<long[]>> results = new ArrayList<>();
      for (int c = 0; c < chains; c++) {
        Path chainDir = dir.resolve("chain" + c);
        int kills = KILLS / chains + (c < KILLS % chains ? 1 : 0);
        results.add(pool.submit(() -> killRepeatedly(settings(chainDir), chainDir, kills)));
      }
      long saves = 0;
      long midSave = 0;
      for (Future<long[]> r : results) {
        long[] counts = r.get(20, TimeUnit.MINUTES);
        saves += counts[0];
        midSave += counts[1];
      }
      // Not asserted (it depends on timing), but shows what the test exercised.
      System.out.printf(
          "%d kills, %d saves acknowledged, %d kills between a save and its acknowledgement%n",
          KILLS, saves, midSave);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Returns {saves, kills that landed between a save and its acknowledgement}. */
  private static long[] killRepeatedly(Map<String, String> settings, Path dir, int kills)
      throws Exception {
    Random random = new Random();
    TestStores.open(settings).put(ID, StoreChild.tokensFor(1));
    long acknowledged = 1;
    long killedMidSave = 0;
    for (int kill = 0; kill < kills; kill++) {
      long lastAck = acknowledged;
      try (ChildJvm child = StoreChild.start(settings, "save-loop")) {
        String ready = child.await("READY", 60);
        assertThat(Long.parseLong(ready.substring(6))).isEqualTo(lastAck);
        // A crash test, not a timing assertion: kill at a random moment of the save loop.
        Thread.sleep(random.nextInt(40));
        child.kill();
        for (String line : child.drain(10)) {
          if (line.startsWith("ACK ")) {
            lastAck = Long.parseLong(line.substring(4));
          }
        }
      }

      TokenSet stored = TestStores.open(settings).load(ID);
      assertThat(stored).as("%s after kill %d", dir, kill).isNotNull();
      // The guarantee: never behind what was acknowledged (a save that returned is on disk).
      // Being ahead is fine: the child may finish a save, or even print an ACK the parent's
      // reader has not collected, before the kill lands; that loses nothing.
      assertThat(stored.version())
          .as("%s after kill %d, last acknowledged %d", dir, kill, lastAck)
          .isGreaterThanOrEqualTo(lastAck);
      if (stored.version() > lastAck) {
        killedMidSave++;
      }
      // Every field tells the version it was saved as: a torn or mixed record would show.
      assertThat(stored.sameTokensAs(StoreChild.tokensFor(stored.version())))
          .as("record of version %d is whole", stored.version())
          .isTrue();
      acknowledged = stored.version();
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .allMatch(n -> n.startsWith(FileTokenStore.baseName(ID) + "."));
    }
    return new long[] {acknowledged - 1, killedMidSave};
  }

  @Test
  void aLiveProcessHoldingTheLease_blocksOthersUntilItsLeaseExpiresAndNotLonger() throws Exception {
    Map<String, String> settings = settings(dir.resolve("tokens"));
    try (ChildJvm child = StoreChild.start(settings, "hold-lease", "child", "60000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      long fence = Long.parseLong(leased[1]);
      Instant expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));

      try (TokenStore justBefore = storeAt(settings, expiresAt.minusMillis(1))) {
        assertThat(justBefore.tryAcquireLease(ID, "parent", Duration.ofSeconds(5), 0))
            .as("the live child's lease counts until it expires")
            .isNull();
      }
      try (TokenStore atExpiry = storeAt(settings, expiresAt)) {
        Lease lease = atExpiry.tryAcquireLease(ID, "parent", Duration.ofSeconds(5), 0);
        assertThat(lease).as("and not a millisecond longer").isNotNull();
        assertThat(lease.fencingToken()).isGreaterThan(fence);
      }
    }
  }

  @Test
  void aProcessKilledMidRenewal_losesItsLeaseAtOnce_andTheSuccessorSeesTheRenewalCutShort()
      throws Exception {
    Map<String, String> settings = settings(dir.resolve("tokens"));
    long fence;
    Instant expiresAt;
    try (ChildJvm child = StoreChild.start(settings, "hold-lease-renewing", "child", "600000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      fence = Long.parseLong(leased[1]);
      expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));
      child.await("RENEWING", 60);
      try (TokenStore live = TestStores.open(settings)) {
        assertThat(live.tryAcquireLease(ID, "parent", Duration.ofSeconds(5), 0))
            .as("while the child lives, its lease excludes this process")
            .isNull();
      }

      child.kill();
    }

    Instant now = Instant.now();
    assertThat(now).as("long before the dead child's lease would expire").isBefore(expiresAt);
    try (TokenStore successor = storeAt(settings, now)) {
      Lease lease = successor.tryAcquireLease(ID, "parent", Duration.ofSeconds(5), 0);
      assertThat(lease).as("the dead process's lease goes with it").isNotNull();
      assertThat(lease.fencingToken()).isGreaterThan(fence);
      assertThat(lease.renewalCutShortAt()).isNotNull();
    }
  }

  private static TokenStore storeAt(Map<String, String> settings, Instant now) {
    return TestStores.open(settings, Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void threeProcessesSharingTheDirectory_neverHoldTheLeaseAtOnce() throws Exception {
    StoreProcessScenarios.threeProcesses_neverHoldTheLeaseAtOnce(settings(dir.resolve("tokens")));
  }

  @Test
  void severalThreadsInSeveralProcessesOnTwoConnections_neverFailWithAFalseDeadlock()
      throws Exception {
    // Linux detects file-lock deadlocks per process, not per thread: a process whose one thread
    // holds a connection's file lock while another waits for a lock the other process holds looks
    // like a deadlock to the kernel, which fails the lock with "Resource deadlock avoided".
    StoreProcessScenarios.severalProcessesOnSeveralConnections_neverFailNorConflict(
        settings(dir.resolve("tokens")));
  }

  @Test
  void takeOnce_byTwoProcessesRacingForEveryKey_eachValueIsTakenExactlyOnce() throws Exception {
    StoreProcessScenarios.twoProcessesRacing_takeEachOneTimeRecordExactlyOnce(
        settings(dir.resolve("tokens")));
  }
}
