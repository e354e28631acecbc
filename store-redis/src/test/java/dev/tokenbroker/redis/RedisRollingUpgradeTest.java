package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A rolling upgrade: instances of the previous release ({@link PreviousRelease}) and of this one
 * share a Redis and a key prefix.
 */
class RedisRollingUpgradeTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  private static final EncryptionKeys KEYS = EncryptionKeys.of(key());

  private final String prefix = TestRedis.freshPrefix();
  private final RedisTokenStore store =
      RedisTokenStore.builder(TestRedis.connection()).keyPrefix(prefix).encryption(KEYS).build();
  private final PreviousRelease previous =
      new PreviousRelease(redis(), prefix, TokenCodec.encrypted(KEYS));

  @AfterEach
  void close() {
    store.close();
  }

  private static byte[] key() {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) 7);
    return k;
  }

  private static RedisCommands<String, String> redis() {
    return TestRedis.connection().sync();
  }

  private static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  private TokenSet renew(long expectedVersion, TokenSet tokens) {
    Lease lease = store.tryAcquireLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    assertThat(lease).isNotNull();
    try {
      return store.compareAndSet(MALL, expectedVersion, tokens, lease);
    } finally {
      store.releaseLease(lease);
    }
  }

  @Test
  void previousRelease_readsTheSetsThisReleaseWrites() {
    store.put(MALL, tokens("a"));
    TokenSet saved = renew(1, tokens("b"));

    assertThat(previous.load(MALL)).isEqualTo(saved);
    assertThat(previous.connections()).containsExactly(MALL);
  }

  @Test
  void thisRelease_readsAndContinuesTheSetsThePreviousReleaseWrote() {
    TokenSet old = previous.compareAndSet(MALL, 0, tokens("a"));
    assertThat(previous.compareAndSet(MALL, 1, tokens("b"))).isNotNull();

    assertThat(store.load(MALL).sameTokensAs(tokens("b"))).isTrue();
    assertThat(store.load(MALL).version()).isEqualTo(2);
    assertThat(old).isNotNull();
    TokenSet next = renew(2, tokens("c"));

    assertThat(next.version()).isEqualTo(3);
    assertThat(previous.load(MALL)).isEqualTo(next);
  }

  @Test
  void aLeaseOfThePreviousRelease_blocksThisRelease_andASeizureFencesItOut() {
    previous.compareAndSet(MALL, 0, tokens("a"));
    long oldFence = previous.tryAcquireLease(MALL, "old", TTL.toMillis());
    assertThat(oldFence).isPositive();

    assertThat(store.tryAcquireLease(MALL, "new", TTL, TokenStore.NO_FENCE)).isNull();

    Lease seized = store.seizeLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    assertThat(seized.fencingToken()).isGreaterThan(oldFence);
    previous.releaseLease(MALL, oldFence, "old"); // too late: no longer its lease
    assertThat(previous.tryAcquireLease(MALL, "old", TTL.toMillis())).isZero();
    // The new authorization moves the version, so the old holder's save conflicts.
    store.authorize(MALL, tokens("fresh"), seized);
    assertThat(previous.compareAndSet(MALL, 1, tokens("late"))).isNull();
    store.releaseLease(seized);
    assertThat(previous.tryAcquireLease(MALL, "old", TTL.toMillis())).isPositive();
  }

  @Test
  void aLeaseOfThisRelease_blocksThePreviousRelease_untilReleased() {
    Lease lease = store.tryAcquireLease(MALL, "new", TTL, TokenStore.NO_FENCE);

    assertThat(previous.tryAcquireLease(MALL, "old", TTL.toMillis())).isZero();
    store.releaseLease(lease);
    assertThat(previous.tryAcquireLease(MALL, "old", TTL.toMillis()))
        .isGreaterThan(lease.fencingToken());
  }

  @Test
  void thePreviousReleaseTakingOverAnExpiredLease_makesThisReleasesLeaseStale() {
    store.put(MALL, tokens("a"));
    Lease lease = store.tryAcquireLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    redis().del(store.leaseKey(MALL)); // what PX does when the TTL is up, without waiting for it

    long oldFence = previous.tryAcquireLease(MALL, "old", TTL.toMillis());

    assertThat(oldFence).isGreaterThan(lease.fencingToken());
    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("late"), lease))
        .isInstanceOf(StaleLeaseException.class);
    assertThat(store.extendLease(lease, TTL)).isNull();
    assertThatThrownBy(() -> store.markRenewing(lease)).isInstanceOf(StaleLeaseException.class);
    assertThat(store.tryAcquireLease(MALL, "new-2", TTL, TokenStore.NO_FENCE)).isNull();
    previous.releaseLease(MALL, oldFence, "old");
    assertThat(store.tryAcquireLease(MALL, "new-2", TTL, TokenStore.NO_FENCE).fencingToken())
        .isGreaterThan(oldFence);
  }

  @Test
  void aTombstone_looksLikeNothingStoredToThePreviousRelease_andItsRenewalInFlightCannotSave() {
    store.put(MALL, tokens("a"));
    TokenSet inFlight = previous.load(MALL); // an old instance starts a renewal
    Lease revoke = store.seizeLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 1), revoke);
    store.releaseLease(revoke);

    assertThat(previous.compareAndSet(MALL, inFlight.version(), tokens("late"))).isNull();
    assertThat(previous.load(MALL)).isNull();
    assertThat(previous.connections()).isEmpty();
    assertThat(store.read(MALL).tombstone()).isNotNull();
  }

  @Test
  void aSetThePreviousReleaseWritesOverATombstone_staysHiddenUntilANewAuthorization() {
    store.put(MALL, tokens("a"));
    store.put(MALL, tokens("b"));
    Lease revoke = store.seizeLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 2), revoke);
    store.releaseLease(revoke);

    // The previous release knows no tombstone: it sees nothing stored and may save from zero.
    assertThat(previous.compareAndSet(MALL, 0, tokens("old-connect"))).isNotNull();

    StoredConnection read = store.read(MALL);
    assertThat(read.tokens()).isNull();
    assertThat(read.tombstone().version()).isEqualTo(2);
    assertThat(store.connections()).isEmpty();
    Lease connect = store.seizeLease(MALL, "new", TTL, TokenStore.NO_FENCE);
    assertThat(store.authorize(MALL, tokens("connect"), connect).version()).isEqualTo(3);
    assertThat(store.connections()).containsExactly(MALL);
    assertThat(previous.load(MALL).version()).isEqualTo(3);
  }

  @Test
  void aHealthRecord_isInvisibleToThePreviousRelease() {
    store.compareAndSetHealth(
        MALL,
        0,
        new HealthRecord(
            Health.State.REAUTHORIZATION_REQUIRED,
            "not-authorized",
            "never connected",
            null,
            T0,
            null,
            null,
            0,
            0,
            0));

    assertThat(previous.load(MALL)).isNull();
    assertThat(previous.connections()).isEmpty();
    store.put(MALL, tokens("a"));
    assertThat(previous.load(MALL).sameTokensAs(tokens("a"))).isTrue();
  }

  // ------------------------------- health records, shared with the release before this one

  /** The health script of the release before this one, verbatim (with the helpers it uses). */
  private static final String PREVIOUS_HEALTH =
      """
      local function fmt(n) return string.format('%.0f', n) end
      local function num(x) return tonumber(x) or 0 end
      local hv = num(redis.call('HGET', KEYS[1], 'hv'))
      if hv ~= tonumber(ARGV[1]) then return 0 end
      if ARGV[2] == '' then
        redis.call('HDEL', KEYS[1], 'health', 'hv')
      else
        redis.call('HSET', KEYS[1], 'health', ARGV[2], 'hv', fmt(hv + 1))
      end
      return 1
      """;

  private String stateKey() {
    return prefix + "{" + MALL + "}:state";
  }

  /** Its compare-and-set: on {@code hv}, numbering the next record {@code expected + 1}. */
  private boolean previousHealthCas(long expected, @Nullable HealthRecord next) {
    String record =
        next == null
            ? ""
            : new String(
                StateCodec.encodeHealth(MALL, next.withVersion(expected + 1)),
                StandardCharsets.UTF_8);
    Long moved =
        redis()
            .eval(
                PREVIOUS_HEALTH,
                ScriptOutputType.INTEGER,
                new String[] {stateKey()},
                Long.toString(expected),
                record);
    return moved == 1;
  }

  /** Its read: the {@code health} field, with the version the record carries. */
  private @Nullable HealthRecord previousHealth() {
    String health = redis().hget(stateKey(), "health");
    return health == null
        ? null
        : StateCodec.decodeHealth(MALL, health.getBytes(StandardCharsets.UTF_8));
  }

  private static HealthRecord degraded(int failures) {
    return new HealthRecord(
        Health.State.DEGRADED, "transient", "503", "503", T0, null, null, failures, 1, 0);
  }

  @Test
  void aHealthRecordClearedHere_isNoRecordToThePreviousRelease_andItsNextOneIsReadAboveTheClear() {
    store.put(MALL, tokens("a"));
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isTrue();
    assertThat(previousHealth()).isEqualTo(degraded(1).withVersion(1));
    assertThat(store.compareAndSetHealth(MALL, 1, null)).isTrue();

    assertThat(previousHealth()).as("no record, no error").isNull();
    // It writes from version 0, as it always did: hv is 1 again, htop stays 2.
    assertThat(previousHealthCas(0, degraded(2))).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isEqualTo(degraded(2).withVersion(2));
    assertThat(store.compareAndSetHealth(MALL, 1, null))
        .as("a holder of the record cleared here")
        .isFalse();
    assertThat(store.compareAndSetHealth(MALL, 2, degraded(3))).isTrue();
    assertThat(previousHealth()).isEqualTo(degraded(3).withVersion(3));
    assertThat(previousHealthCas(3, degraded(4))).isTrue();
    assertThat(store.read(MALL).health()).isEqualTo(degraded(4).withVersion(4));
    assertThat(previous.load(MALL).sameTokensAs(tokens("a"))).isTrue();
  }

  @Test
  void aClearByThePreviousRelease_isSeenAsNoRecord_underTheVersionKeptHere() {
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isTrue();
    assertThat(store.compareAndSetHealth(MALL, 1, degraded(2))).isTrue();

    // It deletes health and hv, and knows nothing of htop.
    assertThat(previousHealthCas(2, null)).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isNull();
    assertThat(read.healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 2, degraded(3))).isTrue();
    assertThat(previousHealth().version()).isEqualTo(3);
  }

  @Test
  void aHealthRecordThePreviousReleaseWrote_isReadAsItWrote() {
    assertThat(previousHealthCas(0, degraded(1))).isTrue();
    assertThat(previousHealthCas(1, degraded(2))).isTrue();

    assertThat(store.read(MALL).health()).isEqualTo(degraded(2).withVersion(2));
    assertThat(store.compareAndSetHealth(MALL, 2, null)).isTrue();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(3);
    assertThat(previousHealth()).isNull();
  }
}
