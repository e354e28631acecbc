package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A scenario runner, not a test: saves per second and the time to load 100,000 connections, for the
 * Redis store (embedded, or {@code TOKENBROKER_TEST_REDIS_URL}) with encryption on. Run with the
 * test class path: {@code java -cp … dev.tokenbroker.redis.RedisStoreBenchmark}. Prints medians of
 * three rounds.
 */
public final class RedisStoreBenchmark {
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final EncryptionKeys KEYS = EncryptionKeys.of(new byte[32]);

  private RedisStoreBenchmark() {}

  static TokenSet tokens(long n) {
    return TokenSet.builder()
        .accessToken("access-token-" + n + "-0123456789abcdefghijklmnopqrstuvwxyz")
        .refreshToken("refresh-token-" + n + "-0123456789abcdefghijklmnopqrstuvwxyz")
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
        .scopes(List.of("mall.read_order", "mall.write_product"))
        .extra("mall_id", "mall" + n)
        .build();
  }

  public static void main(String[] args) throws Exception {
    double[] single = new double[3];
    double[] parallel = new double[3];
    double[] load = new double[3];
    for (int round = 0; round < 3; round++) {
      String prefix = TestRedis.freshPrefix();
      RedisTokenStore store =
          RedisTokenStore.builder(TestRedis.connection())
              .keyPrefix(prefix)
              .encryption(KEYS)
              .build();
      single[round] = savesPerSecond(store, 1, 2000);
      parallel[round] = savesPerSecond(store, 8, 1000);
      load[round] = loadMillis(store, 100_000);
      deleteKeys(prefix);
    }
    System.out.printf(
        "redis store: %.0f saves/s one thread, %.0f saves/s 8 threads;"
            + " 100,000 connections listed and loaded in %.0f ms (medians of 3)%n",
        median(single), median(parallel), median(load));
    System.exit(0);
  }

  static double savesPerSecond(TokenStore store, int threads, int saves) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      ConnectionId id = ConnectionId.of("bench", "saver-" + threads + "-" + t);
      futures.add(
          pool.submit(
              () -> {
                TokenSet current = store.load(id);
                long v = current == null ? 0 : current.version();
                for (int i = 0; i < saves; i++) {
                  v = store.compareAndSet(id, v, tokens(i)).version();
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    return threads * saves / ((System.nanoTime() - start) / 1e9);
  }

  /** Writes {@code n} records pipelined (only loading is measured), then loads all. */
  static double loadMillis(RedisTokenStore store, int n) throws Exception {
    TokenCodec codec = TokenCodec.encrypted(KEYS);
    RedisAsyncCommands<String, String> async = TestRedis.connection().async();
    List<RedisFuture<?>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ConnectionId id = ConnectionId.of("cafe24", "mall-" + i);
      pending.add(
          async.hset(
              store.tokensKey(id),
              Map.of("v", "1", "d", codec.encodeToString(id, tokens(i).withVersion(1)))));
      if (pending.size() == 1000) {
        LettuceFutures.awaitAll(30, TimeUnit.SECONDS, pending.toArray(new RedisFuture<?>[0]));
        pending.clear();
      }
    }
    LettuceFutures.awaitAll(30, TimeUnit.SECONDS, pending.toArray(new RedisFuture<?>[0]));
    long start = System.nanoTime();
    int loaded = 0;
    for (ConnectionId id : store.connections()) {
      if (store.load(id) != null) {
        loaded++;
      }
    }
    double ms = (System.nanoTime() - start) / 1e6;
    if (loaded < n) {
      throw new AssertionError("loaded " + loaded + " of " + n);
    }
    return ms;
  }

  /** Removes this round's keys (never FLUSHDB: the server may be a shared one). */
  static void deleteKeys(String prefix) {
    var sync = TestRedis.connection().sync();
    List<String> batch = new ArrayList<>();
    var keys =
        io.lettuce.core.ScanIterator.scan(
            sync, io.lettuce.core.ScanArgs.Builder.matches(prefix + "*").limit(1000));
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

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
