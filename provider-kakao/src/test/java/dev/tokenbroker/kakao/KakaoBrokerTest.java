package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kakao provider inside a real broker, picked by {@code provider: kakao}, end to end. */
class KakaoBrokerTest {
  private static final String KEY = KakaoTokenProviderTest.KEY;
  private static final String OTHER_KEY = KakaoTokenProviderTest.OTHER_KEY;
  private static final long APP_ID = KakaoTokenProviderTest.APP_ID;
  private static final String REDIRECT = KakaoTokenProviderTest.REDIRECT;
  private static final ConnectionId ID = KakaoTokenProviderTest.ID;
  private static final long USER = KakaoEmulator.DEFAULT_USER_ID;

  private final FakeClock clock = FakeClock.create();
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao =
        new KakaoEmulator(clock)
            .registerApp(KEY, APP_ID, REDIRECT)
            .registerApp(OTHER_KEY, KakaoTokenProviderTest.OTHER_APP_ID, REDIRECT)
            .start();
  }

  @AfterEach
  void stop() {
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
    kakao.close();
  }

  @Test
  void authorizeExchangeAndTokenInfo_throughTheBroker_withPkce() {
    TokenBroker broker = broker(Map.of("scopes", List.of("profile_nickname", "talk_message")));

    AuthorizationRequest request = broker.startAuthorization(ID);
    HttpUrl url = HttpUrl.get(request.url());
    assertThat(url.queryParameter("state")).isEqualTo(request.state());
    assertThat(url.queryParameter("code_challenge")).isNotBlank();
    assertThat(url.queryParameter("scope")).isEqualTo("profile_nickname,talk_message");
    TokenSet connected = broker.completeAuthorization(ID, kakao.followAuthorization(request.url()));

    RecordedRequest exchange = kakao.lastRequest(KakaoEmulator.TOKEN_PATH);
    assertThat(exchange.getHeader("Authorization")).isNull();
    assertThat(EmulatorServer.form(exchange))
        .containsEntry("code_verifier", request.codeVerifier())
        .containsEntry("client_id", KEY)
        .doesNotContainKey("client_secret");
    assertThat(store.load(ID)).isNotNull();
    assertThat(store.load(ID).refreshToken()).isEqualTo(connected.refreshToken());
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(broker.accessToken(ID)).isEqualTo(connected.accessToken());

    TokenSet validated = broker.validate(ID);

    assertThat(validated.extra(KakaoProviderFactory.USER_ID)).isEqualTo(Long.toString(USER));
    assertThat(validated.extra(KakaoProviderFactory.APP_ID)).isEqualTo(Long.toString(APP_ID));
    assertThat(kakao.lastRequest(KakaoEmulator.TOKEN_INFO_PATH).getHeader("Authorization"))
        .isEqualTo("Bearer " + connected.accessToken());
  }

  @Test
  void sixtyFourCallersAtExpiry_causeExactlyOneRefresh() throws Exception {
    TokenBroker broker = broker(Map.of());
    TokenSet first = connect(broker);
    clock.advance(Duration.ofSeconds(21_599));
    EmulatorServer.Gate gate = kakao.hold(KakaoEmulator.TOKEN_PATH);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<String>> callers = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      callers.add(
          pool.submit(
              () -> {
                go.await();
                return broker.accessToken(ID);
              }));
    }

    go.countDown();
    assertThat(gate.awaitArrivals(1, 10, TimeUnit.SECONDS)).isTrue();
    gate.release();
    Set<String> tokens = ConcurrentHashMap.newKeySet();
    for (Future<String> f : callers) {
      tokens.add(f.get(30, TimeUnit.SECONDS));
    }

    assertThat(gate.arrivals()).isEqualTo(1);
    assertThat(kakao.refreshes()).isEqualTo(1);
    assertThat(tokens).hasSize(1).doesNotContain(first.accessToken());
    assertThat(store.load(ID).accessToken()).isIn(tokens);
  }

  @Test
  void refreshBeforeTheLastMonth_keepsTheStoredRefreshTokenItsExpiryAndScopes() {
    TokenBroker broker = broker(Map.of("scopes", List.of("profile_nickname", "talk_message")));
    TokenSet first = connect(broker);
    clock.advance(Duration.ofDays(3));

    String access = broker.accessToken(ID);

    TokenSet stored = store.load(ID);
    assertThat(access).isNotEqualTo(first.accessToken()).isEqualTo(stored.accessToken());
    assertThat(stored.refreshToken()).isEqualTo(first.refreshToken());
    assertThat(stored.refreshExpiresAt()).isEqualTo(first.refreshExpiresAt());
    assertThat(stored.scopes()).containsExactly("profile_nickname", "talk_message");
    assertThat(kakao.rotations()).isZero();
  }

  @Test
  void refreshInTheLastMonth_rotates_andACopyHoldingTheOldRefreshTokenNeedsALogin() {
    TokenBroker broker = broker(Map.of());
    TokenSet first = connect(broker);
    clock.advance(Duration.ofDays(40));

    TokenSet rotated = broker.refresh(ID);

    assertThat(rotated.refreshToken()).isNotEqualTo(first.refreshToken());
    assertThat(store.load(ID).refreshToken()).isEqualTo(rotated.refreshToken());
    assertThat(store.load(ID).refreshExpiresAt()).isEqualTo(clock.instant().plusSeconds(5_183_999));

    // A second broker with its own store still holding the old set (a restored backup).
    InMemoryTokenStore stale = new InMemoryTokenStore(clock);
    stale.put(ID, first);
    TokenBroker restored = broker(stale, Map.of());

    assertThatThrownBy(() -> restored.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    Health health = restored.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.errorCode()).isEqualTo("KOE322");
    assertThat(health.reason())
        .isEqualTo("refresh token expired or invalid: the user must log in again");
  }

  @Test
  void keepAliveOverSixMonths_keepsTheConnection_withOneRotatingRefreshPerCycle() {
    TokenBroker broker = broker(Map.of());
    Instant start = clock.instant();
    connect(broker);
    Instant end = start.plus(Duration.ofDays(183));
    List<Instant> keepAlives = new ArrayList<>();

    // The keep-alive scheduler, simulated: jump to the policy's keep-alive time and refresh.
    while (true) {
      TokenSet stored = store.load(ID);
      Instant due = broker.provider(ID).renewalPolicy().keepAliveAt(stored);
      assertThat(due).isNotNull().isAfter(clock.instant());
      if (due.isAfter(end)) {
        break;
      }
      clock.set(due);
      TokenSet renewed = broker.refresh(ID);
      keepAlives.add(due);
      assertThat(renewed.refreshToken())
          .as("each keep-alive got a new refresh token")
          .isNotEqualTo(stored.refreshToken());
    }
    clock.set(end);

    assertThat(broker.accessToken(ID)).isNotBlank();
    // 60-day refresh tokens renewed 21 days before they expire: every 39 days.
    assertThat(keepAlives).hasSize(4);
    assertThat(kakao.rotations()).isEqualTo(4);
    assertThat(kakao.refreshes()).isEqualTo(5); // the 4 keep-alives and today's access token
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(eventTypes()).doesNotContain(TokenEvent.Type.REFRESH_FAILED);
  }

  @Test
  void withoutKeepAlive_anIdleConnectionDiesWithItsRefreshToken() {
    TokenBroker broker = broker(Map.of());
    connect(broker);
    clock.advance(Duration.ofSeconds(5_183_999));

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(broker.health(ID).errorCode()).isEqualTo("KOE322");
  }

  @Test
  void validateOnLoad_rejectsAStoredTokenOfAnotherApp() {
    store.put(ID, kakao.issueTokens(OTHER_KEY));
    TokenBroker broker = broker(Map.of("app-id", APP_ID, "validate-on-load", true));

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);

    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.reason()).startsWith("token was issued for another app (app_id 111222");
    assertThat(kakao.refreshes()).as("a foreign refresh token is never used").isZero();
  }

  @Test
  void validateOnLoad_checksAStoredTokenOfThisAppOnce() {
    store.put(ID, kakao.issueTokens(KEY));
    TokenBroker broker = broker(Map.of("app-id", APP_ID, "validate-on-load", true));

    String first = broker.accessToken(ID);
    String second = broker.accessToken(ID);

    assertThat(second).isEqualTo(first);
    assertThat(kakao.tokenInfoRequests()).isEqualTo(1);
    assertThat(broker.tokenSet(ID).extra(KakaoProviderFactory.USER_ID))
        .isEqualTo(Long.toString(USER));
  }

  @Test
  void explicitValidate_rejectsATokenOfAnotherApp() {
    store.put(ID, kakao.issueTokens(OTHER_KEY));
    TokenBroker broker = broker(Map.of("app-id", APP_ID));

    assertThatThrownBy(() -> broker.validate(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void malformedRefreshAnswer_isTyped_andKeepsTheStoredSet() {
    TokenBroker broker = broker(Map.of());
    TokenSet first = connect(broker);
    TokenSet stored = store.load(ID);
    clock.advance(Duration.ofSeconds(21_599));
    kakao.inject(
        KakaoEmulator.TOKEN_PATH, Fault.json(200, "{\"token_type\":\"bearer\",\"expires_in\":1}"));

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOfSatisfying(
            TokenUnavailableException.class,
            e -> assertThat(e.endpointFailure().reason()).contains("malformed"));

    assertThat(store.load(ID)).isEqualTo(stored);
    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(health.reason()).startsWith("rotation outcome unknown");
    assertThat(eventTypes()).contains(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);

    // Past the backoff (and the broker's once-a-second store peek for failing connections).
    clock.set(health.nextAttemptAt().plusSeconds(1));
    assertThat(broker.accessToken(ID)).isNotEqualTo(first.accessToken());
    assertThat(store.load(ID).refreshToken()).isEqualTo(first.refreshToken());
  }

  @Test
  void logout_leavesTheConnectionNeedingAuthorization_andAReconnectRevivesIt() {
    TokenBroker broker = broker(Map.of());
    TokenSet tokens = connect(broker);

    broker.revoke(ID);

    assertThat(kakao.logouts()).isEqualTo(1);
    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isFalse();
    assertThat(kakao.refreshTokenExpiresAt(tokens.refreshToken())).isNull();
    assertThat(store.load(ID)).isNull();
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);

    connect(broker);
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void logout_withAnExpiredAccessToken_renewsThroughTheBroker_savesFirst_thenLogsOut() {
    TokenBroker broker = broker(Map.of());
    TokenSet tokens = connect(broker);
    kakao.expireAccessTokens(USER);
    int tokenRequests = kakao.tokenRequests();

    broker.revoke(ID);

    // logout refused → one refresh (saved under the lease) → logout with the new token
    List<RecordedRequest> logouts = kakao.requests(KakaoEmulator.LOGOUT_PATH);
    assertThat(logouts).hasSize(2);
    assertThat(logouts.get(0).getHeader("Authorization"))
        .isEqualTo("Bearer " + tokens.accessToken());
    assertThat(logouts.get(1).getHeader("Authorization"))
        .isNotEqualTo("Bearer " + tokens.accessToken());
    assertThat(kakao.tokenRequests()).isEqualTo(tokenRequests + 1);
    assertThat(kakao.logouts()).isEqualTo(1);
    assertThat(kakao.refreshTokenExpiresAt(tokens.refreshToken())).isNull();
    assertThat(store.load(ID)).isNull(); // tombstoned after the logout
    assertThat(store.read(ID).tombstone()).isNotNull();
    assertThat(broker.health(ID).reasonCode()).isEqualTo("revoked");
  }

  @Test
  void unlink_withTokensKakaoNoLongerAccepts_failsAndKeepsTheConnection() {
    TokenBroker broker = broker(Map.of());
    TokenSet tokens = connect(broker);
    broker.provider(ID).revoke(tokens, Revocation.TOKENS); // logged out behind the broker's back

    assertThatThrownBy(() -> broker.revoke(ID, Revocation.UNLINK))
        .isInstanceOf(TokenEndpointException.class);

    assertThat(kakao.isLinked(KEY, USER)).isTrue();
    assertThat(store.read(ID).tombstone()).isNull();
  }

  @Test
  void unlink_leavesTheConnectionNeedingAuthorization() {
    TokenBroker broker = broker(Map.of());
    connect(broker);

    broker.revoke(ID, Revocation.UNLINK);

    assertThat(kakao.unlinks()).isEqualTo(1);
    assertThat(kakao.isLinked(KEY, USER)).isFalse();
    assertThat(store.load(ID)).isNull();
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void interceptor_renewsOnceAndReplays_whenKakaoRejectsTheToken() throws IOException {
    TokenBroker broker = broker(Map.of());
    TokenSet first = connect(broker);
    kakao.expireAccessTokens(USER);
    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(ID)).build();

    try (Response r =
        api.newCall(new Request.Builder().url(kakao.url(KakaoEmulator.USER_ME_PATH)).build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
    }

    List<RecordedRequest> calls = kakao.requests(KakaoEmulator.USER_ME_PATH);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0).getHeader("Authorization")).isEqualTo("Bearer " + first.accessToken());
    assertThat(calls.get(1).getHeader("Authorization"))
        .isEqualTo("Bearer " + broker.accessToken(ID));
    assertThat(kakao.refreshes()).isEqualTo(1);
  }

  @Test
  void interceptor_withdrawnConsentTheConnectionNeeds_marksItForReauthorization()
      throws IOException {
    TokenBroker broker = broker(Map.of("scopes", List.of("talk_message")));
    connect(broker);
    kakao.withdrawConsent(KEY, USER, "talk_message");
    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(ID)).build();
    Request memo =
        new Request.Builder()
            .url(kakao.url(KakaoEmulator.MEMO_PATH))
            .post(
                RequestBody.create(
                    "template_object={}", MediaType.get("application/x-www-form-urlencoded")))
            .build();

    try (Response r = api.newCall(memo).execute()) {
      assertThat(r.code()).isEqualTo(403);
    }

    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.errorCode()).isEqualTo("-402");
    assertThat(health.reason()).contains("talk_message");
  }

  @Test
  void interceptor_userNoLongerLinked_marksItUnlinked() throws IOException {
    TokenBroker broker = broker(Map.of());
    connect(broker);
    kakao.inject(KakaoEmulator.USER_ME_PATH, KakaoEmulator.kapiError(400, -101, "not linked"));
    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(broker.interceptor(ID)).build();

    try (Response r =
        api.newCall(new Request.Builder().url(kakao.url(KakaoEmulator.USER_ME_PATH)).build())
            .execute()) {
      assertThat(r.code()).isEqualTo(400);
    }

    Health health = broker.health(ID);
    assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(health.reasonCode()).isEqualTo("unlinked");
    assertThat(health.errorCode()).isEqualTo("-101");
  }

  // ---- helpers -----------------------------------------------------------------------------

  private TokenBroker broker(Map<String, ?> extra) {
    return broker(store, extra);
  }

  private TokenBroker broker(InMemoryTokenStore s, Map<String, ?> extra) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("provider", "kakao");
    settings.put("client-id", KEY);
    settings.put("redirect-uri", REDIRECT);
    settings.put("auth-base-url", kakao.baseUrl());
    settings.put("api-base-url", kakao.baseUrl());
    settings.putAll(extra);
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(s)
            .connection(ID, settings)
            .listener(events::add)
            .build();
    brokers.add(b);
    return b;
  }

  private TokenSet connect(TokenBroker broker) {
    AuthorizationRequest request = broker.startAuthorization(ID);
    return broker.completeAuthorization(ID, kakao.followAuthorization(request.url()));
  }

  private List<TokenEvent.Type> eventTypes() {
    List<TokenEvent.Type> types = new ArrayList<>();
    events.forEach(e -> types.add(e.type()));
    return types;
  }
}
