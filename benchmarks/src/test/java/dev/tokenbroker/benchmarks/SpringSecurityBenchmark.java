package dev.tokenbroker.benchmarks;

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
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;

/**
 * Spring Security's {@code AuthorizedClientServiceOAuth2AuthorizedClientManager.authorize} on a
 * valid cached token: the peer of {@link AccessTokenBenchmark}, with the same modes and parameters.
 *
 * <p>{@link SpringPeer}'s service holds {@link #connections} authorized clients of one registration
 * (one per principal, each with a 64-character access and refresh token valid for hours). Every
 * principal is authorized once before measuring; the tear-down fails the run if a token endpoint
 * was called, so only the path that finds a valid token is timed.
 *
 * <p>The {@link OAuth2AuthorizeRequest}s are built once in the set-up and passed as they are: the
 * analog of an application holding its {@code ConnectionId}s in fields. An application that builds
 * the request on every call ({@code withClientRegistrationId(..).principal(name).build()}, as
 * Spring's samples do) pays for that on top.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SpringSecurityBenchmark {

  @Param({"1", "100000"})
  public int connections;

  private SpringPeer spring;
  private OAuth2AuthorizeRequest first;

  /** Every principal's request at least once, shuffled; the length is a power of two. */
  private OAuth2AuthorizeRequest[] requests;

  private int mask;

  @Setup(Level.Trial)
  public void setUp() {
    spring = new SpringPeer(true);
    OAuth2AuthorizeRequest[] all = new OAuth2AuthorizeRequest[connections];
    for (int i = 0; i < connections; i++) {
      String principal = "account-" + i;
      spring.save(principal);
      all[i] = SpringPeer.request(principal);
    }
    for (OAuth2AuthorizeRequest request : all) {
      spring.accessToken(request); // served once, as the broker's connections are
    }
    checkNoTokenRequests();
    requests = Shuffled.cycle(all);
    mask = requests.length - 1;
    first = all[0];
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    checkNoTokenRequests();
  }

  private void checkNoTokenRequests() {
    if (spring.tokenRequests() != 0) {
      throw new IllegalStateException(
          spring.tokenRequests() + " token requests: not the cached-token path");
    }
  }

  @Benchmark
  public String sameConnection() {
    return spring.accessToken(first);
  }

  @Benchmark
  public String anyConnection(AccessTokenBenchmark.Cursor cursor) {
    return spring.accessToken(requests[cursor.next++ & mask]);
  }
}
