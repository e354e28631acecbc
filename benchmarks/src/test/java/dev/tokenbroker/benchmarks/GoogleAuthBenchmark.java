package dev.tokenbroker.benchmarks;

import com.google.auth.oauth2.UserCredentials;
import java.io.IOException;
import java.util.List;
import java.util.Map;
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
 * google-auth-library-java's {@link UserCredentials#getRequestMetadata(java.net.URI)} on a valid
 * cached token: the peer of {@link AccessTokenBenchmark}, with the same modes and parameters.
 *
 * <p>{@link #connections} credentials from {@link GooglePeer}, each with its own 64-character
 * access token (valid for hours) and refresh token; each is asked once before measuring, and the
 * tear-down fails the run if the token server was contacted.
 *
 * <p>The library has no registry of credentials: an application holds the objects itself, so {@link
 * #anyConnection} indexes a shuffled array of them directly. That is one dependent load fewer than
 * resolving an id (the broker's {@code accessToken(id)} looks the id up in a map).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GoogleAuthBenchmark {

  @Param({"1", "100000"})
  public int connections;

  private GooglePeer google;
  private UserCredentials first;

  /** Every credential at least once, shuffled; the length is a power of two. */
  private UserCredentials[] credentials;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    google = new GooglePeer();
    UserCredentials[] all = new UserCredentials[connections];
    for (int i = 0; i < connections; i++) {
      all[i] = google.credentials();
      all[i].getRequestMetadata(GooglePeer.API); // served once, as the broker's connections are
    }
    checkNoTokenRequests();
    credentials = Shuffled.cycle(all);
    mask = credentials.length - 1;
    first = all[0];
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    checkNoTokenRequests();
  }

  private void checkNoTokenRequests() {
    if (google.tokenRequests() != 0) {
      throw new IllegalStateException(
          google.tokenRequests() + " token requests: not the cached-token path");
    }
  }

  @Benchmark
  public Map<String, List<String>> sameConnection() throws IOException {
    return first.getRequestMetadata(GooglePeer.API);
  }

  @Benchmark
  public Map<String, List<String>> anyConnection(AccessTokenBenchmark.Cursor cursor)
      throws IOException {
    return credentials[cursor.next++ & mask].getRequestMetadata(GooglePeer.API);
  }
}
