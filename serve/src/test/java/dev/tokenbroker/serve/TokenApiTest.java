package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.OTHER;
import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token API on a real server: a temporary Unix socket and a loopback TCP port with random port,
 * against the OAuth2 emulator on a fake clock.
 */
class TokenApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REPORTS_SECRET = "reports-secret-0123456789";
  private static final String ADMIN_SECRET = "admin-secret-0123456789abc";

  @TempDir Path dir;
  private Fixture fx;
  private InMemoryTokenStore store;
  private TokenService service;
  private Path socket;

  @BeforeEach
  void start() throws IOException {
    fx = new Fixture(dir);
    store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP);
    fx.seed(store, OTHER);
    socket = dir.resolve("run").resolve("tb.sock");
    ServeConfig config =
        ServeConfig.builder()
            .socket(socket)
            .tcp("127.0.0.1", 0)
            .client(
                "reports", fx.secret("reports.secret", REPORTS_SECRET), List.of("oauth2-test:shop"))
            .client("admin", fx.secret("admin.secret", ADMIN_SECRET), List.of("*"))
            .build();
    service = fx.service(config).start(fx.broker(store));
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    fx.close();
  }

  private RawHttp.Reply unix(String method, String path, String... headers) throws IOException {
    return RawHttp.unix(socket, method, path, headers);
  }

  private RawHttp.Reply tcp(String method, String path, String... headers) throws IOException {
    return RawHttp.tcp(service.tcpPort(), method, path, headers);
  }

  private static JsonNode json(RawHttp.Reply r) throws IOException {
    return JSON.readTree(r.body());
  }

  @Test
  void token_overTheSocket_isTheStoredTokenAsJson() throws IOException {
    String stored = store.load(SHOP).accessToken();

    RawHttp.Reply r = unix("GET", "/v1/connections/oauth2-test:shop/token");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Cache-Control")).isEqualTo("no-store");
    JsonNode body = json(r);
    assertThat(body.get("access_token").asText()).isEqualTo(stored);
    assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.get("expires_at").asText()).isEqualTo(store.load(SHOP).expiresAt().toString());
    assertThat(body.get("expires_in").asLong()).isEqualTo(3600);
    assertThat(fx.emulator.tokenRequests()).isZero();
  }

  @Test
  void token_asText_isTheBareTokenAndANewline() throws IOException {
    String stored = store.load(SHOP).accessToken();

    RawHttp.Reply query = unix("GET", "/v1/connections/oauth2-test:shop/token?format=text");
    RawHttp.Reply accept =
        unix("GET", "/v1/connections/oauth2-test:shop/token", "Accept: text/plain");

    assertThat(query.status()).isEqualTo(200);
    assertThat(query.body()).isEqualTo(stored + "\n");
    assertThat(query.header("Content-Type")).startsWith("text/plain");
    assertThat(accept.body()).isEqualTo(stored + "\n");
  }

  @Test
  void token_afterExpiry_isRenewedOnceForManyCallers() throws Exception {
    String old = store.load(SHOP).accessToken();
    fx.clock.advance(Duration.ofHours(2));

    int callers = 16;
    List<Thread> threads = new java.util.ArrayList<>();
    Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Integer> statuses = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int i = 0; i < callers; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  RawHttp.Reply r =
                      unix("GET", "/v1/connections/oauth2-test:shop/token?format=text");
                  statuses.add(r.status());
                  seen.add(r.body().strip());
                } catch (IOException e) {
                  statuses.add(-1);
                }
              });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join(30_000);
    }

    assertThat(statuses).hasSize(callers).containsOnly(200);
    assertThat(seen).hasSize(1).doesNotContain(old);
    fx.tokens.addAll(seen);
    assertThat(fx.emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(1);
    assertThat(seen.iterator().next()).isEqualTo(store.load(SHOP).accessToken());
  }

  @Test
  void connections_listHealthAndNoToken() throws IOException {
    RawHttp.Reply list = unix("GET", "/v1/connections");
    RawHttp.Reply one = unix("GET", "/v1/connections/oauth2-test:shop");

    assertThat(list.status()).isEqualTo(200);
    JsonNode all = json(list).get("connections");
    assertThat(all).hasSize(2);
    assertThat(all.get(0).get("connection").asText()).isEqualTo("oauth2-test:other");
    assertThat(all.get(0).get("state").asText()).isEqualTo("ACTIVE");
    assertThat(one.status()).isEqualTo(200);
    assertThat(json(one).get("access_token_expires_at").asText())
        .isEqualTo(store.load(SHOP).expiresAt().toString());
    for (String token : fx.tokens) {
      assertThat(list.body()).doesNotContain(token);
      assertThat(one.body()).doesNotContain(token);
    }
  }

  @Test
  void refresh_renewsNowAndAnswersWithoutToken() throws IOException {
    long before = store.load(SHOP).version();

    RawHttp.Reply r = unix("POST", "/v1/connections/oauth2-test:shop/refresh");

    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r).get("version").asLong()).isGreaterThan(before);
    assertThat(fx.emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(1);
    String renewed = store.load(SHOP).accessToken();
    fx.tokens.add(renewed);
    fx.tokens.add(store.load(SHOP).refreshToken());
    assertThat(r.body()).doesNotContain(renewed);
  }

  @Test
  void metrics_inPrometheusFormat_countTheRenewal_needTheSecretOnTcp_andCarryNoToken()
      throws IOException {
    unix("POST", "/v1/connections/oauth2-test:shop/refresh");
    String renewed = store.load(SHOP).accessToken();
    fx.tokens.add(renewed);
    fx.tokens.add(store.load(SHOP).refreshToken());

    RawHttp.Reply tcpNoSecret = tcp("GET", "/metrics", "Host: 127.0.0.1");
    assertThat(tcpNoSecret.status()).isEqualTo(401);
    RawHttp.Reply r =
        tcp("GET", "/metrics", "Authorization: Bearer " + REPORTS_SECRET, "Host: 127.0.0.1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/plain");
    assertThat(r.body())
        .contains("tokenbroker_renewals_total{outcome=\"success\",provider=\"oauth2-test\"} 1.0")
        .contains("tokenbroker_connections{state=\"active\"} 2.0")
        .doesNotContain(renewed)
        .doesNotContain(REPORTS_SECRET);
    assertThat(unix("GET", "/metrics").status())
        .as("the socket's users are trusted")
        .isEqualTo(200);
  }

  @Test
  void refresh_byGet_isMethodNotAllowed() throws IOException {
    RawHttp.Reply r = unix("GET", "/v1/connections/oauth2-test:shop/refresh");

    assertThat(r.status()).isEqualTo(405);
    assertThat(r.header("Allow")).isEqualTo("POST");
    assertThat(fx.emulator.tokenRequests()).isZero();
  }

  @Test
  void unknownConnection_is404_malformedId_is400_unknownPath_is404() throws IOException {
    RawHttp.Reply unknown = unix("GET", "/v1/connections/oauth2-test:nobody/token");
    RawHttp.Reply malformed = unix("GET", "/v1/connections/no-colon-here/token");
    RawHttp.Reply nowhere = unix("GET", "/v2/anything");

    assertThat(unknown.status()).isEqualTo(404);
    assertThat(json(unknown).get("error").asText()).isEqualTo("unknown-connection");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(json(malformed).get("error").asText()).isEqualTo("bad-connection-id");
    assertThat(nowhere.status()).isEqualTo(404);
  }

  @Test
  void oversizedHeaders_areRefused_andTheServerStaysUp() throws IOException {
    RawHttp.Reply big = unix("GET", "/v1/connections", "X-Filler: " + "a".repeat(20_000));
    RawHttp.Reply after = unix("GET", "/healthz");

    assertThat(big.status()).isEqualTo(431);
    assertThat(after.status()).isEqualTo(200);
  }

  @Test
  void reauthorizationRequired_is409_withReason_andNoToken() throws IOException {
    fx.emulator.revokeRefreshToken(store.load(SHOP).refreshToken());
    fx.clock.advance(Duration.ofHours(2));

    RawHttp.Reply r = unix("GET", "/v1/connections/oauth2-test:shop/token");

    assertThat(r.status()).isEqualTo(409);
    JsonNode body = json(r);
    assertThat(body.get("error").asText()).isEqualTo("reauthorization-required");
    assertThat(body.get("health").get("state").asText()).isEqualTo("REAUTHORIZATION_REQUIRED");
    assertThat(body.get("health").get("reason").asText()).isEqualTo("refresh-token-rejected");
    assertThat(body.get("action").asText()).isEqualTo("tokenbroker connect oauth2-test:shop");
    for (String token : fx.tokens) {
      assertThat(r.body()).doesNotContain(token);
    }
  }

  @Test
  void healthzAndReadyz_answerWithoutCredentials() throws IOException {
    assertThat(tcp("GET", "/healthz").status()).isEqualTo(200);
    RawHttp.Reply ready = tcp("GET", "/readyz");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(json(ready).get("status").asText()).isEqualTo("ready");
  }

  // ---- TCP access control --------------------------------------------------------------------

  @Test
  void tcp_withClientSecret_getsItsConnection() throws IOException {
    RawHttp.Reply r =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:shop/token?format=text",
            "Authorization: Bearer " + REPORTS_SECRET,
            "Host: 127.0.0.1:" + service.tcpPort());

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  @Test
  void tcp_missingOrWrongSecret_is401() throws IOException {
    RawHttp.Reply missing = tcp("GET", "/v1/connections/oauth2-test:shop/token");
    RawHttp.Reply wrong =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:shop/token",
            "Authorization: Bearer " + "x" + REPORTS_SECRET);
    RawHttp.Reply basic =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:shop/token",
            "Authorization: Basic " + REPORTS_SECRET);

    for (RawHttp.Reply r : List.of(missing, wrong, basic)) {
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
      assertThat(r.body()).doesNotContain(store.load(SHOP).accessToken());
    }
    assertThat(json(wrong).get("message").asText()).doesNotContain(REPORTS_SECRET);
  }

  @Test
  void tcp_connectionNotAllowedForClient_is403_andListShowsOnlyItsOwn() throws IOException {
    RawHttp.Reply other =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:other/token",
            "Authorization: Bearer " + REPORTS_SECRET);
    RawHttp.Reply refresh =
        tcp(
            "POST",
            "/v1/connections/oauth2-test:other/refresh",
            "Authorization: Bearer " + REPORTS_SECRET);
    RawHttp.Reply list = tcp("GET", "/v1/connections", "Authorization: Bearer " + REPORTS_SECRET);
    RawHttp.Reply admin =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:other/token",
            "Authorization: Bearer " + ADMIN_SECRET);

    assertThat(other.status()).isEqualTo(403);
    assertThat(other.body()).doesNotContain(store.load(OTHER).accessToken());
    assertThat(refresh.status()).isEqualTo(403);
    assertThat(fx.emulator.tokenRequests()).isZero();
    assertThat(json(list).get("connections")).hasSize(1);
    assertThat(json(list).get("connections").get(0).get("connection").asText())
        .isEqualTo("oauth2-test:shop");
    assertThat(admin.status()).isEqualTo(200);
  }

  @Test
  void tcp_foreignHostHeader_isRefusedBeforeAnything() throws IOException {
    RawHttp.Reply rebound =
        tcp(
            "GET",
            "/v1/connections/oauth2-test:shop/token",
            "Authorization: Bearer " + REPORTS_SECRET,
            "Host: attacker.example:" + service.tcpPort());
    RawHttp.Reply health = tcp("GET", "/healthz", "Host: attacker.example");

    assertThat(rebound.status()).isEqualTo(421);
    assertThat(rebound.body()).doesNotContain(store.load(SHOP).accessToken());
    assertThat(health.status()).isEqualTo(421);
  }

  @Test
  void socket_isMode0600_inAnOwnerOnlyDirectory() throws IOException {
    assertThat(Files.getPosixFilePermissions(socket))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertThat(Files.getPosixFilePermissions(socket.getParent()))
        .doesNotContain(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
  }

  @Test
  void close_removesTheSocket_andLogsHoldNoToken() throws IOException {
    unix("GET", "/v1/connections/oauth2-test:shop/token");
    tcp("GET", "/v1/connections/oauth2-test:shop/token", "Authorization: Bearer " + REPORTS_SECRET);
    unix("POST", "/v1/connections/oauth2-test:shop/refresh");
    fx.tokens.add(store.load(SHOP).accessToken());
    fx.tokens.add(store.load(SHOP).refreshToken());

    service.close();
    service = null;

    assertThat(Files.exists(socket)).isFalse();
    String log = Files.readString(Path.of("target/serve-tests.log"), StandardCharsets.UTF_8);
    assertThat(log).contains("\"path\":\"/v1/connections/oauth2-test:shop/token\"");
    assertThat(log).contains("\"client\":\"reports\"");
    for (String token : fx.tokens) {
      assertThat(log).doesNotContain(token);
    }
    assertThat(log).doesNotContain(REPORTS_SECRET).doesNotContain(ADMIN_SECRET);
  }
}
