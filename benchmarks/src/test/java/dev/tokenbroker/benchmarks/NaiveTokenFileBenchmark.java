package dev.tokenbroker.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * The hand-written client ({@link NaiveTokenFileClient}) on a valid token: every call reads {@code
 * tokens.json} from disk, parses it and checks the expiry. The peer of {@link
 * AccessTokenBenchmark#sameConnection}, with one connection only.
 *
 * <p>No {@code anyConnection} with 100,000 files: each call already costs a few microseconds of
 * {@code open}/{@code read}/{@code close} and parsing, and with 100,000 files it would add the file
 * system's directory lookups and the page cache's reach, which measure the disk and the kernel
 * rather than the client; it could not change the verdict, which one file already gives.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class NaiveTokenFileBenchmark {

  /** Always 1 (see the class comment); a parameter so the results table lines it up with ours. */
  @Param({"1"})
  public int connections;

  private Path directory;
  private NaiveTokenFileClient client;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    if (connections != 1) {
      throw new IllegalArgumentException("the tokens.json client is measured with 1 connection");
    }
    directory = Files.createTempDirectory("tokenbroker-naive");
    Path file = directory.resolve("tokens.json");
    long expiresAt = System.currentTimeMillis() / 1000 + LocalTokenProvider.LIFETIME.toSeconds();
    NaiveTokenFileClient.write(
        file, LocalTokenProvider.randomToken(), LocalTokenProvider.randomToken(), expiresAt);
    client = new NaiveTokenFileClient(file);
    client.accessToken();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    Files.delete(directory.resolve("tokens.json"));
    Files.delete(directory);
    if (client.refreshes() != 0) {
      throw new IllegalStateException(client.refreshes() + " calls found an expired token");
    }
  }

  @Benchmark
  public String sameConnection() throws IOException {
    return client.accessToken();
  }
}
