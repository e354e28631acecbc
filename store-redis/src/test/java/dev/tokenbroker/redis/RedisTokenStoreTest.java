package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreContractTest;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.VersionConflictException;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisTokenStoreTest extends TokenStoreContractTest {
  private String prefix;

  private static RedisCommands<String, String> redis() {
    return TestRedis.connection().sync();
  }

  @Override
  protected TokenStore createStore(Clock clock) {
    prefix = TestRedis.freshPrefix();
    return RedisTokenStore.builder(TestRedis.connection()).keyPrefix(prefix).clock(clock).build();
  }

  /**
   * Leases expire by Redis's clock, against the expiry in the holder record: move that expiry into
   * the past, as time would (and the store's clock too, for the contract's own arithmetic).
   */
  @Override
  protected void expire(Lease lease) throws Exception {
    String holder = ((RedisTokenStore) store).holderKey(lease.connection());
    assertThat(redis().hget(holder, "fence")).isEqualTo(Long.toString(lease.fencingToken()));
    redis().hset(holder, "exp", "0");
    clock.set(lease.expiresAt().plusMillis(1));
  }

  static byte[] key(int seed) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) seed);
    return k;
  }

  private RedisTokenStore another(EncryptionKeys keys) {
    return RedisTokenStore.builder(TestRedis.connection())
        .keyPrefix(prefix)
        .encryption(keys)
        .build();
  }

  @Test
  void keys_shareAHashTagPerConnection() {
    store.put(ODD, tokens("a"));
    store.tryAcquireLease(ODD, "instance-a", TTL, 0);

    assertThat(redis().keys(prefix + "*"))
        .containsExactlyInAnyOrder(
            prefix + "{" + ODD + "}:tokens",
            prefix + "{" + ODD + "}:state",
            prefix + "{" + ODD + "}:holder",
            prefix + "{" + ODD + "}:fence",
            prefix + "{" + ODD + "}:lease");
    assertThat(redis().hgetall(prefix + "{" + ODD + "}:tokens")).containsKeys("v", "d");
  }

  @Test
  void lease_expiresInRedisByItself() {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, 0);

    long pttl = redis().pttl(((RedisTokenStore) store).leaseKey(MALL));
    assertThat(pttl).isBetween(1L, TTL.toMillis());
    assertThat(lease).isNotNull();
  }

  @Test
  void encryptedStore_theValueHoldsNoTokenAndTheKeyIdIsBesideTheData() {
    EncryptionKeys keys = EncryptionKeys.of(key(1));
    RedisTokenStore encrypted = another(keys);

    encrypted.put(MALL, tokens("valuesecret"));

    Map<String, String> hash = redis().hgetall(prefix + "{" + MALL + "}:tokens");
    assertThat(hash.toString())
        .doesNotContain("valuesecret")
        .doesNotContain(Base64.getEncoder().encodeToString(key(1)));
    assertThat(hash.get("d")).contains("\"kid\":\"" + keys.currentId() + "\"");
    assertThat(encrypted.load(MALL).accessToken()).isEqualTo("access-valuesecret");
  }

  @Test
  void wrongKey_failsNamingTheConnection_andNeverOverwritesTheRecord() {
    another(EncryptionKeys.builder().current("prod", key(1)).build()).put(MALL, tokens("a"));
    String before = redis().hget(prefix + "{" + MALL + "}:tokens", "d");
    RedisTokenStore wrong = another(EncryptionKeys.builder().current("prod", key(2)).build());

    assertThatThrownBy(() -> wrong.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("cannot be decrypted with key id 'prod'");
    assertThatThrownBy(() -> TestStores.cas(wrong, MALL, 1, tokens("b")))
        .isInstanceOf(TokenStoreException.class)
        .isNotInstanceOf(VersionConflictException.class);
    assertThat(redis().hget(prefix + "{" + MALL + "}:tokens", "d")).isEqualTo(before);
  }

  @Test
  void corruptHash_isReportedNamingTheConnection() {
    store.put(MALL, tokens("a"));
    redis().hset(prefix + "{" + MALL + "}:tokens", "v", "7");

    assertThatThrownBy(() -> store.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("corrupt");
    redis().hdel(prefix + "{" + MALL + "}:tokens", "v");
    assertThatThrownBy(() -> store.load(MALL)).hasMessageContaining("not both");
  }

  @Test
  void scriptCacheFlushed_scriptsAreSentAgain() {
    store.put(MALL, tokens("a"));
    redis().scriptFlush();

    TokenSet saved = TestStores.cas(store, MALL, 1, tokens("b"));
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, 0);

    assertThat(saved.version()).isEqualTo(2);
    assertThat(lease).isNotNull();
  }

  @Test
  void builder_rejectsPrefixesThatCouldBreakTheHashTag() {
    assertThatThrownBy(() -> RedisTokenStore.builder(TestRedis.connection()).keyPrefix("a{b}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisTokenStore.builder(TestRedis.connection()).keyPrefix("a*"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
