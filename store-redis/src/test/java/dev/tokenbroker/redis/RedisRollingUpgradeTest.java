package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
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
}
