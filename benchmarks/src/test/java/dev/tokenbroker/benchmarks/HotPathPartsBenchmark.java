package dev.tokenbroker.benchmarks;

import dev.tokenbroker.CachedToken;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.TokenCache;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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
 * its time goes: reading the clock, reading an id's hash, a ConcurrentHashMap lookup, the broker's
 * own (Caffeine) cache lookup with and without the clock read, and the whole {@code accessToken}.
 * Same ids, same walk as {@link AccessTokenBenchmark}.
 *
 * <p>{@code order=shuffled} visits connections in random order (requests arriving for any shop);
 * {@code order=sequential} in the order they were configured (a job walking every shop), which is
 * also the order their objects were allocated in; {@code order=same} asks for one connection every
 * time, the walk included so that the three orders differ only in which id is asked for.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HotPathPartsBenchmark {

  @Param({"100000"})
  public int connections;

  @Param({"shuffled", "sequential", "same"})
  public String order;

  private Clock clock;
  private TokenBroker broker;
  private TokenCache brokerCache;
  private volatile long coarseMillis;
  private ConcurrentHashMap<ConnectionId, Object> map;
  private ConnectionId[] ids;

  /** Equal to {@link #ids} element by element, but other instances (parsed again). */
  private ConnectionId[] copies;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    clock = Clock.systemUTC();
    LocalTokenProvider provider = new LocalTokenProvider(clock);
    List<ConnectionId> all = new ArrayList<>(connections);
    brokerCache = TokenCache.unbounded();
    TokenBrokerBuilder builder =
        TokenBroker.builder().withoutKeepAlive().clock(clock).cache(brokerCache);
    map = new ConcurrentHashMap<>();
    for (int i = 0; i < connections; i++) {
      ConnectionId id = ConnectionId.of(LocalTokenProvider.NAME, "account-" + i);
      all.add(id);
      builder.connection(id, provider);
    }
    broker = builder.build();
    for (ConnectionId id : all) {
      broker.accessToken(id);
      map.put(id, new Object());
    }
    switch (order) {
      case "shuffled":
        Collections.shuffle(all, new Random(42));
        break;
      case "sequential":
        break;
      case "same":
        Collections.fill(all, all.get(0));
        break;
      default:
        throw new IllegalArgumentException("order must be shuffled, sequential or same: " + order);
    }
    int size = connections == 1 ? 1 : Integer.highestOneBit(connections - 1) << 1;
    ids = new ConnectionId[size];
    for (int i = 0; i < size; i++) {
      ids[i] = all.get(i % connections);
    }
    copies = new ConnectionId[size];
    for (int i = 0; i < size; i++) {
      copies[i] = ConnectionId.parse(ids[i].toString());
    }
    mask = size - 1;
    coarseMillis = clock.millis();
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

  /** The broker's own cache, reading the entry's renewal time as {@code accessToken} does. */
  @Benchmark
  public long brokerCacheGetRenewAt(Cursor cursor) {
    CachedToken c = brokerCache.get(ids[cursor.next++ & mask]);
    return c == null ? 0 : c.renewAtMillis();
  }

  /** {@code accessToken}'s FRESH path written out: the broker's cache, then the clock. */
  @Benchmark
  public @Nullable String brokerCacheGetThenClock(Cursor cursor) {
    CachedToken c = brokerCache.get(ids[cursor.next++ & mask]);
    return c != null && clock.millis() < c.renewAtMillis() ? c.accessToken() : null;
  }

  /**
   * The same with the time read from a volatile field instead of the clock: what the FRESH path
   * would cost if it did not read the system clock on every call.
   */
  @Benchmark
  public @Nullable String brokerCacheGetThenVolatileTime(Cursor cursor) {
    CachedToken c = brokerCache.get(ids[cursor.next++ & mask]);
    return c != null && coarseMillis < c.renewAtMillis() ? c.accessToken() : null;
  }

  @Benchmark
  public String accessToken(Cursor cursor) {
    return broker.accessToken(ids[cursor.next++ & mask]);
  }

  /**
   * {@code accessToken} with an id equal to, but not the same instance as, the configured one (an
   * application that parses its ids again): the map lookup compares the ids' text.
   */
  @Benchmark
  public String accessTokenWithEqualId(Cursor cursor) {
    return broker.accessToken(copies[cursor.next++ & mask]);
  }
}
