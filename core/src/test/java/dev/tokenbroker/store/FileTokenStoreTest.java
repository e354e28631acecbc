package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class FileTokenStoreTest extends TokenStoreContractTest {
  @TempDir Path temp;
  Path dir;

  @Override
  protected TokenStore createStore(Clock clock) {
    dir = temp.resolve("tokens");
    return FileTokenStore.builder(dir).clock(clock).build();
  }

  private FileTokenStore fileStore() {
    return (FileTokenStore) store;
  }

  private Path recordOf(ConnectionId id) {
    return fileStore().directory().resolve(FileTokenStore.baseName(id) + ".tokens");
  }

  // ---------------------------------------------------------------- names and permissions

  @Test
  void baseName_keepsLowerCaseLettersDigitsDashesAndUnderscores_escapesTheRest() {
    assertThat(FileTokenStore.baseName(MALL)).isEqualTo("cafe24%3Amall");
    assertThat(FileTokenStore.baseName(ConnectionId.of("naver", "seller:1_2-3")))
        .isEqualTo("naver%3Aseller%3A1_2-3");
    assertThat(FileTokenStore.baseName(ConnectionId.of("kakao", "../../etc/passwd")))
        .isEqualTo("kakao%3A%2E%2E%2F%2E%2E%2Fetc%2Fpasswd");
    // Upper case is escaped, so "Mall" and "mall" differ on case-insensitive file systems too.
    assertThat(FileTokenStore.baseName(ConnectionId.of("cafe24", "Mall")))
        .isEqualTo("cafe24%3A%4Dall");
  }

  @Test
  void veryLongIds_getShortenedNamesAndAreStillListed() {
    ConnectionId longId = ConnectionId.of("kakao", "가".repeat(200));
    ConnectionId longId2 = ConnectionId.of("kakao", "가".repeat(199) + "나");

    store.put(longId, tokens("a"));
    store.put(longId2, tokens("b"));

    assertThat(FileTokenStore.baseName(longId)).hasSizeLessThan(200).contains("~");
    assertThat(FileTokenStore.baseName(longId)).isNotEqualTo(FileTokenStore.baseName(longId2));
    assertThat(store.connections()).containsExactlyInAnyOrder(longId, longId2);
    assertThat(store.load(longId).accessToken()).isEqualTo("access-a");
    assertThat(store.load(longId2).accessToken()).isEqualTo("access-b");
  }

  @Test
  void connections_ignoresFilesThisStoreDidNotWrite() throws IOException {
    store.put(MALL, tokens("a"));
    Files.writeString(dir.resolve("README.tokens"), "not ours");
    Files.writeString(dir.resolve("notes.txt"), "not ours");
    Files.writeString(dir.resolve("cafe24%3Aother.tokens.tmp"), "a crash leftover");

    assertThat(store.connections()).containsExactly(MALL);
  }

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void directoryAndFiles_areOwnerOnly() throws IOException {
    store.put(MALL, tokens("a"));
    store.tryAcquireLease(MALL, "a", TTL, 0);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.collect(Collectors.toList())) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
            .as(f.getFileName().toString())
            .isEqualTo("rw-------");
      }
    }
  }

  @Test
  void save_leavesNoTemporaryFileBehind() throws IOException {
    store.put(MALL, tokens("a"));
    TestStores.cas(store, MALL, 1, tokens("b"));

    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("cafe24%3Amall.tokens", "cafe24%3Amall.lock");
    }
  }

  @Test
  void save_overwritesATemporaryFileLeftByACrash() throws IOException {
    store.put(MALL, tokens("a"));
    Path leftover = dir.resolve("cafe24%3Amall.tokens.tmp");
    Files.writeString(
        leftover, "half a record from a process killed mid-save, longer than a record");

    TestStores.cas(store, MALL, 1, tokens("b"));

    assertThat(store.load(MALL).accessToken()).isEqualTo("access-b");
    assertThat(leftover).doesNotExist();
  }

  @Test
  void clearStore_recordIsReadableJson() throws IOException {
    store.put(MALL, tokens("a"));

    String text = Files.readString(recordOf(MALL));
    assertThat(text)
        .startsWith("{\"tokenbroker\":1,\"connection\":\"cafe24:mall\",\"tokens\":{")
        .contains("\"version\":1");
  }

  // ---------------------------------------------------------------- corrupt records

  @Test
  void corruptRecord_loadFailsNamingTheConnection() throws IOException {
    store.put(MALL, tokens("a"));
    Files.writeString(recordOf(MALL), "{\"tokenbroker\":1,\"conn");

    assertThatThrownBy(() -> store.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("corrupt")
        .hasMessageContaining(recordOf(MALL).toString());
  }

  @Test
  void corruptRecord_isNeverOverwrittenByCompareAndSet() throws IOException {
    store.put(MALL, tokens("a"));
    byte[] garbage = "garbage that once held tokens".getBytes(StandardCharsets.UTF_8);
    Files.write(recordOf(MALL), garbage);

    for (long expected : new long[] {0, 1, 2}) {
      assertThatThrownBy(() -> TestStores.cas(store, MALL, expected, tokens("b")))
          .isInstanceOf(TokenStoreException.class)
          .isNotInstanceOf(VersionConflictException.class)
          .hasMessageContaining("cafe24:mall");
    }
    assertThat(Files.readAllBytes(recordOf(MALL))).isEqualTo(garbage);
  }

  @Test
  void emptyRecord_isReportedNotTakenAsMissing() throws IOException {
    store.put(MALL, tokens("a"));
    Files.write(recordOf(MALL), new byte[0]);

    assertThatThrownBy(() -> store.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("cafe24:mall")
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> store.put(MALL, tokens("b"))).isInstanceOf(TokenStoreException.class);
  }

  @Test
  void recordOfAnotherConnection_isRejected() throws IOException {
    store.put(MALL, tokens("a"));
    Files.copy(recordOf(MALL), recordOf(SELLER));

    assertThatThrownBy(() -> store.load(SELLER))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection naver:seller:12345")
        .hasMessageContaining("belongs to connection cafe24:mall");
  }

  @Test
  void corruptRecord_canStillBeTombstonedAndAuthorizedAgain() throws IOException {
    store.put(MALL, tokens("a"));
    Files.writeString(recordOf(MALL), "garbage");

    Lease lease = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), lease);

    assertThat(store.load(MALL)).isNull();
    assertThat(store.put(MALL, tokens("b")).version()).isPositive();
  }

  @Test
  void corruptLeaseLine_readsAsFree() throws IOException {
    Files.writeString(dir.resolve("cafe24%3Amall.lock"), "tokenbroker-lease 1 x");

    assertThat(store.tryAcquireLease(MALL, "a", TTL, 0)).isNotNull();
  }

  // ---------------------------------------------------------------- failing saves

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void save_throughAPlantedSymbolicLink_failsAndWritesNothingThere() throws IOException {
    store.put(MALL, tokens("a"));
    Path victim = temp.resolve("victim.txt");
    Files.writeString(victim, "precious");
    Files.createSymbolicLink(dir.resolve("cafe24%3Amall.tokens.tmp"), victim);

    assertThatThrownBy(() -> TestStores.cas(store, MALL, 1, tokens("b")))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall");
    assertThat(victim).hasContent("precious");
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void save_inAReadOnlyDirectory_failsLoudlyAndKeepsTheOldRecord() throws Exception {
    store.put(MALL, tokens("a"));
    store.tryAcquireLease(
        MALL, "a", TTL, 0); // the lock file exists: the failure is the save itself
    boolean root = "root".equals(System.getProperty("user.name"));
    // root ignores permission bits; the immutable attribute stops it too.
    if (root) {
      assumeTrue(run("chattr", "+i", dir.toString()) == 0, "chattr is not available");
    } else {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-x------"));
    }
    try {
      assertThatThrownBy(() -> TestStores.cas(store, MALL, 1, tokens("b")))
          .isInstanceOf(TokenStoreException.class)
          .isNotInstanceOf(VersionConflictException.class)
          .hasMessageContaining("connection cafe24:mall")
          .hasMessageContaining("save tokens")
          .hasMessageNotContaining("access-b");
      assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
    } finally {
      if (root) {
        run("chattr", "-i", dir.toString());
      } else {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      }
    }
    assertThat(TestStores.cas(store, MALL, 1, tokens("b")).version()).isEqualTo(2);
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void save_onAFullDisk_failsLoudlyAndKeepsTheOldRecord() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
    Path mount = temp.resolve("small-disk");
    Files.createDirectories(mount);
    assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.toString()) == 0,
        "cannot mount a tmpfs here");
    try {
      FileTokenStore small = FileTokenStore.builder(mount.resolve("tokens")).build();
      TokenSet big = tokens("a").toBuilder().extra("padding", "x".repeat(3000)).build();
      small.put(MALL, big);
      small.tryAcquireLease(MALL, "a", TTL, 0);
      Path filler = mount.resolve("filler");
      fill(filler);

      assertThatThrownBy(() -> TestStores.cas(small, MALL, 1, big.toBuilder().build()))
          .isInstanceOf(TokenStoreException.class)
          .hasMessageContaining("connection cafe24:mall")
          .hasMessageContaining("No space left on device");
      assertThat(small.load(MALL).version()).isEqualTo(1);
      assertThat(small.load(MALL).sameTokensAs(big)).isTrue();
      assertThat(mount.resolve("tokens").resolve("cafe24%3Amall.tokens.tmp")).doesNotExist();

      Files.delete(filler);
      assertThat(TestStores.cas(small, MALL, 1, tokens("b")).version()).isEqualTo(2);
    } finally {
      run("umount", mount.toString());
    }
  }

  private static void fill(Path file) throws IOException {
    byte[] block = new byte[1024];
    try (var out = Files.newOutputStream(file)) {
      while (true) {
        out.write(block);
        out.flush();
      }
    } catch (IOException e) {
      // the disk is full
    }
  }

  private static int run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  // ---------------------------------------------------------------- sharing a directory

  @Test
  void twoStoresOnOneDirectory_shareVersionsAndLeases() {
    FileTokenStore other = FileTokenStore.builder(dir).clock(clock).build();

    store.put(MALL, tokens("a"));
    assertThatThrownBy(() -> TestStores.cas(other, MALL, 0, tokens("b")))
        .isInstanceOf(VersionConflictException.class);
    assertThat(other.load(MALL).accessToken()).isEqualTo("access-a");
    assertThat(other.put(MALL, tokens("c")).version()).isEqualTo(2);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-c");

    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    assertThat(other.tryAcquireLease(MALL, "instance-b", TTL, 0)).isNull();
    other.releaseLease(lease);
    assertThat(other.tryAcquireLease(MALL, "instance-b", TTL, 0)).isNotNull();
  }

  // ---------------------------------------------------------------- logging

  @Test
  void clearStore_saysOnceThatTokensAreInTheClear_andNeverLogsTokens() {
    List<String> lines =
        captureStandardError(
            () -> {
              FileTokenStore s = FileTokenStore.builder(temp.resolve("other")).clock(clock).build();
              s.put(MALL, tokens("logsecret"));
              TestStores.cas(s, MALL, 1, tokens("logsecret2"));
              s.load(MALL);
            });

    assertThat(lines.stream().filter(l -> l.contains("stored in the clear"))).hasSize(1);
    assertThat(String.join("\n", lines)).doesNotContain("logsecret");
  }

  static List<String> captureStandardError(Runnable action) {
    PrintStream original = System.err;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    return new ArrayList<>(List.of(buffer.toString(StandardCharsets.UTF_8).split("\n")));
  }

  // ---------------------------------------------------------------- registry and one-time records

  @Test
  void changedSince_renewalsKeepTheRegistryTime_authorizationsAndTombstonesMoveIt() {
    store.put(MALL, tokens("a"));
    Instant created = clock.instant();
    clock.advance(Duration.ofMinutes(5));
    Instant afterCreation = clock.instant();
    cas(MALL, 1, tokens("b"));
    assertThat(store.changedSince(created)).containsExactly(MALL);
    assertThat(store.changedSince(afterCreation)).as("a renewal is no registry change").isEmpty();

    clock.advance(Duration.ofMinutes(5));
    Instant beforeRevoke = clock.instant();
    Lease lease = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", beforeRevoke, 2), lease);
    store.releaseLease(lease);
    assertThat(store.changedSince(beforeRevoke)).containsExactly(MALL);
    assertThat(store.changedSince(beforeRevoke.plusMillis(1))).isEmpty();
  }

  @Test
  void changedSince_findsConnectionsWithShortenedFileNames() {
    ConnectionId longId = ConnectionId.of("kakao", "가".repeat(200));
    Instant before = clock.instant();
    store.put(longId, tokens("a"));
    assertThat(store.changedSince(before)).containsExactly(longId);

    clock.advance(Duration.ofMinutes(1));
    Instant beforeRevoke = clock.instant();
    Lease lease = store.seizeLease(longId, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(longId, new Tombstone("revoked", beforeRevoke, 1), lease);
    assertThat(store.changedSince(beforeRevoke))
        .as("found by its tombstone, which names the connection too")
        .containsExactly(longId);
  }

  @Test
  void putOnce_expiredRecordIsReplaced_andTheFileIsNamedByTheKeysHash() throws IOException {
    assertThat(store.putOnce("launch:secret-ish", new byte[] {1}, clock.instant().plusSeconds(60)))
        .isTrue();
    Path file = fileStore().onceFile("launch:secret-ish");
    assertThat(file.getParent()).isEqualTo(dir.resolve("once"));
    assertThat(file.getFileName().toString())
        .isEqualTo(OnceKeys.digest("launch:secret-ish") + ".once");
    assertThat(store.putOnce("launch:secret-ish", new byte[] {2}, clock.instant().plusSeconds(60)))
        .isFalse();

    clock.advance(Duration.ofSeconds(60)); // exactly at the expiry: expired
    assertThat(store.putOnce("launch:secret-ish", new byte[] {3}, clock.instant().plusSeconds(60)))
        .isTrue();
    assertThat(store.takeOnce("launch:secret-ish")).containsExactly(3);
    try (Stream<Path> left = Files.list(dir.resolve("once"))) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .as("nothing but the lock is left")
          .containsExactly(".lock");
    }
  }

  @Test
  void takeOnce_oneTickBeforeTheExpiry_stillGetsTheValue() {
    assertThat(store.putOnce("k", new byte[] {5}, clock.instant().plusSeconds(10))).isTrue();
    clock.advance(Duration.ofSeconds(10).minusMillis(1));
    assertThat(store.takeOnce("k")).containsExactly(5);
  }

  @Test
  void putOnce_sweepsExpiredRecordsNobodyTook() throws IOException {
    for (int i = 0; i < 5; i++) {
      assertThat(store.putOnce("old" + i, new byte[] {1}, clock.instant().plusSeconds(10)))
          .isTrue();
    }
    clock.advance(Duration.ofMinutes(2));
    assertThat(store.putOnce("new", new byte[] {2}, clock.instant().plusSeconds(10))).isTrue();
    try (Stream<Path> left = Files.list(dir.resolve("once"))) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder(".lock", OnceKeys.digest("new") + ".once");
    }
  }

  @Test
  void takeOnce_checksTheKey() {
    assertThatThrownBy(() -> store.takeOnce("has space"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
