package dev.tokenbroker;

import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A scenario runner, not a test: saves per second and the time to load 100,000 connections, for the
 * file store with encryption on. Run with the test class path: {@code java -cp …
 * dev.tokenbroker.FileStoreBenchmark [directory]} (the directory's file system is what is measured;
 * default: a temporary directory). Prints medians of three rounds.
 */
public final class FileStoreBenchmark {
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final EncryptionKeys KEYS = EncryptionKeys.of(new byte[32]);

  private FileStoreBenchmark() {}

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
    Path base = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("tokenbroker-bench");
    double[] single = new double[3];
    double[] parallel = new double[3];
    double[] load = new double[3];
    for (int round = 0; round < 3; round++) {
      Path dir = base.resolve("round" + round);
      FileTokenStore store = FileTokenStore.builder(dir).encryption(KEYS).build();
      single[round] = savesPerSecond(store, 1, 300);
      parallel[round] = savesPerSecond(store, 8, 150);
      load[round] = loadMillis(dir, store, 100_000);
    }
    System.out.printf(
        "file store (%s): %.0f saves/s one thread, %.0f saves/s 8 threads;"
            + " 100,000 connections listed and loaded in %.0f ms (medians of 3)%n",
        base, median(single), median(parallel), median(load));
  }

  /** Each thread saves its own connection {@code saves} times. */
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

  /** Writes {@code n} records directly (no fsync: only loading is measured), then loads all. */
  static double loadMillis(Path dir, FileTokenStore store, int n) throws Exception {
    TokenCodec codec = TokenCodec.encrypted(KEYS);
    for (int i = 0; i < n; i++) {
      ConnectionId id = ConnectionId.of("cafe24", "mall-" + i);
      Files.write(
          dir.resolve(FileTokenStore.baseName(id) + ".tokens"),
          codec.encode(id, tokens(i).withVersion(1)));
    }
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

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
