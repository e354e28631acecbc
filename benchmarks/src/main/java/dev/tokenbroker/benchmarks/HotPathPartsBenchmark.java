package dev.tokenbroker.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
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
 * The pieces of {@link AccessTokenBenchmark#anyConnection}'s hot path, one at a time, to see where
 * its time goes: reading the clock, reading an id's hash, a ConcurrentHashMap lookup, a Caffeine
 * lookup, and the whole {@code accessToken}. Same ids, same walk as {@link AccessTokenBenchmark}.
 *
 * <p>{@code order=shuffled} visits connections in random order (requests arriving for any shop);
 * {@code order=sequential} in the order they were configured (a job walking every shop), which is
 * also the order their objects were allocated in.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HotPathPartsBenchmark {

  @Param({"100000"})
  public int connections;

  @Param({"shuffled", "sequential"})
  public String order;

  private Clock clock;
  private TokenBroker broker;
  private ConcurrentHashMap<ConnectionId, Object> map;
  private Cache<ConnectionId, Object> caffeine;
  private ConnectionId[] ids;
  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    clock = Clock.systemUTC();
    LocalTokenProvider provider = new LocalTokenProvider(clock);
    List<ConnectionId> all = new ArrayList<>(connections);
    TokenBroker.Builder builder = TokenBroker.builder().clock(clock);
    map = new ConcurrentHashMap<>();
    caffeine = Caffeine.newBuilder().build();
    for (int i = 0; i < connections; i++) {
      ConnectionId id = ConnectionId.of(LocalTokenProvider.NAME, "account-" + i);
      all.add(id);
      builder.connection(id, provider);
    }
    broker = builder.build();
    for (ConnectionId id : all) {
      broker.accessToken(id);
      map.put(id, new Object());
      caffeine.put(id, new Object());
    }
    if (order.equals("shuffled")) {
      Collections.shuffle(all, new Random(42));
    } else if (!order.equals("sequential")) {
      throw new IllegalArgumentException("order must be shuffled or sequential: " + order);
    }
    int size = connections == 1 ? 1 : Integer.highestOneBit(connections - 1) << 1;
    ids = new ConnectionId[size];
    for (int i = 0; i < size; i++) {
      ids[i] = all.get(i % connections);
    }
    mask = size - 1;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    broker.close();
  }

  /** Where each thread is in {@link #ids}. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void setUp() {
      next = ThreadLocalRandom.current().nextInt();
    }
  }

  /** The baseline: the array walk alone. */
  @Benchmark
  public ConnectionId walk(Cursor cursor) {
    return ids[cursor.next++ & mask];
  }

  @Benchmark
  public long clockMillis() {
    return clock.millis();
  }

  /** Walk plus a read of the id object (its cached hash). */
  @Benchmark
  public int idHash(Cursor cursor) {
    return ids[cursor.next++ & mask].hashCode();
  }

  @Benchmark
  public Object concurrentHashMapGet(Cursor cursor) {
    return map.get(ids[cursor.next++ & mask]);
  }

  @Benchmark
  public Object caffeineGetIfPresent(Cursor cursor) {
    return caffeine.getIfPresent(ids[cursor.next++ & mask]);
  }

  @Benchmark
  public String accessToken(Cursor cursor) {
    return broker.accessToken(ids[cursor.next++ & mask]);
  }
}
