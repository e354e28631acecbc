package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider inside the real broker, against the emulator. */
class NaverBrokerTest {
  private static final String CLIENT = "myClient";
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  private static final String TOKEN = NaverEmulator.TOKEN_PATH;
  private static final ConnectionId ID = ConnectionId.of("naver", "self");

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private NaverEmulator naver;

  @BeforeEach
  void start() {
    naver = new NaverEmulator(clock).registerApplication(CLIENT, SECRET).start();
  }

  @AfterEach
  void stop() {
    brokers.forEach(TokenBroker::close);
    naver.close();
  }

  private Map<String, Object> settings(Object... extra) {
    Map<String, Object> m = new HashMap<>();
    m.put("provider", "naver");
    m.put("client-id", CLIENT);
    m.put("client-secret", SECRET);
    m.put("base-url", naver.baseUrl());
    for (int i = 0; i < extra.length; i += 2) {
      m.put((String) extra[i], extra[i + 1]);
    }
    return m;
  }

  /** A broker whose background renewals run on the calling thread, so tests decide the order. */
  private TokenBroker broker(Map<String, Object> settings) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .httpClient(http)
            .executor(Runnable::run)
            .connection(ID, settings)
            .build();
    brokers.add(b);
    return b;
  }

  @Test
  void sixtyCallersOnAnExpiredToken_causeOneTokenRequest() throws Exception {
    TokenBroker broker = broker(settings());
    String first = broker.accessToken(ID);
    clock.advance(Duration.ofHours(3)); // expired here and at Naver
    EmulatorServer.Gate gate = naver.hold(TOKEN);
    ExecutorService pool = Executors.newFixedThreadPool(60);
    try {
      CountDownLatch started = new CountDownLatch(60);
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        results.add(
            pool.submit(
                () -> {
                  started.countDown();
                  return broker.accessToken(ID);
                }));
      }
      assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(gate.awaitArrivals(1, 30, TimeUnit.SECONDS)).isTrue();
      gate.release();

      Set<String> tokens = new HashSet<>();
      for (Future<String> f : results) {
        tokens.add(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(tokens).hasSize(1).doesNotContain(first);
      assertThat(naver.requests(TOKEN)).hasSize(2);
      assertThat(gate.arrivals()).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void hotPath_servesTheCachedTokenWithoutSigning() {
    TokenBroker broker = broker(settings());
    String token = broker.accessToken(ID);

    for (int i = 0; i < 1000; i++) {
      assertThat(broker.accessToken(ID)).isEqualTo(token);
    }
    assertThat(naver.requests(TOKEN)).hasSize(1);
  }

  @Test
  void renewal_startsTwentyFiveMinutesBeforeExpiry_notOneTickEarlier() {
    TokenBroker broker = broker(settings());
    String first = broker.accessToken(ID);

    clock.advance(Duration.ofHours(2).plusMinutes(35).minusMillis(1));
    assertThat(broker.accessToken(ID)).isEqualTo(first);
    assertThat(naver.requests(TOKEN)).hasSize(1);

    clock.advance(Duration.ofMillis(1));
    assertThat(broker.accessToken(ID)).as("STALE: still served").isEqualTo(first);
    assertThat(naver.requests(TOKEN)).as("one background renewal").hasSize(2);
    String second = broker.accessToken(ID);
    assertThat(second).isNotEqualTo(first);
    assertThat(naver.issuedTokens()).isEqualTo(2);
  }

  @Test
  void forcedRefreshWithinTheWindow_getsTheSameToken_andKeepsItsExpiry() {
    TokenBroker broker = broker(settings());
    TokenSet first = broker.tokenSet(ID);
    clock.advance(Duration.ofHours(1));

    TokenSet again = broker.refresh(ID);

    assertThat(again.accessToken()).isEqualTo(first.accessToken());
    assertThat(again.expiresAt()).isEqualTo(first.expiresAt());
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void serverClockSixMinutesAhead_isCorrectedOnce_thenTokensFlow() {
    naver.serverClockSkew(Duration.ofMinutes(6));
    TokenBroker broker = broker(settings());

    String token = broker.accessToken(ID);

    assertThat(token).isEqualTo(naver.currentToken(CLIENT, "SELF", null));
    assertThat(naver.requests(TOKEN)).hasSize(2);
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void ipNotAllowed_requiresAnOperator_withTheRegistrationHint_andStopsTrying() {
    naver.ipAllowed(false);
    TokenBroker broker = broker(settings());

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.errorCode()).isEqualTo("GW.IP_NOT_ALLOWED");
    assertThat(health.reason()).contains("register", "IP address", "Naver Commerce API center");

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(naver.requests(TOKEN)).as("no retry loop").hasSize(1);
  }

  @Test
  void wrongSecret_requiresAnOperator() {
    naver.registerApplication(CLIENT, "$2a$04$zyxwvutsrqponmlkjihgfe");
    TokenBroker broker = broker(settings());

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .hasMessageNotContaining("abcdefghijklmnopqrstuv");
    assertThat(broker.health(ID).reason()).contains("client-secret");
  }

  @Test
  void gatewayRateLimit_degradesWithoutGivingUp() {
    naver.inject(TOKEN, naver.gatewayError(429, "GW.RATE_LIMIT"));
    TokenBroker broker = broker(settings());

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isNotInstanceOf(ReauthorizationRequiredException.class);
    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(health.errorCode()).isEqualTo("GW.RATE_LIMIT");

    clock.advance(Duration.ofMinutes(10));
    assertThat(broker.accessToken(ID)).isEqualTo(naver.currentToken(CLIENT, "SELF", null));
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
  }

  private Response callApi(TokenBroker broker) throws IOException {
    OkHttpClient api = http.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    return api.newCall(new Request.Builder().url(naver.url(NaverEmulator.ACCOUNT_PATH)).build())
        .execute();
  }

  @Test
  void gatewayAuthnOnAnApiCall_renewsOnceAndReplays() throws IOException {
    TokenBroker broker = broker(settings());
    String first = broker.accessToken(ID);
    naver.invalidateAllTokens();

    try (Response r = callApi(broker)) {
      assertThat(r.code()).isEqualTo(200);
    }

    List<String> sentTokens = new ArrayList<>();
    naver
        .requests(NaverEmulator.ACCOUNT_PATH)
        .forEach(r -> sentTokens.add(r.getHeader("Authorization")));
    String second = naver.currentToken(CLIENT, "SELF", null);
    assertThat(sentTokens).containsExactly("Bearer " + first, "Bearer " + second);
    assertThat(naver.requests(TOKEN)).hasSize(2);
    assertThat(broker.accessToken(ID)).isEqualTo(second);
  }

  @Test
  void ipNotAllowedOnAnApiCall_marksTheConnectionDead() throws IOException {
    TokenBroker broker = broker(settings());
    broker.accessToken(ID);
    naver.ipAllowed(false);

    try (Response r = callApi(broker)) {
      assertThat(r.code()).isEqualTo(403);
    }

    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.reason()).contains("register", "IP address");
    assertThat(health.errorCode()).isEqualTo("GW.IP_NOT_ALLOWED");
  }

  @Test
  void sellerWithoutAccountId_failsWhenTheBrokerIsBuilt() {
    assertThatThrownBy(() -> broker(settings("type", "SELLER")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("naver:self")
        .hasMessageContaining("account-id");
    assertThat(naver.requests()).isEmpty();
  }

  @Test
  void malformedSecret_failsWhenTheBrokerIsBuilt() {
    assertThatThrownBy(() -> broker(settings("client-secret", "$2b$04$abcdefghijklmnopqrstuv")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("client-secret")
        .hasMessageNotContaining("abcdefghijklmnopqrstuv");
  }

  @Test
  void sellers_ofOneApplication_eachGetTheirOwnToken() {
    naver.linkSeller(CLIENT, "seller-a").linkSeller(CLIENT, "seller-b");
    ConnectionId a = ConnectionId.of("naver", "seller:a");
    ConnectionId b = ConnectionId.of("naver", "seller:b");
    TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .httpClient(http)
            .executor(Runnable::run)
            .connection(a, settings("type", "SELLER", "account-id", "seller-a"))
            .connection(b, settings("type", "SELLER", "account-id", "seller-b"))
            .build();
    brokers.add(broker);

    assertThat(broker.accessToken(a)).isEqualTo(naver.currentToken(CLIENT, "SELLER", "seller-a"));
    assertThat(broker.accessToken(b)).isEqualTo(naver.currentToken(CLIENT, "SELLER", "seller-b"));
    assertThat(broker.accessToken(a)).isNotEqualTo(broker.accessToken(b));
  }

  @Test
  void yamlConfig_withASharedAppAndTheSecretFromTheEnvironment(@TempDir Path dir)
      throws IOException {
    naver.linkSeller(CLIENT, "seller-a");
    Path yaml = dir.resolve("tokenbroker.yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "apps:",
            "  naver-app:",
            "    provider: naver",
            "    client-id: " + CLIENT,
            "    client-secret: ${NAVER_CLIENT_SECRET}",
            "    base-url: " + naver.baseUrl(),
            "connections:",
            "  naver:self: { app: naver-app }",
            "  naver:seller:a: { app: naver-app, type: SELLER, account-id: seller-a }",
            ""));
    TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .httpClient(http)
            .executor(Runnable::run)
            .environment(Map.of("NAVER_CLIENT_SECRET", SECRET))
            .configFile(yaml)
            .build();
    brokers.add(broker);

    assertThat(broker.accessToken(ID)).isEqualTo(naver.currentToken(CLIENT, "SELF", null));
    assertThat(broker.accessToken(ConnectionId.parse("naver:seller:a")))
        .isEqualTo(naver.currentToken(CLIENT, "SELLER", "seller-a"));
    assertThat(naver.badSignatures()).isZero();
  }
}
