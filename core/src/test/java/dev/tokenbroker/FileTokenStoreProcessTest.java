package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file store shared by separate JVMs, and killed with {@code kill -9}. */
class FileTokenStoreProcessTest {
  private static final ConnectionId ID = FileStoreChild.ID;
  private static final int KILLS = Integer.getInteger("tokenbroker.crashTest.kills", 200);

  @TempDir Path dir;

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
        results.add(pool.submit(() -> killRepeatedly(chainDir, kills)));
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
  private static long[] killRepeatedly(Path dir, int kills) throws Exception {
    Random random = new Random();
    FileStoreChild.open(dir.toString()).compareAndSet(ID, 0, FileStoreChild.tokensFor(1));
    long acknowledged = 1;
    long killedMidSave = 0;
    for (int kill = 0; kill < kills; kill++) {
      long lastAck = acknowledged;
      try (ChildJvm child = ChildJvm.start(FileStoreChild.class, "save-loop", dir.toString())) {
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

      TokenSet stored = FileStoreChild.open(dir.toString()).load(ID);
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
      assertThat(stored.sameTokensAs(FileStoreChild.tokensFor(stored.version())))
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
  void aProcessKilledWhileHoldingTheLease_blocksOthersOnlyUntilItsLeaseExpires() throws Exception {
    long fence;
    Instant expiresAt;
    try (ChildJvm child =
        ChildJvm.start(FileStoreChild.class, "hold-lease", dir.toString(), "child", "60000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      fence = Long.parseLong(leased[1]);
      expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));

      // While the child lives, its lease excludes this process.
      FileTokenStore live =
          FileTokenStore.builder(dir).clock(Clock.fixed(Instant.now(), ZoneOffset.UTC)).build();
      assertThat(live.tryAcquireLease(ID, "parent", Duration.ofSeconds(5))).isNull();

      child.kill();
    }

    // The dead child's lease still counts until it expires ...
    FileTokenStore justBefore =
        FileTokenStore.builder(dir)
            .clock(Clock.fixed(expiresAt.minusMillis(1), ZoneOffset.UTC))
            .build();
    assertThat(justBefore.tryAcquireLease(ID, "parent", Duration.ofSeconds(5))).isNull();

    // ... and not a millisecond longer: no release is needed from the dead process.
    FileTokenStore atExpiry =
        FileTokenStore.builder(dir).clock(Clock.fixed(expiresAt, ZoneOffset.UTC)).build();
    Lease lease = atExpiry.tryAcquireLease(ID, "parent", Duration.ofSeconds(5));
    assertThat(lease).isNotNull();
    assertThat(lease.fencingToken()).isGreaterThan(fence);
  }

  @Test
  void threeProcessesSharingTheDirectory_neverHoldTheLeaseAtOnce() throws Exception {
    int processes = 3;
    int threads = 4;
    int rounds = 25;
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int p = 0; p < processes; p++) {
        children.add(
            ChildJvm.start(
                FileStoreChild.class,
                "lease-stress",
                dir.toString(),
                "process" + p,
                Integer.toString(threads),
                Integer.toString(rounds)));
      }
      List<String> conflicts = new ArrayList<>();
      for (ChildJvm child : children) {
        child.await("READY", 60);
      }
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

    TokenSet stored = FileStoreChild.open(dir.toString()).load(ID);
    assertThat(stored.version()).isEqualTo((long) processes * threads * rounds);
    assertThat(stored.sameTokensAs(FileStoreChild.tokensFor(stored.version()))).isTrue();
  }
}
