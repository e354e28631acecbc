package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import java.time.Clock;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link TokenBroker#accessToken} on a FRESH cached token: the hot path every API call takes.
 *
 * <p>One broker holds {@link #connections} connections served by an in-process {@link
 * LocalTokenProvider}; every one is fetched once before measuring, so each measured call finds a
 * cached FRESH token (the tear-down fails the run if anything was renewed while measuring).
 *
 * <ul>
 *   <li>{@link #sameConnection}: every call asks for the same connection.
 *   <li>{@link #anyConnection}: each call asks for the next id of a pre-built, shuffled array that
 *       covers every connection, indexed by a per-thread counter and a mask, so the measurement is
 *       "resolve one of N connections" rather than "hit one warm cache line".
 * </ul>
 *
 * The ids passed are the instances the broker was configured with, as an application holding its
 * ids in fields would pass them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AccessTokenBenchmark {

  @Param({"1", "100000"})
  public int connections;

  private TokenBroker broker;
  private LocalTokenProvider provider;
  private ConnectionId first;

  /** Every connection at least once, shuffled; the length is a power of two. */
  private ConnectionId[] ids;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    Clock clock = Clock.systemUTC();
    provider = new LocalTokenProvider(clock);
    ConnectionId[] all = new ConnectionId[connections];
    TokenBroker.Builder builder = TokenBroker.builder().clock(clock);
    for (int i = 0; i < connections; i++) {
      all[i] = ConnectionId.of(LocalTokenProvider.NAME, "account-" + i);
      builder.connection(all[i], provider);
    }
    broker = builder.build();
    for (ConnectionId id : all) {
      broker.accessToken(id); // obtains, saves and caches the token: FRESH from now on
    }
    if (provider.obtained() != connections) {
      throw new IllegalStateException(
          "warm-up obtained "
              + provider.obtained()
              + " tokens for "
              + connections
              + " connections");
    }

    // A fixed seed: every run walks the connections in the same order.
    List<ConnectionId> shuffled = Arrays.asList(all.clone());
    Collections.shuffle(shuffled, new Random(42));
    int size = connections == 1 ? 1 : Integer.highestOneBit(connections - 1) << 1;
    ids = new ConnectionId[size];
    for (int i = 0; i < size; i++) {
      ids[i] = shuffled.get(i % connections);
    }
    mask = size - 1;
    first = all[0];
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    broker.close();
    if (provider.obtained() != connections) {
      // A renewal during measurement means we did not measure the FRESH path alone.
      throw new IllegalStateException(
          (provider.obtained() - connections) + " tokens were renewed while measuring");
    }
  }

  /** Where each thread is in {@link #ids}. Threads start at random places. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void setUp() {
      next = ThreadLocalRandom.current().nextInt();
    }
  }

  @Benchmark
  public String sameConnection() {
    return broker.accessToken(first);
  }

  @Benchmark
  public String anyConnection(Cursor cursor) {
    return broker.accessToken(ids[cursor.next++ & mask]);
  }
}
