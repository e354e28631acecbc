package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSource;
import java.time.Clock;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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
 * {@link TokenSource#accessToken} on a FRESH cached token: the hot path of an application that
 * keeps a {@code broker.tokenSource(id)} per connection in a field, as it would keep a credential
 * object of google-auth-library-java. Set up exactly as {@link AccessTokenBenchmark} (the same
 * broker, provider and shuffled order), so the two differ only in the lookup by id.
 *
 * <ul>
 *   <li>{@link #sameConnection}: every call asks the same source.
 *   <li>{@link #anyConnection}: each call asks the next source of a pre-built, shuffled array that
 *       covers every connection ("resolve one of N connections").
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TokenSourceBenchmark {

  @Param({"1", "100000"})
  public int connections;

  private TokenBroker broker;
  private LocalTokenProvider provider;
  private TokenSource first;

  /** A source for every connection at least once, shuffled; the length is a power of two. */
  private TokenSource[] sources;

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
    sources = new TokenSource[size];
    for (int i = 0; i < size; i++) {
      sources[i] = broker.tokenSource(shuffled.get(i % connections));
    }
    mask = size - 1;
    first = broker.tokenSource(all[0]);
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

  @Benchmark
  public String sameConnection() {
    return first.accessToken();
  }

  @Benchmark
  public String anyConnection(AccessTokenBenchmark.Cursor cursor) {
    return sources[cursor.next++ & mask].accessToken();
  }
}
