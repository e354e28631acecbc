package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.CLIENT_ID;
import static dev.tokenbroker.cafe24.Cafe24Fixture.REDIRECT;
import static dev.tokenbroker.cafe24.Cafe24Fixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.AuthorizationException;
import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.EmulatorServer.Gate;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** End to end: the broker engine with the Cafe24 provider against the emulator. */
class Cafe24BrokerTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();
  private final Cafe24Emulator cafe24 = fixture.cafe24;
  private final InMemoryTokenStore store = new InMemoryTokenStore(fixture.clock);
  private final ConnectionId mallA = ConnectionId.parse("cafe24:mall-a");
  private final String tokenPath = cafe24.tokenPath("mall-a");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void close() {
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
    fixture.close();
  }

  private TokenBroker broker() {
    return broker(fixture.settings("mall-a"));
  }

  private TokenBroker broker(Map<String, Object> settings) {
    TokenBroker broker =
        TokenBroker.builder()
            .clock(fixture.clock)
            .store(store)
            .httpClient(fixture.http)
            .connection(mallA, settings)
            .listener(events::add)
            .build();
    brokers.add(broker);
    return broker;
  }

  /** Seeds the store as if mall-a had been connected earlier. */
  private TokenSet seed() {
    return store.put(mallA, fixture.connected("mall-a"));
  }

  private List<TokenEvent.Type> eventTypes() {
    List<TokenEvent.Type> types = new ArrayList<>();
    events.forEach(e -> types.add(e.type()));
    return types;
  }

  // ---- the human step ---------------------------------------------------------------------

  @Test
  void authorizeExchangeAndCallTheApiThroughTheInterceptor() throws IOException {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("api-version", "2025-01-01");
    TokenBroker broker = broker(settings);

    AuthorizationRequest request = broker.startAuthorization(mallA);
    String redirected = cafe24.approve(request.url());
    TokenSet tokens = broker.completeAuthorization(mallA, redirected);

    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(store.load(mallA).sameTokensAs(tokens)).isTrue();
    assertThat(eventTypes()).contains(TokenEvent.Type.AUTHORIZED);
    RecordedRequest exchange = cafe24.lastRequest(tokenPath);
    assertThat(exchange.getHeader("Authorization")).isEqualTo(Cafe24Fixture.BASIC);
    assertThat(EmulatorServer.form(exchange))
        .containsOnlyKeys("grant_type", "code", "redirect_uri")
        .containsEntry("redirect_uri", REDIRECT);
    assertThat(exchange.getBody().clone().readUtf8()).doesNotContain(SECRET);

    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(mallA)).build();
    try (Response response = api.newCall(products()).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    RecordedRequest call = cafe24.lastRequest(cafe24.productsPath("mall-a"));
    assertThat(call.getHeader("Authorization")).isEqualTo("Bearer " + tokens.accessToken());
    assertThat(call.getHeader("X-Cafe24-Api-Version")).isEqualTo("2025-01-01");
  }

  @Test
  void completeAuthorization_stateMismatch_isRejectedBeforeAnyNetworkCall() {
    TokenBroker broker = broker();
    AuthorizationRequest request = broker.startAuthorization(mallA);
    HttpUrl redirected = HttpUrl.get(cafe24.approve(request.url()));
    String forged = redirected.newBuilder().setQueryParameter("state", "forged-state").toString();

    AuthorizationException e =
        catchThrowableOfType(
            AuthorizationException.class, () -> broker.completeAuthorization(mallA, forged));
    assertThat(e).hasMessageContaining("unknown state");
    assertThat(cafe24.tokenRequests()).isZero();
    assertThat(store.load(mallA)).isNull();
  }

  @Test
  void completeAuthorization_deniedByTheOperator_isRejectedBeforeAnyNetworkCall() {
    cafe24.denyAuthorizations(true);
    TokenBroker broker = broker();
    String redirected = cafe24.approve(broker.startAuthorization(mallA).url());

    AuthorizationException e =
        catchThrowableOfType(
            AuthorizationException.class, () -> broker.completeAuthorization(mallA, redirected));
    assertThat(e.error()).isEqualTo("access_denied");
    assertThat(cafe24.tokenRequests()).isZero();
  }

  @Test
  void completeAuthorization_61SecondsAfterApproval_failsClearlyAndStoresNothing() {
    TokenBroker broker = broker();
    String redirected = cafe24.approve(broker.startAuthorization(mallA).url());
    fixture.clock.advance(Duration.ofSeconds(61));

    TokenEndpointException e =
        catchThrowableOfType(
            TokenEndpointException.class, () -> broker.completeAuthorization(mallA, redirected));
    assertThat(e.kind()).isEqualTo(TokenEndpointException.Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo(Cafe24Provider.CODE_DEAD);
    assertThat(store.load(mallA)).isNull();
    assertThat(cafe24.codeExchanges()).isZero();
  }

  @Test
  void completeAuthorization_sameRedirectTwice_secondIsRefusedWithoutSpendingAnything() {
    TokenBroker broker = broker();
    String redirected = cafe24.approve(broker.startAuthorization(mallA).url());
    TokenSet first = broker.completeAuthorization(mallA, redirected);

    catchThrowableOfType(
        AuthorizationException.class, () -> broker.completeAuthorization(mallA, redirected));
    assertThat(cafe24.tokenRequests()).isEqualTo(1);
    assertThat(store.load(mallA).sameTokensAs(first)).isTrue();
  }

  @Test
  void completeAuthorization_eitherTimestampZone_givesTheRightExpiry() {
    for (ZoneOffset zone : List.of(ZoneOffset.ofHours(9), ZoneOffset.UTC)) {
      cafe24.timestampZone(zone);
      fixture.clock.advance(Duration.ofMinutes(1));
      TokenBroker broker = broker();
      TokenSet tokens =
          broker.completeAuthorization(
              mallA, cafe24.approve(broker.startAuthorization(mallA).url()));

      Instant now = fixture.clock.instant();
      assertThat(tokens.expiresAt()).as("zone %s", zone).isEqualTo(now.plus(Duration.ofHours(2)));
      assertThat(tokens.refreshExpiresAt()).isEqualTo(now.plus(Duration.ofDays(14)));
      assertThat(broker.health(mallA).accessTokenExpiresAt()).isEqualTo(tokens.expiresAt());
      broker.close();
    }
  }

  // ---- one refresh at a time, saved before use --------------------------------------------

  @Test
  void sixtyFourCallersAtExpiry_causeExactlyOneRefresh_andTheRotationChainSurvives()
      throws Exception {
    seed();
    TokenBroker broker = broker();
    fixture.clock.advance(Duration.ofHours(2));
    Gate gate = cafe24.hold(tokenPath);
    CountDownLatch started = new CountDownLatch(64);

    List<Future<String>> callers = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      callers.add(
          pool.submit(
              () -> {
                started.countDown();
                return broker.accessToken(mallA);
              }));
    }
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(gate.awaitArrivals(1, 10, TimeUnit.SECONDS)).isTrue();
    gate.release();

    Set<String> handedOut = new HashSet<>();
    for (Future<String> f : callers) {
      handedOut.add(f.get(10, TimeUnit.SECONDS));
    }
    assertThat(gate.arrivals()).isEqualTo(1);
    assertThat(cafe24.refreshes()).isEqualTo(1);
    assertThat(handedOut).hasSize(1);
    String token = handedOut.iterator().next();
    assertThat(cafe24.isAccessTokenValid(token)).isTrue();
    TokenSet saved = store.load(mallA);
    assertThat(saved.accessToken()).isEqualTo(token);
    assertThat(cafe24.isRefreshTokenValid(saved.refreshToken())).isTrue();

    // The chain goes on: every later renewal uses the refresh token that was saved.
    for (int i = 0; i < 3; i++) {
      fixture.clock.advance(Duration.ofHours(2));
      assertThat(cafe24.isAccessTokenValid(broker.accessToken(mallA))).isTrue();
    }
    fixture.clock.advance(Duration.ofDays(13));
    assertThat(cafe24.isAccessTokenValid(broker.accessToken(mallA))).isTrue();
    assertThat(cafe24.refreshes()).isEqualTo(5);
    assertThat(cafe24.invalidRefreshAnswers()).isZero();
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void lostRefreshAnswer_isReportedAsRotationOutcomeUnknown_andTheNextAnswerSetsTheHealth() {
    TokenSet seeded = seed();
    TokenBroker broker = broker();
    fixture.clock.advance(Duration.ofHours(2));
    cafe24.inject(tokenPath, Fault.dropAfterProcessing());

    TokenUnavailableException lost =
        catchThrowableOfType(TokenUnavailableException.class, () -> broker.accessToken(mallA));
    assertThat(lost).isNotInstanceOf(ReauthorizationRequiredException.class);
    assertThat(eventTypes()).contains(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    Health degraded = broker.health(mallA);
    assertThat(degraded.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(degraded.reason()).startsWith("rotation outcome unknown");
    assertThat(degraded.reasonCode()).isEqualTo("rotation-outcome-unknown");
    assertThat(store.load(mallA)).isEqualTo(seeded); // nothing half-saved
    assertThat(cafe24.refreshes()).isEqualTo(1); // the platform did rotate

    // The next attempt is sent once, not blindly repeated, and its answer decides.
    fixture.clock.advance(Duration.ofMinutes(10));
    ReauthorizationRequiredException dead =
        catchThrowableOfType(
            ReauthorizationRequiredException.class, () -> broker.accessToken(mallA));
    Health health = dead.health();
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    // the lost request spent the refresh token: the reason says so, with the platform's answer
    assertThat(health.reasonCode()).isEqualTo("rotation-outcome-unknown");
    assertThat(health.reason()).contains("refresh token expired or already used");
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(cafe24.tokenRequests()).isEqualTo(2);
    assertThat(cafe24.invalidRefreshAnswers()).isEqualTo(1);
    assertThat(eventTypes()).contains(TokenEvent.Type.REAUTHORIZATION_REQUIRED);

    // A new authorization repairs it.
    broker.completeAuthorization(mallA, cafe24.approve(broker.startAuthorization(mallA).url()));
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
  }

  static Stream<Arguments> badAnswers() {
    String ok = "2026-03-01T12:00:00.000";
    return Stream.of(
        Arguments.of(
            "missing expires_at",
            Fault.json(200, Cafe24ProviderTest.tokenBody(null, ok, "2026-03-15T12:00:00.000"))),
        Arguments.of(
            "garbage dates",
            Fault.json(200, Cafe24ProviderTest.tokenBody("tomorrow", "today", "next week"))),
        Arguments.of(
            "HTML with 200",
            Fault.respond(200, "<html><body>maintenance</body></html>", "text/html")),
        Arguments.of("HTML 502 from a proxy", Fault.html(502)),
        Arguments.of(
            "400 temporarily_unavailable",
            Fault.json(400, "{\"error\":\"temporarily_unavailable\"}")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badAnswers")
  void badRefreshAnswer_givesATypedErrorAndKeepsTheStoredSetIntact(String name, Fault fault) {
    TokenSet seeded = seed();
    TokenBroker broker = broker();
    fixture.clock.advance(Duration.ofHours(2));
    cafe24.inject(tokenPath, fault);

    TokenUnavailableException e =
        catchThrowableOfType(TokenUnavailableException.class, () -> broker.accessToken(mallA));
    assertThat(e.endpointFailure()).isNotNull();
    assertThat(e.endpointFailure().kind()).isNotEqualTo(TokenEndpointException.Kind.PERMANENT);
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.DEGRADED);
    assertThat(store.load(mallA)).isEqualTo(seeded);
    assertThat(e.getMessage()).doesNotContain(seeded.refreshToken()).doesNotContain(SECRET);

    // The emulator answered without processing, so the stored refresh token still works.
    fixture.clock.advance(Duration.ofMinutes(10));
    assertThat(cafe24.isAccessTokenValid(broker.accessToken(mallA))).isTrue();
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void failingRenewalWhileStale_keepsServingTheStillValidToken() {
    TokenSet seeded = seed();
    TokenBroker broker =
        TokenBroker.builder()
            .clock(fixture.clock)
            .store(store)
            .httpClient(fixture.http)
            .executor(Runnable::run) // the background renewal runs inline: deterministic
            .connection(mallA, fixture.settings("mall-a"))
            .build();
    brokers.add(broker);
    fixture.clock.advance(Duration.ofMinutes(117)); // inside the 5-minute renewal margin
    cafe24.inject(tokenPath, Fault.json(200, "{\"access_token\":\"half\"}"));

    assertThat(broker.accessToken(mallA)).isEqualTo(seeded.accessToken());
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.DEGRADED);
    assertThat(store.load(mallA)).isEqualTo(seeded);
  }

  @Test
  void keepAlive_refreshesAnIdleMallWeekly_soItOutlivesThe14DayWindow() {
    seed();
    TokenBroker broker = broker();

    fixture.clock.advance(Duration.ofDays(6));
    assertThat(broker.keepAlive()).isEmpty();

    fixture.clock.advance(Duration.ofDays(1)); // 7 days left of the 14
    assertThat(broker.keepAlive()).containsExactly(mallA);
    for (int week = 2; week <= 8; week++) {
      fixture.clock.advance(Duration.ofDays(7));
      assertThat(broker.keepAlive()).as("week %s", week).containsExactly(mallA);
    }
    assertThat(cafe24.refreshes()).isEqualTo(8);
    assertThat(cafe24.invalidRefreshAnswers()).isZero();
    assertThat(cafe24.isRefreshTokenValid(store.load(mallA).refreshToken())).isTrue();
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
  }

  // ---- the Admin API through the interceptor ----------------------------------------------

  @Test
  void interceptor_on401_renewsOnceAndReplaysWithTheNewToken() throws IOException {
    TokenSet seeded = seed();
    TokenBroker broker = broker();
    cafe24.inject(
        cafe24.productsPath("mall-a"),
        Fault.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Invalid access_token\"}}"));

    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(mallA)).build();
    try (Response response = api.newCall(products()).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    List<RecordedRequest> calls = cafe24.requests(cafe24.productsPath("mall-a"));
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0).getHeader("Authorization")).isEqualTo("Bearer " + seeded.accessToken());
    assertThat(calls.get(1).getHeader("Authorization"))
        .isEqualTo("Bearer " + store.load(mallA).accessToken());
    assertThat(cafe24.refreshes()).isEqualTo(1);
  }

  @Test
  void interceptor_appUninstalled_marksTheConnectionForReauthorization() throws IOException {
    seed();
    TokenBroker broker = broker();
    cafe24.uninstall("mall-a");

    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(mallA)).build();
    try (Response response = api.newCall(products()).execute()) {
      assertThat(response.code()).isEqualTo(403);
    }
    Health health = broker.health(mallA);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.reasonCode()).isEqualTo("uninstalled");
    assertThat(cafe24.refreshes()).isZero();
  }

  @Test
  void appLaunch_verifiedThenAuthorizedAtOnce_connectsTheLaunchingMall() {
    TokenBroker broker = broker();
    Cafe24AppLaunch launches = Cafe24AppLaunch.builder(SECRET).clock(fixture.clock).build();

    // The operator of mall-a opens the app in Cafe24; the App URL handler verifies the launch and
    // starts that mall's authorization (cafe24:{mall} with the launch's mall id).
    Cafe24AppLaunch.Verified launch =
        launches.verify(cafe24.launchUrl("https://app.example.com/launch", CLIENT_ID, "mall-a"));
    ConnectionId id = ConnectionId.of("cafe24", launch.mallId());
    assertThat(id).isEqualTo(mallA);
    AuthorizationRequest request = broker.startAuthorization(id);
    String redirected = cafe24.approve(request.url());
    broker.completeAuthorization(id, redirected);

    assertThat(cafe24.codeExchanges()).isEqualTo(1);
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(store.load(mallA).extras()).containsEntry("mall_id", "mall-a");
  }

  // ---- revoke and configuration -----------------------------------------------------------

  @Test
  void revoke_killsBothTokensAtCafe24AndForgetsThem() {
    TokenSet seeded = seed();
    TokenBroker broker = broker();
    broker.accessToken(mallA);

    broker.revoke(mallA);

    assertThat(cafe24.revocations()).isEqualTo(1);
    assertThat(cafe24.isRefreshTokenValid(seeded.refreshToken())).isFalse();
    assertThat(store.load(mallA)).isNull();
    assertThat(broker.health(mallA).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void yamlWithOneAppAndTwoMalls_connectsBothIndependently(@TempDir Path dir) throws IOException {
    Path yaml = dir.resolve("tokenbroker.yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "apps:",
            "  my-cafe24-app:",
            "    provider: cafe24",
            "    client-id: " + CLIENT_ID,
            "    client-secret: ${CAFE24_SECRET}",
            "    redirect-uri: " + REDIRECT,
            "    scopes: [mall.read_product]",
            "    base-url: " + cafe24.baseUrlTemplate(),
            "connections:",
            "  cafe24:mall-a: { app: my-cafe24-app, mall-id: mall-a }",
            "  cafe24:mall-b: { app: my-cafe24-app, mall-id: mall-b, api-version: 2025-01-01 }",
            ""),
        StandardCharsets.UTF_8);
    TokenBroker broker =
        TokenBroker.builder()
            .clock(fixture.clock)
            .store(store)
            .environment(Map.of("CAFE24_SECRET", SECRET))
            .configFile(yaml)
            .build();
    brokers.add(broker);
    ConnectionId mallB = ConnectionId.parse("cafe24:mall-b");

    for (ConnectionId id : List.of(mallA, mallB)) {
      broker.completeAuthorization(id, cafe24.approve(broker.startAuthorization(id).url()));
    }
    fixture.clock.advance(Duration.ofHours(2));
    String a = broker.accessToken(mallA);
    String b = broker.accessToken(mallB);

    assertThat(a).isNotEqualTo(b);
    assertThat(cafe24.requests(cafe24.tokenPath("mall-a"))).hasSize(2);
    assertThat(cafe24.requests(cafe24.tokenPath("mall-b"))).hasSize(2);
    assertThat(store.load(mallB).extra("mall_id")).isEqualTo("mall-b");
  }

  private Request products() {
    return new Request.Builder().url(cafe24.url(cafe24.productsPath("mall-a"))).build();
  }
}
