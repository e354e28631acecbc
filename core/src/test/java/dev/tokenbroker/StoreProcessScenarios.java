package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The parent side of the store process tests that read the same for every store: separate JVMs
 * ({@link StoreChild}) share the store that {@code settings} describe, and the parent checks what
 * they did through a store built from the same settings ({@link TestStores#open}).
 */
public final class StoreProcessScenarios {
  private StoreProcessScenarios() {}

  /**
   * A child takes the lease (60 s) and is killed with {@code kill -9} while holding it. While it
   * lives its lease excludes the parent; after its death the lease still counts until it expires
   * and not a millisecond longer, with no release from the dead process. For stores that judge
   * leases by the store's clock: the parent's stores run on fixed clocks to look exactly at the
   * expiry.
   */
  public static void killedLeaseHolder_blocksOthersOnlyUntilItsLeaseExpires(
      Map<String, String> settings) throws Exception {
    long fence;
    Instant expiresAt;
    try (ChildJvm child = StoreChild.start(settings, "hold-lease", "child", "60000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      fence = Long.parseLong(leased[1]);
      expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));

      try (TokenStore live = storeAt(settings, Instant.now())) {
        assertThat(live.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0))
            .as("while the child lives, its lease excludes this process")
            .isNull();
      }

      child.kill();
    }

    try (TokenStore justBefore = storeAt(settings, expiresAt.minusMillis(1))) {
      assertThat(justBefore.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0))
          .as("the dead process's lease counts until it expires")
          .isNull();
    }
    try (TokenStore atExpiry = storeAt(settings, expiresAt)) {
      Lease lease = atExpiry.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0);
      assertThat(lease).as("and not a millisecond longer").isNotNull();
      assertThat(lease.fencingToken()).isGreaterThan(fence);
    }
  }

  private static TokenStore storeAt(Map<String, String> settings, Instant now) {
    return TestStores.open(settings, Clock.fixed(now, ZoneOffset.UTC));
  }

  /**
   * Three processes × 4 threads × 25 rounds of lease-guarded increments on one connection: with an
   * exclusive lease no compare-and-set conflicts, every increment lands, and the last set is whole.
   */
  public static void threeProcesses_neverHoldTheLeaseAtOnce(Map<String, String> settings)
      throws Exception {
    int processes = 3;
    int threads = 4;
    int rounds = 25;
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int p = 0; p < processes; p++) {
        children.add(
            StoreChild.start(
                settings,
                "lease-stress",
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

    try (TokenStore store = TestStores.open(settings)) {
      TokenSet stored = store.load(StoreChild.ID);
      assertThat(stored.version()).isEqualTo((long) processes * threads * rounds);
      assertThat(stored.sameTokensAs(StoreChild.tokensFor(stored.version()))).isTrue();
    }
  }

  /**
   * Two processes × 4 threads × 40 rounds of lease-guarded increments on two connections, so that
   * each process holds the store's locks of one connection while waiting for the other's: no store
   * operation fails (no "Resource deadlock avoided" from locks the operating system mistakes for a
   * deadlock between the processes), no compare-and-set conflicts, every increment lands, and every
   * last set is whole.
   */
  public static void severalProcessesOnSeveralConnections_neverFailNorConflict(
      Map<String, String> settings) throws Exception {
    int processes = 2;
    int threads = 4;
    int rounds = 40;
    int connections = 2;
    List<ChildJvm> children = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    try {
      for (int p = 0; p < processes; p++) {
        children.add(
            StoreChild.start(
                settings,
                "lease-stress-many",
                "process" + p,
                Integer.toString(threads),
                Integer.toString(rounds),
                Integer.toString(connections)));
      }
      for (ChildJvm child : children) {
        child.await("READY", 60);
      }
      for (ChildJvm child : children) {
        String done = null;
        String line;
        while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
          if (line.startsWith("CONFLICT") || line.startsWith("FAILURE")) {
            problems.add(line);
          } else if (line.startsWith("DONE")) {
            done = line;
          }
        }
        assertThat(done)
            .as("problems: %s", problems)
            .isEqualTo("DONE " + threads * rounds + " 0 0");
        assertThat(child.waitFor(30)).isZero();
      }
      assertThat(problems).isEmpty();
    } finally {
      for (ChildJvm child : children) {
        child.close();
      }
    }

    long total = 0;
    try (TokenStore store = TestStores.open(settings)) {
      for (int k = 0; k < connections; k++) {
        TokenSet stored = store.load(StoreChild.id(k));
        assertThat(stored).as("connection %s", StoreChild.id(k)).isNotNull();
        assertThat(stored.sameTokensAs(StoreChild.tokensFor(stored.version()))).isTrue();
        total += stored.version();
      }
    }
    assertThat(total).isEqualTo((long) processes * threads * rounds);
  }

  /**
   * Two children spin on {@link TokenStore#takeOnce} over {@code count} keys before the parent puts
   * them, so both race for each value as soon as it is there (see {@link StoreChild}'s {@code
   * take-once}): every value is taken, by one process only, and intact. The values expire an hour
   * after the parent's clock, which for a store on its server's clock assumes the server runs on
   * this machine's time (give or take far less than an hour).
   */
  public static void twoProcessesRacing_takeEachOneTimeRecordExactlyOnce(
      Map<String, String> settings) throws Exception {
    int count = 40;
    String prefix = "race:" + System.nanoTime() + ":";
    try (ChildJvm a = StoreChild.start(settings, "take-once", prefix, Integer.toString(count));
        ChildJvm b = StoreChild.start(settings, "take-once", prefix, Integer.toString(count))) {
      a.await("READY", 60);
      b.await("READY", 60);
      try (TokenStore parent = TestStores.open(settings)) {
        for (int k = 0; k < count; k++) {
          assertThat(
                  parent.putOnce(
                      prefix + k, new byte[] {(byte) k}, Instant.now().plus(Duration.ofHours(1))))
              .isTrue();
        }
      }
      Map<Integer, Integer> takes = new java.util.HashMap<>();
      int total = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (total < count && System.nanoTime() < deadline) {
        for (ChildJvm child : List.of(a, b)) {
          String line = child.nextLine(50, TimeUnit.MILLISECONDS);
          if (line != null && line.startsWith("TOOK ")) {
            total += took(line, takes);
          }
        }
      }
      a.kill();
      b.kill();
      for (ChildJvm child : List.of(a, b)) {
        for (String line : child.drain(10)) {
          if (line.startsWith("TOOK ")) {
            took(line, takes);
          }
        }
      }
      assertThat(takes).as("every key taken").hasSize(count);
      assertThat(takes.values()).as("and by one process only").containsOnly(1);
    }
    try (TokenStore parent = TestStores.open(settings)) {
      assertThat(parent.takeOnce(prefix + 0)).as("nothing left").isNull();
    }
  }

  private static int took(String line, Map<Integer, Integer> takes) {
    String[] took = line.split(" ");
    int k = Integer.parseInt(took[1]);
    assertThat(took[2]).as("value of key %d", k).isEqualTo(String.format("%02x", k));
    takes.merge(k, 1, Integer::sum);
    return 1;
  }
}
