package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
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

  private WarmBroker warm;
  private TokenBroker broker;
  private ConnectionId first;

  /** Every connection at least once, shuffled; the length is a power of two. */
  private ConnectionId[] ids;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    warm = new WarmBroker(connections);
    broker = warm.broker;
    first = warm.first;
    ids = warm.shuffled;
    mask = warm.mask;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    warm.close(); // throws if a call renewed instead of serving the cached token
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
