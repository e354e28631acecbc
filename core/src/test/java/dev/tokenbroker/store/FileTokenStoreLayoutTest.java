package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the file store keeps on disk beside the token set (health, tombstone, the lease's second
 * line), what survives a reopening, what a crash between two files leaves, and what an instance of
 * the previous release sharing the directory reads.
 */
class FileTokenStoreLayoutTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");

  @TempDir Path dir;
  private final Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
  private FileTokenStore store;

  @BeforeEach
  void open() {
    store = reopen();
  }

  private FileTokenStore reopen() {
    return FileTokenStore.builder(dir).clock(clock).build();
  }

  private Path file(String kind) {
    return dir.resolve(FileTokenStore.baseName(MALL) + "." + kind);
  }

  private static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  private static HealthRecord degraded() {
    return new HealthRecord(
        Health.State.DEGRADED,
        "transient",
        "503 from the token endpoint",
        "503",
        T0,
        T0.plusSeconds(30),
        null,
        1,
        1,
        0);
  }

  private String files() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.joining(" "));
    }
  }

  // ---------------------------------------------------------------- files

  @Test
  void healthAndTombstone_liveInTheirOwnFilesBesideTheRecord() throws IOException {
    store.put(MALL, tokens("a"));
    byte[] record = Files.readAllBytes(file("tokens"));

    store.compareAndSetHealth(MALL, 0, degraded());

    assertThat(Files.readAllBytes(file("tokens"))).as("a health write").isEqualTo(record);
    assertThat(Files.readString(file("health")))
        .startsWith("{\"tokenbroker\":2,\"kind\":\"health\",\"connection\":\"cafe24:mall\"")
        .doesNotContain("access-a");
    assertThat(files()).isEqualTo("cafe24%3Amall.health cafe24%3Amall.lock cafe24%3Amall.tokens");

    Lease revoke = store.seizeLease(MALL, "revoker", TTL, 0);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), revoke);
    store.releaseLease(revoke);

    assertThat(Files.readString(file("tombstone")))
        .startsWith("{\"tokenbroker\":2,\"kind\":\"tombstone\",\"connection\":\"cafe24:mall\"")
        .contains("\"version\":1");
    assertThat(files())
        .isEqualTo("cafe24%3Amall.health cafe24%3Amall.lock cafe24%3Amall.tombstone");

    store.put(MALL, tokens("b"));

    // The new authorization cleared the record: its version moved on, and stays.
    assertThat(files())
        .isEqualTo("cafe24%3Amall.health-version cafe24%3Amall.lock cafe24%3Amall.tokens");
    assertThat(Files.readString(file("health-version")))
        .isEqualTo("tokenbroker-health-version 2\n");
  }

  @Test
  void aClear_keepsTheHealthVersionInAFileOfItsOwn_thatSurvivesAReopeningAndIsNoConnection()
      throws IOException {
    store.compareAndSetHealth(MALL, 0, degraded());
    store.compareAndSetHealth(MALL, 1, degraded());

    assertThat(store.compareAndSetHealth(MALL, 2, null)).isTrue();

    assertThat(files()).isEqualTo("cafe24%3Amall.health-version cafe24%3Amall.lock");
    assertThat(Files.readString(file("health-version")))
        .isEqualTo("tokenbroker-health-version 3\n");
    FileTokenStore reopened = reopen();
    assertThat(reopened.read(MALL)).isEqualTo(new StoredConnection(null, null, null, 3));
    assertThat(reopened.connections()).isEmpty();
    assertThat(reopened.changedSince(Instant.EPOCH)).isEmpty();
    assertThat(reopened.compareAndSetHealth(MALL, 3, degraded())).isTrue();
    assertThat(Files.readString(file("health"))).contains("\"version\":4");
  }

  @Test
  void aCrashBetweenKeepingTheVersionAndDeletingTheRecord_leavesTheRecordUnderTheNewVersion()
      throws IOException {
    store.compareAndSetHealth(MALL, 0, degraded());
    // A clear from version 1 kept version 2, then the process died before deleting the record.
    Files.writeString(file("health-version"), "tokenbroker-health-version 2\n");

    StoredConnection read = store.read(MALL);

    assertThat(read.healthVersion()).isEqualTo(2);
    assertThat(read.health()).isEqualTo(degraded().withVersion(2));
    assertThat(store.compareAndSetHealth(MALL, 1, null)).as("the clear did not return").isFalse();
  }

  @Test
  void aCorruptHealthVersion_isReported_butANewAuthorizationStillClearsTheRecord()
      throws IOException {
    store.put(MALL, tokens("a"));
    store.compareAndSetHealth(MALL, 0, degraded());
    Files.writeString(file("health-version"), "tokenbroker-health-version x\n");

    assertThatThrownBy(() -> store.read(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining(file("health-version").toString());
    assertThatThrownBy(() -> store.compareAndSetHealth(MALL, 1, null))
        .isInstanceOf(TokenStoreException.class);

    store.put(MALL, tokens("b"));

    assertThat(store.read(MALL).health()).isNull();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(2);
  }

  // ------------------------------------------------ health shared with the previous release

  @Test
  void aRecordClearedHere_isNoRecordToThePreviousRelease_whichWritesItsNextOneUnseenByStaleHolders()
      throws IOException {
    store.put(MALL, tokens("a"));
    store.compareAndSetHealth(MALL, 0, degraded());
    assertThat(PreviousRelease.readHealth(dir, MALL)).isEqualTo(degraded().withVersion(1));
    assertThat(store.compareAndSetHealth(MALL, 1, null)).isTrue();

    assertThat(PreviousRelease.readHealth(dir, MALL)).as("no record, no error").isNull();
    // It writes from version 0, as it always did: the record says version 1.
    assertThat(PreviousRelease.compareAndSetHealth(dir, MALL, 0, degraded())).isTrue();

    // This release reads the record under the kept version (the higher one), and continues.
    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isEqualTo(degraded().withVersion(2));
    assertThat(store.compareAndSetHealth(MALL, 1, null))
        .as("a holder of the version cleared here")
        .isFalse();
    assertThat(store.compareAndSetHealth(MALL, 2, degraded())).isTrue();
    assertThat(PreviousRelease.readHealth(dir, MALL)).isEqualTo(degraded().withVersion(3));
    assertThat(PreviousRelease.compareAndSetHealth(dir, MALL, 3, degraded())).isTrue();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(4);
    assertThat(PreviousRelease.connections(dir)).containsExactly(MALL);
  }

  @Test
  void aClearByThePreviousRelease_isSeenAsNoRecord_underTheVersionKeptHere() throws IOException {
    store.compareAndSetHealth(MALL, 0, degraded());
    store.compareAndSetHealth(MALL, 1, null); // keeps 2
    store.compareAndSetHealth(MALL, 2, degraded());
    store.compareAndSetHealth(MALL, 3, degraded());

    // The previous release deletes the record and knows nothing of the kept version.
    assertThat(PreviousRelease.compareAndSetHealth(dir, MALL, 4, null)).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isNull();
    assertThat(read.healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 2, degraded())).isTrue();
    assertThat(PreviousRelease.readHealth(dir, MALL).version()).isEqualTo(3);
  }

  @Test
  void aRecordThePreviousReleaseWrote_isReadAsItWrote() throws IOException {
    assertThat(PreviousRelease.compareAndSetHealth(dir, MALL, 0, degraded())).isTrue();
    assertThat(PreviousRelease.compareAndSetHealth(dir, MALL, 1, degraded())).isTrue();

    assertThat(store.read(MALL).health()).isEqualTo(degraded().withVersion(2));
    assertThat(store.compareAndSetHealth(MALL, 2, null)).isTrue();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(3);
  }

  @Test
  void read_ofAConnectionNeverWritten_createsNoFile() throws IOException {
    assertThat(store.read(MALL)).isEqualTo(StoredConnection.EMPTY);
    assertThat(store.load(MALL)).isNull();
    assertThat(files()).isEmpty();
  }

  @Test
  void theHighestVersion_survivesATombstoneAndAReopening() {
    store.put(MALL, tokens("a"));
    store.put(MALL, tokens("b"));
    store.put(MALL, tokens("c"));
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, 0);
    store.tombstone(MALL, new Tombstone("uninstalled", T0, 0), revoke);
    store.releaseLease(revoke);

    FileTokenStore reopened = reopen();

    assertThat(reopened.read(MALL).tombstone().version()).isEqualTo(3);
    assertThat(reopened.restore(MALL, tokens("old").withVersion(9)).tokens()).isNull();
    assertThat(reopened.put(MALL, tokens("new")).version()).isEqualTo(4);
  }

  @Test
  void fencesAndTheMarker_surviveAReopening() {
    Lease a = store.tryAcquireLease(MALL, "a", TTL, 500);
    store.markRenewing(a);

    FileTokenStore reopened = reopen();
    Lease b = reopened.seizeLease(MALL, "b", TTL, 0);

    assertThat(b.fencingToken()).isEqualTo(a.fencingToken() + 1);
    assertThat(b.renewalCutShortAt()).isEqualTo(T0);
  }

  @Test
  void corruptHealthRecord_isReportedNamingTheConnectionAndTheFile() throws IOException {
    store.put(MALL, tokens("a"));
    Files.writeString(file("health"), "{\"tokenbroker\":2,\"kind\":");

    assertThatThrownBy(() -> store.read(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining(file("health").toString());
    assertThatThrownBy(() -> store.compareAndSetHealth(MALL, 0, null))
        .isInstanceOf(TokenStoreException.class);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  // ---------------------------------------------------------------- a crash between two files

  @Test
  void aSetLeftBesideATombstoneThatOutranksIt_isNotThere() throws IOException {
    store.put(MALL, tokens("a"));
    Path copy = dir.resolve("copy");
    Files.copy(file("tokens"), copy);
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, 0);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), revoke);
    store.releaseLease(revoke);
    // A crash after the tombstone was written and before the set was deleted.
    Files.move(copy, file("tokens"));

    assertThat(store.load(MALL)).isNull();
    assertThat(store.read(MALL).tokens()).isNull();
    assertThat(store.read(MALL).tombstone()).isNotNull();
    assertThat(store.connections()).isEmpty();
    Lease renewal = store.seizeLease(MALL, "renewal", TTL, 0);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("late"), renewal))
        .isInstanceOf(TombstonedException.class);
    assertThat(store.authorize(MALL, tokens("new"), renewal).version()).isEqualTo(2);
    assertThat(Files.exists(file("tombstone"))).isFalse();
  }

  @Test
  void aTombstoneLeftBesideANewerSet_isOutranked() throws IOException {
    store.put(MALL, tokens("a"));
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, 0);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), revoke);
    Path copy = dir.resolve("copy");
    Files.copy(file("tombstone"), copy);
    store.authorize(MALL, tokens("b"), revoke);
    store.releaseLease(revoke);
    // A crash after the new authorization was written and before the tombstone was deleted.
    Files.move(copy, file("tombstone"));

    assertThat(store.load(MALL).accessToken()).isEqualTo("access-b");
    assertThat(store.read(MALL).tombstone()).isNull();
    assertThat(store.connections()).containsExactly(MALL);
    assertThat(TestStores.cas(store, MALL, 2, tokens("c")).version()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- the lease line

  @Test
  void theRenewalMarker_isASecondLineForTheLeasesFence() throws IOException {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    store.markRenewing(a);

    String[] lines = Files.readString(file("lock")).split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0])
        .isEqualTo(
            "tokenbroker-lease 1 "
                + a.fencingToken()
                + " "
                + a.expiresAt().toEpochMilli()
                + " "
                + base64("instance-a"));
    assertThat(lines[1])
        .isEqualTo(
            "tokenbroker-lease-2 "
                + a.fencingToken()
                + " renewing="
                + T0.toEpochMilli()
                + " holder=1");
  }

  @Test
  void theLeaseWithAMarker_readsTheSameToThePreviousReleasesParser() throws IOException {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    String before = Files.readString(file("lock"));
    store.markRenewing(a);

    PreviousRelease.Lease seen = PreviousRelease.read(Files.readString(file("lock")));

    assertThat(seen).isNotNull();
    assertThat(seen.fence).isEqualTo(a.fencingToken());
    assertThat(seen.owner).isEqualTo("instance-a");
    assertThat(seen.expiresAtMillis).isEqualTo(a.expiresAt().toEpochMilli());
    assertThat(PreviousRelease.read(before)).usingRecursiveComparison().isEqualTo(seen);
  }

  @Test
  void aLeaseWrittenByThePreviousRelease_isHeldAndHasNoMarker() throws IOException {
    Files.writeString(
        file("lock"),
        PreviousRelease.line(41, "old-instance", T0.plus(TTL).toEpochMilli()),
        StandardCharsets.US_ASCII);

    assertThat(store.tryAcquireLease(MALL, "new-instance", TTL, 0)).isNull();

    Lease seized = store.seizeLease(MALL, "new-instance", TTL, 0);
    assertThat(seized.fencingToken()).isEqualTo(42);
    assertThat(seized.renewalCutShortAt()).isNull();
  }

  @Test
  void thePreviousReleaseRewritingTheLease_dropsTheMarker() throws IOException {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    store.markRenewing(a);
    // The previous release grants the next lease: it writes its one line and truncates.
    Files.writeString(
        file("lock"),
        PreviousRelease.line(a.fencingToken() + 1, "old-instance", 0),
        StandardCharsets.US_ASCII);

    Lease b = store.tryAcquireLease(MALL, "new-instance", TTL, 0);

    assertThat(b.fencingToken()).isEqualTo(a.fencingToken() + 2);
    assertThat(b.renewalCutShortAt()).as("the marker went with the line").isNull();
  }

  @Test
  void aSecondLineOfAnotherFence_isIgnored() throws IOException {
    // What a crash between a rewrite and its truncation can leave: the new first line, the old
    // second one.
    Files.writeString(
        file("lock"),
        PreviousRelease.line(8, "instance-a", 0)
            + "tokenbroker-lease-2 7 renewing="
            + T0.toEpochMilli()
            + "\n",
        StandardCharsets.US_ASCII);

    assertThat(store.seizeLease(MALL, "b", TTL, 0).renewalCutShortAt()).isNull();
  }

  @Test
  void aSecondLineWithUnknownKeys_keepsItsMarker() throws IOException {
    Files.writeString(
        file("lock"),
        PreviousRelease.line(8, "instance-a", 0)
            + "tokenbroker-lease-2 8 future=1 renewing="
            + T0.toEpochMilli()
            + "\n",
        StandardCharsets.US_ASCII);

    assertThat(store.seizeLease(MALL, "b", TTL, 0).renewalCutShortAt()).isEqualTo(T0);
  }

  @Test
  void save_clearsTheMarker_release_leavesTheFirstLineOnly() throws IOException {
    store.put(MALL, tokens("a"));
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    store.markRenewing(a);

    store.compareAndSet(MALL, 1, tokens("b"), a);
    assertThat(Files.readString(file("lock")).split("\n")[1])
        .isEqualTo("tokenbroker-lease-2 " + a.fencingToken() + " holder=1");

    store.markRenewing(a);
    store.releaseLease(a);
    assertThat(Files.readString(file("lock")))
        .isEqualTo(PreviousRelease.line(a.fencingToken(), null, 0));
  }

  // ---------------------------------------------------------------- the holder lock

  @Test
  void aLeaseHolder_keepsTheHolderFileWhileItHoldsTheLease() throws IOException {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    assertThat(files()).isEqualTo("cafe24%3Amall.holder cafe24%3Amall.lock");

    store.releaseLease(a);

    assertThat(files()).isEqualTo("cafe24%3Amall.lock");
  }

  @Test
  void twoStoresOfOneJvm_seeEachOthersHolderAlive_andHandTheLeaseOverAfterExpiry()
      throws IOException {
    MutableClock time = new MutableClock();
    FileTokenStore first = FileTokenStore.builder(dir).clock(time).build();
    FileTokenStore second = FileTokenStore.builder(dir).clock(time).build();
    Lease a = first.tryAcquireLease(MALL, "broker-1", TTL, 0);

    assertThat(second.tryAcquireLease(MALL, "broker-2", TTL, 0)).isNull();

    time.now = a.expiresAt();
    Lease b = second.tryAcquireLease(MALL, "broker-2", TTL, 0);
    assertThat(b).isNotNull();
    first.releaseLease(a); // too late, and it must not let go of broker-2's holder lock
    first.close();
    time.now = b.expiresAt().minusMillis(1);
    assertThat(first.tryAcquireLease(MALL, "broker-1", TTL, 0)).isNull();
    assertThat(Files.readString(file("lock"))).contains(" holder=1");

    second.close(); // as if its process had died: the lease goes at once
    Lease c = first.tryAcquireLease(MALL, "broker-1", TTL, 0);
    assertThat(c).isNotNull();
    assertThat(c.fencingToken()).isGreaterThan(b.fencingToken());
  }

  @Test
  void aHolderLockedLeaseWhoseHolderFileNobodyLocks_isTakenOverAtOnce() throws IOException {
    // What a process killed while holding the lease leaves behind, mid-renewal.
    long expires = T0.plus(TTL).toEpochMilli();
    Files.writeString(
        file("lock"),
        PreviousRelease.line(5, "dead-instance", expires)
            + "tokenbroker-lease-2 5 renewing="
            + T0.minusSeconds(2).toEpochMilli()
            + " holder=1\n",
        StandardCharsets.US_ASCII);
    Files.writeString(file("holder"), "");

    Lease taken = store.tryAcquireLease(MALL, "successor", TTL, 0);

    assertThat(taken).isNotNull();
    assertThat(taken.fencingToken()).isEqualTo(6);
    assertThat(taken.renewalCutShortAt()).isEqualTo(T0.minusSeconds(2));
  }

  @Test
  void aLeaseWithoutTheHolderMark_lastsUntilItExpires_evenWithAnUnlockedHolderFile()
      throws IOException {
    // Written by the previous release, which keeps no holder lock.
    Files.writeString(
        file("lock"),
        PreviousRelease.line(5, "old-instance", T0.plus(TTL).toEpochMilli()),
        StandardCharsets.US_ASCII);
    Files.writeString(file("holder"), "");

    assertThat(store.tryAcquireLease(MALL, "successor", TTL, 0)).isNull();
  }

  @Test
  void aHolderLockedLeaseWithoutItsHolderFile_lastsUntilItExpires() throws IOException {
    Files.writeString(
        file("lock"),
        PreviousRelease.line(5, "instance", T0.plus(TTL).toEpochMilli())
            + "tokenbroker-lease-2 5 holder=1\n",
        StandardCharsets.US_ASCII);

    assertThat(store.tryAcquireLease(MALL, "successor", TTL, 0)).isNull();
  }

  /** A clock the test sets. */
  private static final class MutableClock extends Clock {
    volatile Instant now = T0;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static String base64(String owner) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(owner.getBytes(StandardCharsets.UTF_8));
  }

  /** The lease line as the release before the renewal marker reads and writes it, verbatim. */
  static final class PreviousRelease {
    static final class Lease {
      final long fence;
      final @Nullable String owner;
      final long expiresAtMillis;

      Lease(long fence, @Nullable String owner, long expiresAtMillis) {
        this.fence = fence;
        this.owner = owner;
        this.expiresAtMillis = expiresAtMillis;
      }
    }

    /** Its parser; null where it treats the lease as corrupt (and so as free). */
    static @Nullable Lease read(String text) {
      int newline = text.indexOf('\n');
      String[] parts = (newline < 0 ? text : text.substring(0, newline)).split(" ");
      try {
        if (parts.length == 5 && parts[0].equals("tokenbroker-lease") && parts[1].equals("1")) {
          String owner =
              parts[4].equals("-")
                  ? null
                  : new String(Base64.getUrlDecoder().decode(parts[4]), StandardCharsets.UTF_8);
          return new Lease(Long.parseLong(parts[2]), owner, Long.parseLong(parts[3]));
        }
      } catch (IllegalArgumentException e) {
        // fall through
      }
      return null;
    }

    /**
     * Its health record, read as it reads it: the {@code .health} file alone, no file no record
     * (version 0).
     */
    static @Nullable HealthRecord readHealth(Path dir, ConnectionId id) throws IOException {
      Path file = dir.resolve(FileTokenStore.baseName(id) + ".health");
      return Files.exists(file) ? StateCodec.decodeHealth(id, Files.readAllBytes(file)) : null;
    }

    /**
     * Its health compare-and-set: on the record's own version, numbering the next one {@code
     * expected + 1}, deleting the file to clear it.
     */
    static boolean compareAndSetHealth(
        Path dir, ConnectionId id, long expected, @Nullable HealthRecord next) throws IOException {
      HealthRecord stored = readHealth(dir, id);
      if ((stored == null ? 0 : stored.version()) != expected) {
        return false;
      }
      Path file = dir.resolve(FileTokenStore.baseName(id) + ".health");
      if (next == null) {
        Files.deleteIfExists(file);
      } else {
        Files.write(file, StateCodec.encodeHealth(id, next.withVersion(expected + 1)));
      }
      return true;
    }

    /** Its list of connections: the names of the {@code .tokens} files. */
    static List<ConnectionId> connections(Path dir) throws IOException {
      try (Stream<Path> files = Files.list(dir)) {
        return files
            .map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith(".tokens"))
            .map(n -> FileNames.connectionOf(dir.resolve(n)))
            .toList();
      }
    }

    /** Its writer's line. */
    static String line(long fence, @Nullable String owner, long expiresAtMillis) {
      return "tokenbroker-lease 1 "
          + fence
          + " "
          + expiresAtMillis
          + " "
          + (owner == null ? "-" : base64(owner))
          + "\n";
    }
  }
}
