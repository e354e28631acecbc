package dev.tokenbroker.redis;

import dev.tokenbroker.spi.EncryptionKeys;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The configuration of a {@link RedisTokenStore} as its {@link RedisTokenStore.Builder} collects
 * it, and its validation: the connection and its synchronous and asynchronous commands, the client
 * the store closes (the factory's), the key prefix (checked here), the clock and the encryption
 * keys. Each option may be set once. Not thread-safe.
 */
final class RedisOptions {
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9:._-]{0,64}");

  final StatefulConnection<String, String> connection;
  final Supplier<? extends RedisClusterCommands<String, String>> sync;
  final Supplier<? extends RedisClusterAsyncCommands<String, String>> async;
  final @Nullable AutoCloseable owned;
  String prefix = RedisTokenStore.DEFAULT_PREFIX;
  private boolean prefixSet;
  @Nullable Clock clock;
  @Nullable EncryptionKeys keys;
  private boolean keysSet;

  RedisOptions(
      StatefulConnection<String, String> connection,
      Supplier<? extends RedisClusterCommands<String, String>> sync,
      Supplier<? extends RedisClusterAsyncCommands<String, String>> async,
      @Nullable AutoCloseable owned) {
    this.connection = connection;
    this.sync = sync;
    this.async = async;
    this.owned = owned;
  }

  /** See {@link RedisTokenStore.Builder#keyPrefix}. */
  void keyPrefix(String prefix) {
    once(prefixSet, "keyPrefix");
    Objects.requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "key prefix must be at most 64 letters, digits, ':', '.', '_' or '-'");
    }
    this.prefix = prefix;
    this.prefixSet = true;
  }

  /** See {@link RedisTokenStore.Builder#clock}. */
  void clock(Clock clock) {
    once(this.clock != null, "clock");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** See {@link RedisTokenStore.Builder#encryption}. */
  void encryption(@Nullable EncryptionKeys keys) {
    once(keysSet, "encryption");
    this.keys = keys;
    this.keysSet = true;
  }

  private static void once(boolean alreadySet, String option) {
    if (alreadySet) {
      throw new IllegalStateException(option + " was already set");
    }
  }
}
