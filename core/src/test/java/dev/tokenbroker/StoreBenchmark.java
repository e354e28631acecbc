package dev.tokenbroker;

import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The store scenario runner shared by the stores' benchmarks (not tests): saves per second with one
 * thread and with 8, and the time to list and load 100,000 connections, with encryption on ({@link
 * #KEYS}). Three rounds, each on a fresh store; prints the medians.
 */
public final class StoreBenchmark {
  /** The key every benchmarked store encrypts with. */
  public static final EncryptionKeys KEYS = EncryptionKeys.of(new byte[32]);

  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final int CONNECTIONS = 100_000;

  private StoreBenchmark() {}

  /**
   * One round: a fresh store encrypting with {@link #KEYS}; how to fill its backing storage
   * directly; and what removes the round's data afterwards.
   */
  public record Round(TokenStore store, DirectWriter writer, Runnable cleanup) {}

  /** Opens round {@code index} (0, 1, 2) on a fresh store. */
  @FunctionalInterface
  public interface Rounds {
    Round open(int index) throws Exception;
  }

  /**
   * Writes connections {@link #connection}(0) to {@code (n - 1)}, each holding {@link
   * #record}{@code (i)} encoded with {@code codec}, straight into the store's backing storage, in
   * bulk and without going through the store: only loading is measured.
   */
  @FunctionalInterface
  public interface DirectWriter {
    void write(int n, TokenCodec codec) throws Exception;
  }

  /** The {@code i}-th connection a {@link DirectWriter} writes. */
  public static ConnectionId connection(int i) {
    return ConnectionId.of("cafe24", "mall-" + i);
  }

  /** What a {@link DirectWriter} writes for connection {@code i}: version 1. */
  public static TokenSet record(int i) {
    return tokens(i).withVersion(1);
  }

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

  /**
   * Runs three rounds and prints {@code <name>: … (medians of 3)}.
   *
   * @param singleThreadSaves saves of the one-thread measurement
   * @param perThreadSaves saves of each thread of the 8-thread measurement
   */
  public static void run(String name, int singleThreadSaves, int perThreadSaves, Rounds rounds)
      throws Exception {
    double[] single = new double[3];
    double[] parallel = new double[3];
    double[] load = new double[3];
    for (int r = 0; r < 3; r++) {
      Round round = rounds.open(r);
      try {
        single[r] = savesPerSecond(round.store(), 1, singleThreadSaves);
        parallel[r] = savesPerSecond(round.store(), 8, perThreadSaves);
        load[r] = loadMillis(round, CONNECTIONS);
      } finally {
        round.cleanup().run();
      }
    }
    System.out.printf(
        "%s: %.0f saves/s one thread, %.0f saves/s 8 threads;"
            + " 100,000 connections listed and loaded in %.0f ms (medians of 3)%n",
        name, median(single), median(parallel), median(load));
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
                Lease lease = store.seizeLease(id, "bench", Duration.ofHours(1), 0);
                for (int i = 0; i < saves; i++) {
                  v = store.compareAndSet(id, v, tokens(i), lease).version();
                }
                store.releaseLease(lease);
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    return threads * saves / ((System.nanoTime() - start) / 1e9);
  }

  /** Writes {@code n} records directly, then lists and loads all through the store. */
  static double loadMillis(Round round, int n) throws Exception {
    round.writer().write(n, TokenCodec.encrypted(KEYS));
    TokenStore store = round.store();
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
