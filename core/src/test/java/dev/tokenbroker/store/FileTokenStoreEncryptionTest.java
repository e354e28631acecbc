package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenCodecTest;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTokenStoreEncryptionTest {
  static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  @TempDir Path dir;

  static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("ACCESS-" + suffix)
        .refreshToken("REFRESH-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  private Path record() {
    return dir.resolve(FileTokenStore.baseName(MALL) + ".tokens");
  }

  private static String allBytes(Path dir) throws Exception {
    StringBuilder b = new StringBuilder();
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        b.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
      }
    }
    return b.toString();
  }

  @Test
  void encryptedStore_noTokenOrKeyAppearsInAnyStoredByte() throws Exception {
    byte[] key = TokenCodecTest.key(1);
    FileTokenStore store = FileTokenStore.builder(dir).encryption(EncryptionKeys.of(key)).build();

    store.put(MALL, tokens("first"));
    TestStores.cas(store, MALL, 1, tokens("second"));
    store.tryAcquireLease(MALL, "instance-a", Duration.ofSeconds(30), 0);

    String stored = allBytes(dir);
    assertThat(stored)
        .doesNotContain("ACCESS-")
        .doesNotContain("REFRESH-")
        .doesNotContain(Base64.getEncoder().encodeToString(key))
        .doesNotContain(new String(key, StandardCharsets.ISO_8859_1));
    assertThat(store.load(MALL).accessToken()).isEqualTo("ACCESS-second");
    assertThat(store.encrypts()).isTrue();
  }

  @Test
  void wrongKey_loadAndSaveFailNamingTheConnection_andTheRecordSurvives() throws Exception {
    FileTokenStore.builder(dir)
        .encryption(EncryptionKeys.builder().current("prod", TokenCodecTest.key(1)).build())
        .build()
        .put(MALL, tokens("a"));
    byte[] before = Files.readAllBytes(record());
    FileTokenStore wrong =
        FileTokenStore.builder(dir)
            .encryption(EncryptionKeys.builder().current("prod", TokenCodecTest.key(2)).build())
            .build();

    assertThatThrownBy(() -> wrong.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("cannot be decrypted with key id 'prod'");
    assertThatThrownBy(() -> TestStores.cas(wrong, MALL, 1, tokens("b")))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("cannot be decrypted");
    assertThat(Files.readAllBytes(record())).isEqualTo(before);
  }

  @Test
  void rotation_oldRecordsLoad_nextSaveUsesTheNewKey() throws Exception {
    EncryptionKeys old = EncryptionKeys.of(TokenCodecTest.key(1));
    FileTokenStore.builder(dir).encryption(old).build().put(MALL, tokens("a"));
    EncryptionKeys rotated =
        EncryptionKeys.builder()
            .current(TokenCodecTest.key(2))
            .previous(TokenCodecTest.key(1))
            .build();
    FileTokenStore store = FileTokenStore.builder(dir).encryption(rotated).build();

    assertThat(store.load(MALL).accessToken()).isEqualTo("ACCESS-a");
    TestStores.cas(store, MALL, 1, tokens("b"));

    assertThat(Files.readString(record())).contains("\"kid\":\"" + rotated.currentId() + "\"");
    FileTokenStore newKeyOnly =
        FileTokenStore.builder(dir).encryption(EncryptionKeys.of(TokenCodecTest.key(2))).build();
    assertThat(newKeyOnly.load(MALL).accessToken()).isEqualTo("ACCESS-b");
  }

  @Test
  void turningEncryptionOn_readsClearRecordsAndEncryptsOnTheNextSave() throws Exception {
    FileTokenStore.builder(dir).build().put(MALL, tokens("a"));
    FileTokenStore store =
        FileTokenStore.builder(dir).encryption(EncryptionKeys.of(TokenCodecTest.key(1))).build();

    assertThat(store.load(MALL).accessToken()).isEqualTo("ACCESS-a");
    TestStores.cas(store, MALL, 1, tokens("b"));

    assertThat(Files.readString(record())).doesNotContain("ACCESS-b");
  }

  @Test
  void encryptedStore_doesNotWarnAboutClearText() {
    List<String> lines =
        FileTokenStoreTest.captureStandardError(
            () ->
                FileTokenStore.builder(dir)
                    .encryption(EncryptionKeys.of(TokenCodecTest.key(1)))
                    .build());

    assertThat(lines).noneMatch(l -> l.contains("in the clear"));
  }

  @Test
  void oneTimeRecords_areSealedAtRest_boundToTheirKey_andNeedTheKeyToBeTaken() throws Exception {
    byte[] key = TokenCodecTest.key(1);
    FileTokenStore store = FileTokenStore.builder(dir).encryption(EncryptionKeys.of(key)).build();
    byte[] secret = "PKCE-VERIFIER-abc".getBytes(StandardCharsets.US_ASCII);
    Instant later = Instant.now().plus(Duration.ofDays(1));
    assertThat(store.putOnce("state:SECRET-STATE", secret, later)).isTrue();
    assertThat(store.putOnce("state:other", secret, later)).isTrue();

    Path onceDir = dir.resolve("once");
    String stored = allBytes(onceDir);
    assertThat(stored)
        .doesNotContain("PKCE-VERIFIER")
        .doesNotContain("SECRET-STATE")
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
    try (var files = Files.list(onceDir)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .as("file names are hashes of the keys")
          .noneMatch(n -> n.contains("state"));
    }

    // A sealed value moved under another key does not open there.
    Files.copy(
        store.onceFile("state:SECRET-STATE"),
        store.onceFile("state:other"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThatThrownBy(() -> store.takeOnce("state:other"))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("cannot be decrypted")
        .hasMessageNotContaining("SECRET");

    FileTokenStore wrongKey =
        FileTokenStore.builder(dir).encryption(EncryptionKeys.of(TokenCodecTest.key(2))).build();
    assertThatThrownBy(() -> wrongKey.takeOnce("state:SECRET-STATE"))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("not among the configured keys");
  }

  @Test
  void oneTimeRecords_writtenInTheClear_areStillTakenOnceEncryptionIsOn() {
    FileTokenStore clear = FileTokenStore.builder(dir).build();
    Instant later = Instant.now().plus(Duration.ofDays(1));
    assertThat(clear.putOnce("k", new byte[] {1, 2}, later)).isTrue();

    FileTokenStore encrypted =
        FileTokenStore.builder(dir).encryption(EncryptionKeys.of(TokenCodecTest.key(1))).build();
    assertThat(encrypted.takeOnce("k")).containsExactly(1, 2);
  }
}
