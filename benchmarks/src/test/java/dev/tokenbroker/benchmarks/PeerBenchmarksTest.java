package dev.tokenbroker.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.auth.oauth2.UserCredentials;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The peers' benchmark set-ups, without JMH: each serves the token it was given, for every
 * connection, with no token request (no refresh, no network).
 */
class PeerBenchmarksTest {

  @Test
  void springServesEveryPrincipalsCachedTokenWithoutTokenRequests() {
    SpringSecurityBenchmark benchmark = new SpringSecurityBenchmark();
    benchmark.connections = 1000;
    benchmark.setUp();
    AccessTokenBenchmark.Cursor cursor = new AccessTokenBenchmark.Cursor();
    cursor.setUp();
    Set<String> tokens = new HashSet<>();
    for (int i = 0; i < 1024; i++) { // the request array's length: the next power of two
      tokens.add(benchmark.anyConnection(cursor));
    }
    assertThat(tokens).hasSize(1000).allSatisfy(t -> assertThat(t).hasSize(64));
    assertThat(benchmark.sameConnection()).isEqualTo(benchmark.sameConnection());
    benchmark.tearDown(); // throws if a token endpoint was called
  }

  @Test
  void springReturnsExactlyTheStoredAccessToken() {
    SpringPeer spring = new SpringPeer(true);
    spring.save("account-0");
    String stored =
        spring
            .service
            .loadAuthorizedClient(SpringPeer.REGISTRATION_ID, "account-0")
            .getAccessToken()
            .getTokenValue();
    for (int i = 0; i < 10; i++) {
      assertThat(spring.accessToken(SpringPeer.request("account-0"))).isEqualTo(stored);
    }
    assertThat(spring.tokenRequests()).isZero();
  }

  @Test
  void springClientCredentialsServesTheCachedTokenToo() {
    SpringPeer spring = new SpringPeer(false);
    spring.save("account-0");
    String token = spring.accessToken(SpringPeer.request("account-0"));
    assertThat(spring.accessToken(SpringPeer.request("account-0"))).isEqualTo(token).hasSize(64);
    assertThat(spring.tokenRequests()).isZero();
  }

  @Test
  void googleServesEveryCredentialsCachedTokenWithoutTokenRequests() throws Exception {
    GoogleAuthBenchmark benchmark = new GoogleAuthBenchmark();
    benchmark.connections = 1000;
    benchmark.setUp();
    AccessTokenBenchmark.Cursor cursor = new AccessTokenBenchmark.Cursor();
    cursor.setUp();
    Set<String> headers = new HashSet<>();
    for (int i = 0; i < 1024; i++) {
      headers.add(authorization(benchmark.anyConnection(cursor)));
    }
    assertThat(headers)
        .hasSize(1000)
        .allSatisfy(h -> assertThat(h).startsWith("Bearer ").hasSize(7 + 64));
    assertThat(benchmark.sameConnection()).isEqualTo(benchmark.sameConnection());
    benchmark.tearDown(); // throws if the token server was contacted
  }

  @Test
  void googleReturnsExactlyTheTokenSetOnTheBuilder() throws Exception {
    GooglePeer google = new GooglePeer();
    UserCredentials credentials = google.credentials();
    String token = credentials.getAccessToken().getTokenValue();
    for (int i = 0; i < 10; i++) {
      assertThat(authorization(credentials.getRequestMetadata(GooglePeer.API)))
          .isEqualTo("Bearer " + token);
    }
    assertThat(credentials.getAccessToken().getTokenValue()).isEqualTo(token);
    assertThat(google.tokenRequests()).isZero();
  }

  @Test
  void naiveClientReadsTheTokenFromTheFileOnEveryCall() throws Exception {
    NaiveTokenFileBenchmark benchmark = new NaiveTokenFileBenchmark();
    benchmark.connections = 1;
    benchmark.setUp();
    String token = benchmark.sameConnection();
    assertThat(token).hasSize(64);
    for (int i = 0; i < 10; i++) {
      assertThat(benchmark.sameConnection()).isEqualTo(token);
    }
    benchmark.tearDown(); // throws if a call found the token expired
  }

  @Test
  void naiveClientCountsAnExpiredToken(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path file = dir.resolve("tokens.json");
    NaiveTokenFileClient.write(file, "a".repeat(64), "r".repeat(64), 1_000);
    NaiveTokenFileClient client = new NaiveTokenFileClient(file);
    try {
      client.accessToken();
    } catch (IllegalStateException expected) {
      // the script would refresh here
    }
    assertThat(client.refreshes()).isEqualTo(1);
  }

  private static String authorization(Map<String, List<String>> metadata) {
    assertThat(metadata).containsOnlyKeys("Authorization");
    assertThat(metadata.get("Authorization")).hasSize(1);
    return metadata.get("Authorization").get(0);
  }
}
