package dev.tokenbroker.benchmarks;

import dev.tokenbroker.TokenSource;
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

  private WarmBroker warm;
  private TokenSource first;

  /** A source for every connection at least once, shuffled; the length is a power of two. */
  private TokenSource[] sources;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    warm = new WarmBroker(connections);
    sources = new TokenSource[warm.shuffled.length];
    for (int i = 0; i < sources.length; i++) {
      sources[i] = warm.broker.tokenSource(warm.shuffled[i]);
    }
    mask = warm.mask;
    first = warm.broker.tokenSource(warm.first);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    warm.close(); // throws if a call renewed instead of serving the cached token
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
