package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.StoreBenchmark;
import dev.tokenbroker.spi.TokenCodec;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A scenario runner, not a test: {@link StoreBenchmark} for the Redis store (embedded, or {@code
 * TOKENBROKER_TEST_REDIS_URL}) with encryption on. Run with the test class path: {@code java -cp …
 * dev.tokenbroker.redis.RedisStoreBenchmark}. Prints medians of three rounds.
 */
public final class RedisStoreBenchmark {
  private RedisStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    StoreBenchmark.run(
        "redis store",
        2000,
        1000,
        index -> {
          String prefix = TestRedis.freshPrefix();
          RedisTokenStore store =
              RedisTokenStore.builder(TestRedis.connection())
                  .keyPrefix(prefix)
                  .encryption(StoreBenchmark.KEYS)
                  .build();
          return new StoreBenchmark.Round(
              store, (n, codec) -> write(store, n, codec), () -> deleteKeys(prefix));
        });
    System.exit(0);
  }

  /** Writes the hashes pipelined. */
  private static void write(RedisTokenStore store, int n, TokenCodec codec) {
    RedisAsyncCommands<String, String> async = TestRedis.connection().async();
    List<RedisFuture<?>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ConnectionId id = StoreBenchmark.connection(i);
      pending.add(
          async.hset(
              store.tokensKey(id),
              Map.of("v", "1", "d", codec.encodeToString(id, StoreBenchmark.record(i)))));
      if (pending.size() == 1000) {
        LettuceFutures.awaitAll(30, TimeUnit.SECONDS, pending.toArray(new RedisFuture<?>[0]));
        pending.clear();
      }
    }
    LettuceFutures.awaitAll(30, TimeUnit.SECONDS, pending.toArray(new RedisFuture<?>[0]));
  }

  /** Removes a round's keys (never FLUSHDB: the server may be a shared one). */
  private static void deleteKeys(String prefix) {
    RedisCommands<String, String> sync = TestRedis.connection().sync();
    List<String> batch = new ArrayList<>();
    ScanIterator<String> keys =
        ScanIterator.scan(sync, ScanArgs.Builder.matches(prefix + "*").limit(1000));
    while (keys.hasNext()) {
      batch.add(keys.next());
      if (batch.size() == 1000) {
        sync.unlink(batch.toArray(new String[0]));
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      sync.unlink(batch.toArray(new String[0]));
    }
  }
}
