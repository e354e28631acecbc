package dev.tokenbroker.redis;

import static dev.tokenbroker.redis.RedisCalls.integer;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The renewal lease of a {@link RedisTokenStore}, each operation one Lua script on the holder
 * record, the fencing counter and the previous release's lease key. Lease expiry is Redis's clock
 * ({@code TIME} inside the scripts); the returned {@link Lease#expiresAt()} is this store's clock
 * plus the TTL, and the renewal marker is this store's clock. A grant is above the stored counter
 * and the caller's {@code minFence}.
 */
final class RedisLeases {
  /** Lua numbers are doubles: integers are exact below this. */
  private static final long MAX_FENCE = 1L << 53;

  private final RedisCalls calls;
  private final RedisKeys keys;
  private final Clock clock;

  RedisLeases(RedisCalls calls, RedisKeys keys, Clock clock) {
    this.calls = calls;
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * See {@link RedisTokenStore#tryAcquireLease} and, with {@code seize}, {@link
   * RedisTokenStore#seizeLease}.
   */
  @Nullable Lease grant(ConnectionId id, String owner, Duration ttl, long minFence, boolean seize) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(ttl, "ttl");
    if (owner.isEmpty()) {
      throw new IllegalArgumentException("lease owner must not be empty");
    }
    long millis = ttlMillis(ttl);
    if (minFence >= MAX_FENCE) {
      throw new IllegalArgumentException("minFence must be below 2^53, got " + minFence);
    }
    return calls.call(
        id,
        seize ? "seize the renewal lease" : "take the renewal lease",
        () -> {
          Instant expires = clock.instant().plusMillis(millis);
          List<Object> r =
              calls.eval(
                  Scripts.ACQUIRE,
                  ScriptOutputType.MULTI,
                  keys.leaseKeys(id),
                  owner,
                  Long.toString(millis),
                  Long.toString(Math.max(minFence, 0)),
                  seize ? "1" : "0");
          long fence = integer(r, 0);
          if (fence == 0) {
            return null;
          }
          long cut = integer(r, 1);
          return new Lease(id, owner, fence, expires, cut < 0 ? null : Instant.ofEpochMilli(cut));
        });
  }

  /** See {@link RedisTokenStore#extendLease}. */
  @Nullable Lease extend(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    long millis = ttlMillis(ttl);
    ConnectionId id = lease.connection();
    return calls.call(
        id,
        "extend the renewal lease",
        () -> {
          Instant expires = clock.instant().plusMillis(millis);
          Long done =
              calls.eval(
                  Scripts.EXTEND,
                  ScriptOutputType.INTEGER,
                  keys.leaseKeys(id),
                  fence(lease),
                  lease.owner(),
                  Long.toString(millis));
          return done != null && done == 1 ? lease.withExpiry(expires) : null;
        });
  }

  /** See {@link RedisTokenStore#markRenewing}. */
  void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    calls.call(
        id,
        "mark the renewal",
        () -> {
          Long done =
              calls.eval(
                  Scripts.MARK,
                  ScriptOutputType.INTEGER,
                  new String[] {keys.holderKey(id), keys.fenceKey(id)},
                  fence(lease),
                  lease.owner(),
                  Long.toString(clock.millis()));
          if (done == null || done != 1) {
            throw new StaleLeaseException(id, lease.fencingToken());
          }
          return null;
        });
  }

  /** See {@link RedisTokenStore#releaseLease}. */
  void release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    calls.call(
        id,
        "release the renewal lease",
        () ->
            calls.eval(
                Scripts.RELEASE,
                ScriptOutputType.INTEGER,
                keys.leaseKeys(id),
                fence(lease),
                lease.owner()));
  }

  private static long ttlMillis(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.toMillis() <= 0) {
      throw new IllegalArgumentException("lease ttl must be at least 1 ms, got " + ttl);
    }
    return ttl.toMillis();
  }

  /** The lease's fence as the scripts take it. */
  static String fence(Lease lease) {
    return Long.toString(lease.fencingToken());
  }
}
