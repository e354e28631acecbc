package dev.tokenbroker.redis;

import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.OnceKeys;
import io.lettuce.core.ScriptOutputType;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one-time records of a {@link RedisTokenStore}: one string key each, {@code
 * <prefix>once:<sha-256 hex of the key>} ({@link OnceKeys}), put by {@link Scripts#PUT_ONCE} (what
 * {@code SET NX PX} does, the TTL from Redis's time) and taken by {@link Scripts#TAKE_ONCE} ({@code
 * GET} and {@code DEL}); the value is sealed like token data when the store encrypts.
 */
final class OnceRecords {
  private final RedisCalls calls;
  private final RedisKeys layout;
  private final TokenCodec codec;

  OnceRecords(RedisCalls calls, RedisKeys layout, TokenCodec codec) {
    this.calls = calls;
    this.layout = layout;
    this.codec = codec;
  }

  /** See {@link RedisTokenStore#putOnce}. */
  boolean put(String key, byte[] value, Instant expiresAt) {
    String digest = OnceKeys.digest(key);
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(expiresAt, "expiresAt");
    String sealed = codec.sealOnce(digest, value);
    Long stored =
        calls.call(
            null,
            "store a one-time record",
            () ->
                calls.eval(
                    Scripts.PUT_ONCE,
                    ScriptOutputType.INTEGER,
                    new String[] {layout.onceKey(digest)},
                    Long.toString(expiresAt.toEpochMilli()),
                    sealed));
    return stored != null && stored == 1;
  }

  /** See {@link RedisTokenStore#takeOnce}. */
  byte @Nullable [] take(String key) {
    String digest = OnceKeys.digest(key);
    String sealed =
        calls.call(
            null,
            "take a one-time record",
            () ->
                calls.eval(
                    Scripts.TAKE_ONCE,
                    ScriptOutputType.VALUE,
                    new String[] {layout.onceKey(digest)}));
    return sealed == null ? null : codec.openOnce(digest, sealed);
  }
}
