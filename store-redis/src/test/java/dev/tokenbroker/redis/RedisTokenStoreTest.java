package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreContractTest;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.VersionConflictException;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
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

  /** One-time records expire and registry changes are scored by Redis's clock ({@code TIME}). */
  @Override
  protected Instant storeNow() {
    List<String> t = redis().time();
    return Instant.ofEpochSecond(Long.parseLong(t.get(0)), Long.parseLong(t.get(1)) * 1000);
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
            prefix + "{" + ODD + "}:lease",
            prefix + "changes");
    assertThat(redis().hgetall(prefix + "{" + ODD + "}:tokens")).containsKeys("v", "d");
  }

  @Test
  void lease_theHolderRecordOutlivesItsExpiry_theMirrorForThePreviousReleaseExpiresByItself() {
    RedisTokenStore redisStore = (RedisTokenStore) store;
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, 0);

    assertThat(redis().pttl(redisStore.holderKey(MALL))).isEqualTo(-1L);
    assertThat(redis().hgetall(redisStore.holderKey(MALL)))
        .containsEntry("owner", "instance-a")
        .containsEntry("fence", Long.toString(lease.fencingToken()))
        .containsKey("exp");
    assertThat(redis().pttl(redisStore.leaseKey(MALL))).isBetween(1L, TTL.toMillis());
    assertThat(redis().get(redisStore.leaseKey(MALL)))
        .isEqualTo(lease.fencingToken() + " instance-a");
  }

  @Test
  void lease_expiresByRedisClock_notByTheStoreClock() {
    store.tryAcquireLease(MALL, "instance-a", TTL, 0);
    clock.advance(Duration.ofHours(1)); // this instance's clock jumps; Redis's does not

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, 0)).isNull();
  }

  @Test
  void healthTombstoneAndCounter_liveBesideTheTokenHash_whichKeepsOnlyItsTwoFields() {
    RedisTokenStore redisStore = (RedisTokenStore) store;
    store.put(MALL, tokens("a"));
    store.compareAndSetHealth(MALL, 0, degraded(1));

    assertThat(redis().hgetall(redisStore.tokensKey(MALL)).keySet())
        .containsExactlyInAnyOrder("v", "d");
    assertThat(redis().hgetall(redisStore.stateKey(MALL)))
        .containsEntry("top", "1")
        .containsEntry("hv", "1")
        .containsKey("health");

    Lease lease = store.seizeLease(MALL, "revoker", TTL, 0);
    store.tombstone(MALL, new Tombstone("revoked", T0, 1), lease);

    assertThat(redis().exists(redisStore.tokensKey(MALL))).isZero();
    assertThat(redis().hget(redisStore.stateKey(MALL), "tomb"))
        .contains("\"tokenbroker\":2")
        .contains("\"kind\":\"tombstone\"");
  }

  @Test
  void readAll_afterTheScriptCacheWasFlushed_readsEveryConnection() {
    store.put(MALL, tokens("m"));
    store.put(SELLER, tokens("s"));
    redis().scriptFlush();

    Map<ConnectionId, StoredConnection> all = store.readAll(List.of(MALL, ODD, SELLER, MALL));

    assertThat(all.keySet()).containsExactly(MALL, ODD, SELLER);
    assertThat(all.get(MALL).tokens().accessToken()).isEqualTo("access-m");
    assertThat(all.get(ODD)).isEqualTo(StoredConnection.EMPTY);
    assertThat(all.get(SELLER).tokens().accessToken()).isEqualTo("access-s");
  }

  @Test
  void readAll_manyConnections_comeBackInTheOrderAsked() {
    List<ConnectionId> ids = new ArrayList<>();
    for (int i = 0; i < 1200; i++) {
      ids.add(ConnectionId.of("cafe24", "mall-" + i));
    }
    for (int i = 0; i < ids.size(); i += 100) {
      store.put(ids.get(i), tokens(Integer.toString(i)));
    }
    Collections.reverse(ids);

    Map<ConnectionId, StoredConnection> all = store.readAll(ids);

    assertThat(new ArrayList<>(all.keySet())).isEqualTo(ids);
    assertThat(all.values().stream().filter(c -> c.tokens() != null)).hasSize(12);
    assertThat(all.get(ConnectionId.of("cafe24", "mall-300")).tokens().accessToken())
        .isEqualTo("access-300");
  }

  @Test
  void aKeyOfTheWrongType_failsAsATokenStoreExceptionNamingTheConnection() {
    redis().set(((RedisTokenStore) store).stateKey(MALL), "not a hash");

    assertThatThrownBy(() -> store.read(MALL))
        .isExactlyInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall: could not read the connection in Redis")
        .hasMessageContaining("WRONGTYPE");
    assertThatThrownBy(() -> store.compareAndSetHealth(MALL, 0, degraded(1)))
        .isExactlyInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall");
  }

  @Test
  void corruptHealthRecord_isReportedNamingTheConnection() {
    redis().hset(((RedisTokenStore) store).stateKey(MALL), "health", "{\"tokenbroker\":3}");

    assertThatThrownBy(() -> store.read(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("format 3");
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

  // ---------------------------------------------------------------- registry and one-time records

  @Test
  void changedSince_oneMemberPerConnection_scoredByRedisTime_renewalsLeaveIt() {
    Instant before = storeNow();
    store.put(MALL, tokens("a"));
    Instant after = storeNow();
    RedisTokenStore rs = (RedisTokenStore) store;
    Double created = redis().zscore(rs.changesKey(), MALL.toString());
    assertThat(created).isBetween((double) before.toEpochMilli(), (double) after.toEpochMilli());

    cas(MALL, 1, tokens("b"));
    assertThat(redis().zscore(rs.changesKey(), MALL.toString()))
        .as("a renewal is no registry change")
        .isEqualTo(created);
    assertThat(redis().zcard(rs.changesKey())).isEqualTo(1);
  }

  @Test
  void changedSince_aLostEntryOnlyDelaysDiscovery_theConnectionIsStillReadable() {
    store.put(MALL, tokens("a"));
    RedisTokenStore rs = (RedisTokenStore) store;
    redis().del(rs.changesKey()); // the write after the connection's script never happened
    assertThat(store.changedSince(storeNow().minusSeconds(60))).isEmpty();
    assertThat(store.read(MALL).tokens().accessToken()).isEqualTo("access-a");
  }

  @Test
  void changedSince_trimsChangesOlderThanTheRetention() {
    RedisTokenStore rs = (RedisTokenStore) store;
    long old = storeNow().minus(RedisTokenStore.CHANGES_KEPT).minusSeconds(60).toEpochMilli();
    redis().zadd(rs.changesKey(), old, SELLER.toString());
    store.put(MALL, tokens("a"));
    assertThat(redis().zrange(rs.changesKey(), 0, -1)).containsExactly(MALL.toString());
  }

  @Test
  void oneTimeRecords_keyIsAHash_valueSealedWithItsExpiry_andRedisExpiresIt() {
    EncryptionKeys keys = EncryptionKeys.of(key(1));
    RedisTokenStore encrypted = another(keys);
    byte[] secret = "VERIFIER-valuesecret".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Instant expiresAt = storeNow().plusSeconds(60);
    assertThat(encrypted.putOnce("state:keysecret", secret, expiresAt)).isTrue();

    String onceKey = encrypted.onceKey("state:keysecret");
    assertThat(onceKey).startsWith(prefix + "once:").doesNotContain("keysecret");
    assertThat(redis().keys(prefix + "*")).containsExactly(onceKey);
    String stored = redis().get(onceKey);
    assertThat(stored)
        .startsWith(expiresAt.toEpochMilli() + ":o1e:" + keys.currentId() + ":")
        .doesNotContain("valuesecret")
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
    assertThat(redis().pttl(onceKey)).isBetween(50_000L, 60_000L);

    // Moved under another key, the sealed value does not open.
    String otherKey = encrypted.onceKey("state:other");
    redis().set(otherKey, stored);
    assertThatThrownBy(() -> encrypted.takeOnce("state:other"))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageNotContaining("valuesecret");
    assertThat(encrypted.takeOnce("state:keysecret")).isEqualTo(secret);
    assertThat(redis().exists(onceKey)).isZero();
  }

  @Test
  void oneTimeRecords_pastTheStoredExpiry_countAsAbsentEvenBeforeRedisDropsThem() {
    RedisTokenStore rs = (RedisTokenStore) store;
    assertThat(store.putOnce("k", new byte[] {1}, storeNow().plusSeconds(60))).isTrue();
    // Redis's time passes: the expiry stored with the value moves into its past.
    String onceKey = rs.onceKey("k");
    String value = redis().get(onceKey);
    redis().set(onceKey, (storeNow().toEpochMilli() - 1) + value.substring(value.indexOf(':')));
    assertThat(store.putOnce("k", new byte[] {2}, storeNow().plusSeconds(60)))
        .as("expired: free again")
        .isTrue();
    assertThat(store.takeOnce("k")).containsExactly(2);

    assertThat(store.putOnce("k", new byte[] {3}, storeNow().plusSeconds(60))).isTrue();
    value = redis().get(onceKey);
    redis().set(onceKey, (storeNow().toEpochMilli() - 1) + value.substring(value.indexOf(':')));
    assertThat(store.takeOnce("k")).as("expired").isNull();
    assertThat(redis().exists(onceKey)).as("and deleted").isZero();
  }

  @Test
  void inACluster_everyScriptTouchesOneSlot() {
    RedisTokenStore rs = (RedisTokenStore) store;
    for (String[] keys :
        List.of(
            new RedisKeys(prefix).writeKeys(ODD),
            new RedisKeys(prefix).leaseKeys(ODD),
            new String[] {rs.changesKey()},
            new String[] {rs.onceKey("state:x")})) {
      int slot = io.lettuce.core.cluster.SlotHash.getSlot(keys[0]);
      for (String k : keys) {
        assertThat(io.lettuce.core.cluster.SlotHash.getSlot(k)).as(k).isEqualTo(slot);
      }
    }
  }
}
