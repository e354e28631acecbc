package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.TokenStoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class TokenCodecTest {
  public static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  public static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  public static final ObjectMapper JSON = new ObjectMapper();

  public static byte[] key(int seed) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) seed);
    k[0] = (byte) (seed * 7 + 1);
    return k;
  }

  public static String keyText(int seed) {
    return Base64.getEncoder().encodeToString(key(seed));
  }

  public static TokenSet tokens() {
    return TokenSet.builder()
        .accessToken("ACCESS-7f3a9c")
        .refreshToken("REFRESH-b81e0d")
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
        .scopes(List.of("mall.read_order"))
        .extra("mall_id", "mall")
        .version(7)
        .build();
  }

  @Test
  void plaintext_roundTripsWithTheVersion() {
    TokenCodec codec = TokenCodec.plaintext();

    TokenSet decoded = codec.decode(MALL, codec.encode(MALL, tokens()));

    assertThat(decoded).isEqualTo(tokens());
    assertThat(codec.encrypts()).isFalse();
    assertThat(codec.currentKeyId()).isNull();
  }

  @Test
  void encrypted_roundTrips_andTheRecordHoldsNoTokenNorKey() {
    EncryptionKeys keys = EncryptionKeys.of(key(1));
    TokenCodec codec = TokenCodec.encrypted(keys);

    byte[] record = codec.encode(MALL, tokens());

    String text = new String(record, StandardCharsets.UTF_8);
    assertThat(text)
        .doesNotContain("ACCESS-7f3a9c")
        .doesNotContain("REFRESH-b81e0d")
        .doesNotContain(keyText(1))
        .doesNotContain("mall.read_order")
        .contains("\"connection\":\"cafe24:mall\"")
        .contains("\"kid\":\"" + keys.currentId() + "\"")
        .contains("\"alg\":\"A256GCM\"");
    assertThat(codec.decode(MALL, record)).isEqualTo(tokens());
  }

  @Test
  void encrypted_sameSetTwice_givesDifferentCiphertexts() {
    TokenCodec codec = TokenCodec.encrypted(EncryptionKeys.of(key(1)));

    assertThat(codec.encode(MALL, tokens())).isNotEqualTo(codec.encode(MALL, tokens()));
  }

  @Test
  void wrongKeyWithTheSameId_failsNamingTheConnectionAndKeyId() {
    byte[] record =
        TokenCodec.encrypted(EncryptionKeys.builder().current("prod", key(1)).build())
            .encode(MALL, tokens());
    TokenCodec wrong =
        TokenCodec.encrypted(EncryptionKeys.builder().current("prod", key(2)).build());

    assertThatThrownBy(() -> wrong.decode(MALL, record))
        .isInstanceOf(TokenStoreException.class)
        .hasMessage(
            "connection cafe24:mall: stored tokens cannot be decrypted with key id 'prod':"
                + " the key is wrong or the record was altered");
  }

  @Test
  void keyNotInTheRing_failsSayingWhichKeyIsNeeded() {
    EncryptionKeys old = EncryptionKeys.of(key(1));
    byte[] record = TokenCodec.encrypted(old).encode(MALL, tokens());
    EncryptionKeys current = EncryptionKeys.of(key(2));

    assertThatThrownBy(() -> TokenCodec.encrypted(current).decode(MALL, record))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("key id '" + old.currentId() + "'")
        .hasMessageContaining("not among the configured keys [" + current.currentId() + "]");
  }

  @Test
  void encryptedRecord_withoutAnyKey_failsClearly() {
    byte[] record = TokenCodec.encrypted(EncryptionKeys.of(key(1))).encode(MALL, tokens());

    assertThatThrownBy(() -> TokenCodec.plaintext().decode(MALL, record))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("no encryption key is configured");
  }

  @Test
  void rotation_previousKeysDecrypt_currentKeyEncrypts() {
    EncryptionKeys old = EncryptionKeys.of(key(1));
    byte[] oldRecord = TokenCodec.encrypted(old).encode(MALL, tokens());
    EncryptionKeys rotated = EncryptionKeys.builder().current(key(2)).previous(key(1)).build();
    TokenCodec codec = TokenCodec.encrypted(rotated);

    assertThat(codec.decode(MALL, oldRecord)).isEqualTo(tokens());
    byte[] newRecord = codec.encode(MALL, tokens());
    assertThat(new String(newRecord, StandardCharsets.UTF_8))
        .contains("\"kid\":\"" + rotated.currentId() + "\"");
    assertThat(TokenCodec.encrypted(EncryptionKeys.of(key(2))).decode(MALL, newRecord))
        .isEqualTo(tokens());
  }

  @Test
  void clearRecord_isReadWhenKeysAreConfigured_soEncryptionCanBeTurnedOn() {
    byte[] clear = TokenCodec.plaintext().encode(MALL, tokens());

    assertThat(TokenCodec.encrypted(EncryptionKeys.of(key(1))).decode(MALL, clear))
        .isEqualTo(tokens());
  }

  @Test
  void tamperedCiphertext_failsAuthentication() throws Exception {
    TokenCodec codec = TokenCodec.encrypted(EncryptionKeys.of(key(1)));
    ObjectNode record = (ObjectNode) JSON.readTree(codec.encode(MALL, tokens()));
    byte[] data = Base64.getDecoder().decode(record.get("data").asText());
    data[3] ^= 1;
    record.put("data", Base64.getEncoder().encodeToString(data));

    assertThatThrownBy(() -> codec.decode(MALL, JSON.writeValueAsBytes(record)))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("the key is wrong or the record was altered");
  }

  @Test
  void encryptedRecordMovedToAnotherConnection_doesNotDecrypt() throws Exception {
    TokenCodec codec = TokenCodec.encrypted(EncryptionKeys.of(key(1)));
    ObjectNode record = (ObjectNode) JSON.readTree(codec.encode(MALL, tokens()));
    ConnectionId other = ConnectionId.of("cafe24", "other");
    record.put("connection", other.toString()); // an attacker relabels the record

    assertThatThrownBy(() -> codec.decode(other, JSON.writeValueAsBytes(record)))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:other")
        .hasMessageContaining("the key is wrong or the record was altered");
  }

  @Test
  void newerFormat_isRefusedWithAnExplanation() {
    byte[] record =
        "{\"tokenbroker\":2,\"connection\":\"cafe24:mall\",\"tokens\":{}}"
            .getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> TokenCodec.plaintext().decode(MALL, record))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("format 2")
        .hasMessageContaining("newer version");
  }

  @Test
  void malformedRecords_areCorruptAndNeverEchoTheirContent() {
    TokenCodec codec = TokenCodec.plaintext();
    String secret = "SECRET-IN-GARBAGE";
    for (String garbage :
        List.of(
            "not json " + secret,
            "[\"" + secret + "\"]",
            "{\"tokenbroker\":1,\"connection\":\"cafe24:mall\",\"tokens\":{\"version\":1,"
                + "\"accessToken\":\""
                + secret
                + "\"}}",
            "{\"tokenbroker\":1,\"connection\":\"cafe24:mall\",\"tokens\":{\"version\":1,"
                + "\"tokenType\":\"Bearer\",\"accessToken\":\""
                + secret
                + "\",\"expiresAt\":\"yesterday\",\"issuedAt\":\"2026-01-01T00:00:00Z\"}}",
            "{\"tokenbroker\":1,\"connection\":\"cafe24:mall\",\"alg\":\"A256GCM\"}")) {
      assertThatThrownBy(() -> codec.decode(MALL, garbage.getBytes(StandardCharsets.UTF_8)))
          .as(garbage)
          .isInstanceOf(TokenStoreException.class)
          .hasMessageStartingWith("connection cafe24:mall: stored record is corrupt")
          .hasMessageNotContaining(secret)
          .hasNoCause();
    }
  }

  @Test
  void connectionOf_readsTheIdWithoutTheKey() {
    byte[] record = TokenCodec.encrypted(EncryptionKeys.of(key(1))).encode(MALL, tokens());

    assertThat(TokenCodec.connectionOf(record)).isEqualTo("cafe24:mall");
    assertThat(TokenCodec.connectionOf("garbage".getBytes(StandardCharsets.UTF_8))).isNull();
  }

  // ---------------------------------------------------------------- keys

  @Test
  void parse_acceptsBase64WithOrWithoutAnId() {
    assertThat(EncryptionKeys.parse(keyText(1)).currentId())
        .isEqualTo(EncryptionKeys.deriveId(key(1)))
        .hasSize(8);
    assertThat(EncryptionKeys.parse("2026-01:" + keyText(1)).currentId()).isEqualTo("2026-01");
    String urlSafe = Base64.getUrlEncoder().withoutPadding().encodeToString(key(3));
    assertThat(EncryptionKeys.parse(urlSafe).currentId())
        .isEqualTo(EncryptionKeys.deriveId(key(3)));
  }

  @Test
  void parse_rejectsBadKeysWithoutEchoingThem() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    assertThatThrownBy(() -> EncryptionKeys.parse(shortKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes")
        .hasMessageContaining("16 bytes")
        .hasMessageNotContaining(shortKey);
    assertThatThrownBy(() -> EncryptionKeys.parse("this is not base64!"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("openssl rand -base64 32")
        .hasMessageNotContaining("not base64!");
    assertThatThrownBy(() -> EncryptionKeys.parse("bad id:" + keyText(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key id");
  }

  @Test
  void keys_toStringShowsIdsOnly() {
    EncryptionKeys keys =
        EncryptionKeys.builder().current("new", key(1)).previous("old", key(2)).build();

    assertThat(keys.toString())
        .isEqualTo("EncryptionKeys{current=new, ids=[new, old]}")
        .doesNotContain(keyText(1));
    assertThat(keys.ids()).containsExactly("new", "old");
  }

  @Test
  void builder_rejectsTwoKeysUnderOneId() {
    assertThatThrownBy(
            () -> EncryptionKeys.builder().current("k", key(1)).previous("k", key(2)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("same id k");
    assertThatThrownBy(() -> EncryptionKeys.builder().current(key(1)).current(key(2)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> EncryptionKeys.builder().build())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void fromSettings_noKeySettings_meansClear() {
    assertThat(EncryptionKeys.fromSettings(new Settings(null, Map.of()), name -> null)).isNull();
  }

  @Test
  void fromSettings_readsTheEnvironmentAndFiles(@TempDir Path dir) throws Exception {
    Path oldKey = dir.resolve("old.key");
    Files.writeString(oldKey, "old:" + keyText(2) + "\n");
    Settings settings =
        new Settings(
            null, Map.of("key-env", "TB_KEY", "previous-key-file", List.of(oldKey.toString())));

    EncryptionKeys keys =
        EncryptionKeys.fromSettings(
            settings, name -> name.equals("TB_KEY") ? "new:" + keyText(1) : null);

    assertThat(keys.ids()).containsExactly("new", "old");
  }

  @Test
  void fromSettings_errorsNameTheSettingAndNeverTheKey(@TempDir Path dir) throws Exception {
    assertThatThrownBy(
            () ->
                EncryptionKeys.fromSettings(
                    new Settings(null, Map.of("key-env", "TB_UNSET")), name -> null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'key-env'")
        .hasMessageContaining("TB_UNSET is not set");

    assertThatThrownBy(
            () ->
                EncryptionKeys.fromSettings(
                    new Settings(null, Map.of("key-env", "TB_KEY")), name -> "short-secret"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'key-env'")
        .hasMessageNotContaining("short-secret");

    assertThatThrownBy(
            () ->
                EncryptionKeys.fromSettings(
                    new Settings(
                        null, Map.of("key-env", "TB_KEY", "key-file", dir.resolve("k").toString())),
                    name -> keyText(1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("either key-env or key-file");

    assertThatThrownBy(
            () ->
                EncryptionKeys.fromSettings(
                    new Settings(null, Map.of("key-file", dir.resolve("missing").toString())),
                    name -> null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'key-file'")
        .hasMessageContaining("cannot read key file");

    assertThatThrownBy(
            () ->
                EncryptionKeys.fromSettings(
                    new Settings(null, Map.of("previous-key-env", "OLD")), name -> keyText(1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("previous keys need a current key");
  }

  // ---------------------------------------------------------------- one-time record values

  @Test
  void sealOnce_inTheClear_isBase64urlText_andOpensByAnyCodec() {
    String digest = dev.tokenbroker.store.OnceKeys.digest("state:abc");
    byte[] value = {0, 1, (byte) 0xFF, '-', '_'};
    String sealed = TokenCodec.plaintext().sealOnce(digest, value);

    assertThat(sealed).startsWith("o1:").matches("[ -~]+");
    assertThat(TokenCodec.plaintext().openOnce(digest, sealed)).isEqualTo(value);
    assertThat(TokenCodec.encrypted(EncryptionKeys.of(key(1))).openOnce(digest, sealed))
        .as("turning encryption on needs no migration")
        .isEqualTo(value);
  }

  @Test
  void sealOnce_encrypted_opensOnlyUnderItsDigestAndAKeyOfTheRing() {
    EncryptionKeys keys = EncryptionKeys.builder().current("k1", key(1)).build();
    TokenCodec codec = TokenCodec.encrypted(keys);
    String digest = dev.tokenbroker.store.OnceKeys.digest("state:abc");
    byte[] value = "VERIFIER-secret".getBytes(StandardCharsets.US_ASCII);
    String sealed = codec.sealOnce(digest, value);

    assertThat(sealed).startsWith("o1e:k1:").doesNotContain("secret");
    assertThat(codec.sealOnce(digest, value)).as("a fresh iv each time").isNotEqualTo(sealed);
    assertThat(codec.openOnce(digest, sealed)).isEqualTo(value);
    assertThat(
            TokenCodec.encrypted(
                    EncryptionKeys.builder().current("k2", key(2)).previous("k1", key(1)).build())
                .openOnce(digest, sealed))
        .as("a previous key of the ring opens it")
        .isEqualTo(value);

    String other = dev.tokenbroker.store.OnceKeys.digest("state:other");
    assertThatThrownBy(() -> codec.openOnce(other, sealed))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("cannot be decrypted");
    assertThatThrownBy(() -> TokenCodec.plaintext().openOnce(digest, sealed))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("none is configured");
    assertThatThrownBy(
            () -> codec.openOnce(digest, sealed.substring(0, sealed.length() - 4) + "AAAA"))
        .isInstanceOf(TokenStoreException.class);
  }

  @Test
  void openOnce_garbage_failsWithoutRepeatingIt() {
    TokenCodec codec = TokenCodec.encrypted(EncryptionKeys.of(key(1)));
    for (String garbage : List.of("", "SECRET-garbage", "o1:!!SECRET", "o1e:SECRET", "o1e:a:b:c")) {
      assertThatThrownBy(() -> codec.openOnce("d", garbage))
          .as(garbage)
          .isInstanceOf(TokenStoreException.class)
          .hasMessageNotContaining("SECRET");
    }
  }
}
