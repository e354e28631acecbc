package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Emulator.API_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.REFRESH_TOKEN;
import static dev.tokenbroker.testkit.OAuth2Emulator.TOKEN_PATH;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The broker engine end to end against the OAuth2 emulator: single-flight renewals under a
 * stampede, stale serving, lost rotations, the OkHttp interceptor and the authorization-code flow.
 * The emulator is gated so the test decides the order of events; time only moves on the FakeClock.
 */
class OAuth2BrokerTest {
  private static final ConnectionId ID = ConnectionId.of("oauth2-test", "shop");
  private static final String CLIENT = "app";
  private static final String SECRET = "s3cret-value";
  private static final String REDIRECT = "http://127.0.0.1:9/callback";
  private static final OkHttpClient HTTP = new OkHttpClient();

  private final FakeClock clock = FakeClock.create();
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch refreshed = new CountDownLatch(1);
  private OAuth2Emulator emulator;
  private TokenBroker broker;

  @BeforeEach
  void start() {
    emulator = new OAuth2Emulator(clock).registerClient(CLIENT, SECRET, REDIRECT).start();
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    emulator.close();
  }

  private OAuth2TestProvider.Builder provider() {
    return OAuth2TestProvider.builder()
        .baseUrl(emulator.baseUrl())
        .client(CLIENT, SECRET)
        .redirectUri(REDIRECT)
        .clock(clock)
        .httpClient(HTTP);
  }

  private TokenBroker broker(OAuth2TestProvider provider) {
    broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .httpClient(HTTP)
            .backoff(Duration.ofSeconds(1), Duration.ofSeconds(10))
            .connection(ID, provider)
            .listener(
                e -> {
                  events.add(e);
                  if (e.type() == TokenEvent.Type.REFRESHED) {
                    refreshed.countDown();
                  }
                })
            .build();
    return broker;
  }

  private List<TokenEvent.Type> eventTypes() {
    return events.stream().map(TokenEvent::type).collect(Collectors.toList());
  }

  /** A seeded connection whose token is cached FRESH, then left to expire. */
  private TokenSet connectedAndExpired() {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    assertThat(emulator.requests(TOKEN_PATH)).isEmpty();
    clock.advance(Duration.ofHours(1)); // past expiresAt - skew: EXPIRED, callers must wait
    return seeded;
  }

  // ---- stampede --------------------------------------------------------------------------------

  /**
   * {@code n} threads held at a start gate, then released at once into {@code call}. Records each
   * caller's result or exception.
   */
  private static final class Stampede {
    final List<Thread> threads = new ArrayList<>();
    final AtomicReferenceArray<String> results;
    final AtomicReferenceArray<Throwable> errors;
    final CountDownLatch start = new CountDownLatch(1);
    final CountDownLatch running;

    Stampede(int n, Supplier<String> call) {
      results = new AtomicReferenceArray<>(n);
      errors = new AtomicReferenceArray<>(n);
      running = new CountDownLatch(n);
      for (int i = 0; i < n; i++) {
        int slot = i;
        Thread t =
            new Thread(
                () -> {
                  try {
                    start.await();
                    running.countDown();
                    results.set(slot, call.get());
                  } catch (Throwable e) {
                    errors.set(slot, e);
                  }
                },
                "caller-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    void release() throws InterruptedException {
      start.countDown();
      assertThat(running.await(10, SECONDS)).isTrue();
    }

    /**
     * Waits until at least {@code k} callers are parked (joined the renewal in flight). Polls
     * thread states: no time has to pass, the loop only waits for the threads to get there.
     */
    void awaitParked(int k) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (parked() < k) {
        assertThat(System.nanoTime()).as("%d callers parked", parked()).isLessThan(deadline);
        Thread.onSpinWait();
        Thread.yield();
      }
    }

    private int parked() {
      int n = 0;
      for (Thread t : threads) {
        Thread.State s = t.getState();
        if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
          n++;
        }
      }
      return n;
    }

    void join() throws InterruptedException {
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
      }
    }

    List<String> results() {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < results.length(); i++) {
        out.add(results.get(i));
      }
      return out;
    }

    List<Throwable> errors() {
      List<Throwable> out = new ArrayList<>();
      for (int i = 0; i < errors.length(); i++) {
        if (errors.get(i) != null) {
          out.add(errors.get(i));
        }
      }
      return out;
    }
  }

  @ParameterizedTest(name = "{0} callers")
  @ValueSource(ints = {64, 256})
  void callersReleasedAtOnceOnAnExpiredToken_shareExactlyOneRefresh(int n) throws Exception {
    TokenSet seeded = connectedAndExpired();
    EmulatorServer.Gate gate = emulator.hold(TOKEN_PATH);

    Stampede stampede = new Stampede(n, () -> broker.accessToken(ID));
    stampede.release();
    assertThat(gate.awaitArrivals(1, 10, SECONDS)).isTrue();
    // every caller waits, the first one too: renewals run on the broker's threads, not a caller's
    stampede.awaitParked(n);
    gate.release();
    stampede.join();

    assertThat(stampede.errors()).isEmpty();
    String renewed = store.load(ID).accessToken();
    assertThat(renewed).isNotEqualTo(seeded.accessToken());
    assertThat(stampede.results()).hasSize(n).containsOnly(renewed);
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(emulator.tokenRequests(REFRESH_TOKEN)).isEqualTo(1);
    assertThat(emulator.invalidGrantAnswers()).isZero();
    assertThat(emulator.isAccessTokenValid(renewed)).isTrue();
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
  }

  static Stream<Arguments> failingEndpoints() {
    return Stream.of(
        Arguments.of(64, "json 500", 500),
        Arguments.of(256, "json 500", 500),
        Arguments.of(64, "html 502", 502),
        Arguments.of(256, "html 502", 502));
  }

  @ParameterizedTest(name = "{0} callers, {1}")
  @MethodSource("failingEndpoints")
  void callersReleasedAtOnceOnAFailingEndpoint_allGetTheSameError(int n, String what, int status)
      throws Exception {
    TokenSet seeded = connectedAndExpired();
    emulator.inject(
        TOKEN_PATH,
        status == 500 ? Fault.json(500, "{\"error\":\"server_error\"}") : Fault.html(502));
    EmulatorServer.Gate gate = emulator.hold(TOKEN_PATH);

    Stampede stampede = new Stampede(n, () -> broker.accessToken(ID));
    stampede.release();
    assertThat(gate.awaitArrivals(1, 10, SECONDS)).isTrue();
    stampede.awaitParked(n);
    gate.release();
    stampede.join();

    List<Throwable> errors = stampede.errors();
    assertThat(errors).hasSize(n);
    assertThat(stampede.results()).containsOnlyNulls();
    Set<Throwable> causes = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable e : errors) {
      assertThat(e)
          .isInstanceOf(TokenUnavailableException.class)
          .isNotInstanceOf(ReauthorizationRequiredException.class);
      causes.add(e.getCause());
    }
    assertThat(causes).hasSize(1);
    Throwable cause = causes.iterator().next();
    assertThat(cause).isInstanceOf(TokenEndpointException.class);
    TokenEndpointException endpoint = (TokenEndpointException) cause;
    assertThat(endpoint.kind()).isEqualTo(TokenEndpointException.Kind.TRANSIENT);
    assertThat(endpoint.httpStatus()).isEqualTo(status);
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(emulator.invalidGrantAnswers()).isZero();
    // The fault answered without processing: the refresh token is still good for a retry.
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.DEGRADED);
  }

  // ---- stale serving ---------------------------------------------------------------------------

  @Test
  void aStaleTokenIsServedWhileOneBackgroundRenewalRuns() throws Exception {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    // Default policy: FRESH until 60 s before expiry, EXPIRED in the last 5 s.
    clock.advance(Duration.ofHours(1).minusSeconds(30));
    EmulatorServer.Gate gate = emulator.hold(TOKEN_PATH);

    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    assertThat(gate.awaitArrivals(1, 10, SECONDS)).isTrue();
    for (int i = 0; i < 20; i++) {
      assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    }
    assertThat(gate.arrivals()).isEqualTo(1);
    gate.release();
    assertThat(refreshed.await(10, SECONDS)).isTrue();

    String renewed = broker.accessToken(ID);
    assertThat(renewed).isNotEqualTo(seeded.accessToken());
    assertThat(renewed).isEqualTo(store.load(ID).accessToken());
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(emulator.invalidGrantAnswers()).isZero();
  }

  @Test
  void oneSecondTokens_followTheirMillisecondLifetime() {
    emulator.accessTokenLifetime(Duration.ofSeconds(1));
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());

    // The 60 s / 5 s margins are clamped to L/2 = 500 ms and L/4 = 250 ms.
    clock.advance(Duration.ofMillis(499));
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    assertThat(emulator.requests(TOKEN_PATH)).isEmpty();
    clock.advance(Duration.ofMillis(251)); // 750 ms: EXPIRED, the caller waits for a renewal
    String renewed = broker.accessToken(ID);

    assertThat(renewed).isNotEqualTo(seeded.accessToken());
    assertThat(broker.tokenSet(ID).lifetime()).isEqualTo(Duration.ofSeconds(1));
    assertThat(broker.tokenSet(ID).expiresAt()).isEqualTo(clock.instant().plusSeconds(1));
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
  }

  // ---- a lost rotation -------------------------------------------------------------------------

  @Test
  void aLostRefreshAnswer_isReportedNotRetried_andTheNextAnswerDecidesTheHealth() {
    TokenSet seeded = connectedAndExpired();
    emulator.inject(TOKEN_PATH, Fault.dropAfterProcessing());

    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOfSatisfying(
            TokenUnavailableException.class,
            e -> {
              assertThat(e).isNotInstanceOf(ReauthorizationRequiredException.class);
              assertThat(e.endpointFailure().kind())
                  .isEqualTo(TokenEndpointException.Kind.OUTCOME_UNKNOWN);
            });

    assertThat(eventTypes()).contains(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    Health degraded = broker.health(ID);
    assertThat(degraded.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(degraded.nextAttemptAt()).isNotNull();
    // One POST reached the server: OkHttp did not silently re-send it on the dropped connection.
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(emulator.tokenRequests(REFRESH_TOKEN)).isEqualTo(1);
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();

    clock.set(degraded.nextAttemptAt().plusSeconds(1));
    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);

    Health dead = broker.health(ID);
    assertThat(dead.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(dead.errorCode()).isEqualTo("invalid_grant");
    assertThat(eventTypes()).contains(TokenEvent.Type.REAUTHORIZATION_REQUIRED);
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(2);
    assertThat(emulator.invalidGrantAnswers()).isEqualTo(1);
  }

  // ---- the OkHttp interceptor ------------------------------------------------------------------

  private Response callApi(OkHttpClient api) throws IOException {
    return api.newCall(new Request.Builder().url(emulator.url(API_PATH)).build()).execute();
  }

  private List<String> apiAuthorizations() {
    return emulator.requests(API_PATH).stream()
        .map(r -> r.getHeader("Authorization"))
        .collect(Collectors.toList());
  }

  @Test
  void interceptor_aRejectedTokenIsRenewedOnceAndTheRequestReplayedOnce() throws IOException {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    try (Response ok = callApi(api)) {
      assertThat(ok.code()).isEqualTo(200);
    }

    emulator.revokeAccessToken(seeded.accessToken());
    try (Response replayed = callApi(api)) {
      assertThat(replayed.code()).isEqualTo(200);
    }

    String renewed = broker.accessToken(ID);
    assertThat(renewed).isNotEqualTo(seeded.accessToken());
    assertThat(apiAuthorizations())
        .containsExactly(
            "Bearer " + seeded.accessToken(),
            "Bearer " + seeded.accessToken(),
            "Bearer " + renewed);
    assertThat(emulator.apiCalls()).isEqualTo(3);
    assertThat(emulator.apiRejections()).isEqualTo(1);
    assertThat(emulator.tokenRequests()).isEqualTo(1);
    assertThat(emulator.tokenRequests(REFRESH_TOKEN)).isEqualTo(1);
  }

  @Test
  void interceptor_aSecond401IsReturnedToTheCaller_notLooped() throws IOException {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    emulator.rejectAllApiCalls(true);

    try (Response rejected = callApi(api)) {
      assertThat(rejected.code()).isEqualTo(401);
      assertThat(rejected.body().string()).contains("invalid_token");
    }

    assertThat(emulator.apiCalls()).isEqualTo(2);
    assertThat(emulator.apiRejections()).isEqualTo(2);
    assertThat(emulator.tokenRequests()).isEqualTo(1);
    assertThat(apiAuthorizations())
        .containsExactly("Bearer " + seeded.accessToken(), "Bearer " + broker.accessToken(ID));
  }

  @Test
  void interceptor_twoCallsRejectedAtOnce_shareOneRenewal() throws Exception {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken());
    emulator.revokeAccessToken(seeded.accessToken());
    EmulatorServer.Gate gate = emulator.hold(TOKEN_PATH);

    Stampede two =
        new Stampede(
            2,
            () -> {
              try (Response r = callApi(api)) {
                return Integer.toString(r.code());
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    two.release();
    assertThat(gate.awaitArrivals(1, 10, SECONDS)).isTrue();
    // Both calls must have been rejected before the held renewal answers; the first caller's own
    // wait alone already counts as one parked thread, so counting parked threads is not enough.
    awaitApiRejections(2);
    two.awaitParked(2); // the second rejected call waits on the first one's renewal
    gate.release();
    two.join();

    assertThat(two.errors()).isEmpty();
    assertThat(two.results()).containsExactly("200", "200");
    assertThat(emulator.tokenRequests()).isEqualTo(1);
    assertThat(emulator.apiCalls()).isEqualTo(4);
    assertThat(apiAuthorizations())
        .containsOnly("Bearer " + seeded.accessToken(), "Bearer " + broker.accessToken(ID));
  }

  private void awaitApiRejections(long n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (emulator.apiRejections() < n) {
      assertThat(System.nanoTime())
          .as("%d of %d API calls rejected", emulator.apiRejections(), n)
          .isLessThan(deadline);
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  @Test
  void interceptor_aRejectionOfAnAlreadyReplacedToken_replaysWithoutRenewingAgain()
      throws Exception {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    EmulatorServer.Gate apiGate = emulator.hold(API_PATH);

    Stampede one =
        new Stampede(
            1,
            () -> {
              try (Response r = callApi(api)) {
                return Integer.toString(r.code());
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    one.release();
    assertThat(apiGate.awaitArrivals(1, 10, SECONDS)).isTrue(); // in flight with the old token
    emulator.revokeAccessToken(seeded.accessToken());
    TokenSet renewed = broker.refresh(ID); // meanwhile someone else renewed
    apiGate.release();
    one.join();

    assertThat(one.results()).containsExactly("200");
    assertThat(emulator.tokenRequests()).isEqualTo(1);
    assertThat(apiAuthorizations())
        .containsExactly("Bearer " + seeded.accessToken(), "Bearer " + renewed.accessToken());
  }

  @Test
  void interceptor_aRejectionAfterAnotherInstanceRenewed_usesTheStoredTokenWithoutRenewing()
      throws IOException {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    assertThat(broker.accessToken(ID)).isEqualTo(seeded.accessToken()); // cached here
    TokenSet renewedElsewhere;
    try (TokenBroker other =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(ID, provider().build())
            .build()) {
      renewedElsewhere = other.refresh(ID); // another instance sharing the store renewed
    }
    emulator.revokeAccessToken(seeded.accessToken());

    try (Response r = callApi(api)) {
      assertThat(r.code()).isEqualTo(200);
    }

    assertThat(apiAuthorizations())
        .containsExactly(
            "Bearer " + seeded.accessToken(), "Bearer " + renewedElsewhere.accessToken());
    assertThat(emulator.tokenRequests()).isEqualTo(1);
  }

  // ---- the authorization-code flow with PKCE ---------------------------------------------------

  /** Opens the authorization URL as a browser would, without following the redirect. */
  private static String approve(URI url) throws IOException {
    OkHttpClient browser = HTTP.newBuilder().followRedirects(false).build();
    try (Response r =
        browser.newCall(new Request.Builder().url(url.toString()).build()).execute()) {
      assertThat(r.code()).isEqualTo(302);
      return r.header("Location");
    }
  }

  @Test
  void authorizationCodeWithPkce_endToEnd() throws IOException {
    broker(provider().pkce(true).build());

    AuthorizationRequest request = broker.startAuthorization(ID);
    String location = approve(request.url());
    TokenSet connected = broker.completeAuthorization(ID, location);

    RecordedRequest authorize = emulator.lastRequest(AUTHORIZE_PATH);
    assertThat(EmulatorServer.query(authorize))
        .containsEntry("response_type", "code")
        .containsEntry("client_id", CLIENT)
        .containsEntry("redirect_uri", REDIRECT)
        .containsEntry("state", request.state())
        .containsEntry("code_challenge", OAuth2Emulator.s256(request.codeVerifier()))
        .containsEntry("code_challenge_method", "S256");
    assertThat(EmulatorServer.form(emulator.lastRequest(TOKEN_PATH)))
        .containsEntry("grant_type", "authorization_code")
        .containsEntry("code", HttpUrl.get(location).queryParameter("code"))
        .containsEntry("redirect_uri", REDIRECT)
        .containsEntry("code_verifier", request.codeVerifier());
    assertThat(store.load(ID).sameTokensAs(connected)).isTrue();
    assertThat(broker.accessToken(ID)).isEqualTo(connected.accessToken());
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(eventTypes()).contains(TokenEvent.Type.AUTHORIZED);
    OkHttpClient api = HTTP.newBuilder().addInterceptor(broker.interceptor(ID)).build();
    try (Response r = callApi(api)) {
      assertThat(r.code()).isEqualTo(200);
    }
  }

  @Test
  void aTamperedState_isRefusedBeforeAnyTokenRequest() throws IOException {
    broker(provider().pkce(true).build());
    AuthorizationRequest request = broker.startAuthorization(ID);
    HttpUrl location = HttpUrl.get(approve(request.url()));
    String code = location.queryParameter("code");
    String forged =
        location.newBuilder().setQueryParameter("state", request.state() + "x").build().toString();

    assertThatThrownBy(() -> broker.completeAuthorization(ID, forged))
        .isInstanceOf(AuthorizationException.class)
        .hasMessageContaining("state")
        .hasMessageNotContaining(request.state())
        .hasMessageNotContaining(code);

    assertThat(emulator.requests(TOKEN_PATH)).isEmpty();
    assertThat(emulator.tokenRequests()).isZero();
    assertThat(store.load(ID)).isNull();
  }

  @Test
  void reauthorizingAfterADeadRefreshToken_bringsTheConnectionBack() throws IOException {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    emulator.revokeRefreshToken(seeded.refreshToken());
    broker(provider().build());
    clock.advance(Duration.ofHours(1));
    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);

    AuthorizationRequest request = broker.startAuthorization(ID);
    TokenSet connected = broker.completeAuthorization(ID, approve(request.url()));

    assertThat(broker.health(ID).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(broker.accessToken(ID)).isEqualTo(connected.accessToken());
    assertThat(emulator.tokenRequests(REFRESH_TOKEN)).isEqualTo(1);
    assertThat(emulator.tokenRequests(OAuth2Emulator.AUTHORIZATION_CODE)).isEqualTo(1);
  }

  @Test
  void revoke_endsTheGrantAtTheServer_andRequiresANewAuthorization() {
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().build());

    broker.revoke(ID);

    assertThat(emulator.revocations()).isEqualTo(1);
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
    assertThat(emulator.isAccessTokenValid(seeded.accessToken())).isFalse();
    assertThat(store.load(ID)).isNull();
    assertThat(eventTypes()).contains(TokenEvent.Type.REVOKED);
    assertThatThrownBy(() -> broker.accessToken(ID))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(emulator.requests(TOKEN_PATH)).isEmpty();
  }

  @Test
  void withoutRotation_everyRefreshKeepsTheOneRefreshToken() {
    emulator.rotateRefreshTokens(false);
    TokenSet seeded = emulator.seed(store, ID, CLIENT);
    broker(provider().rotatingRefreshTokens(false).build());

    TokenSet first = broker.refresh(ID);
    TokenSet second = broker.refresh(ID);

    assertThat(second.accessToken()).isNotEqualTo(first.accessToken());
    assertThat(store.load(ID).refreshToken()).isEqualTo(seeded.refreshToken());
    assertThat(store.load(ID).refreshExpiresAt()).isEqualTo(seeded.refreshExpiresAt());
    assertThat(emulator.tokenRequests(REFRESH_TOKEN)).isEqualTo(2);
    assertThat(emulator.invalidGrantAnswers()).isZero();
  }

  @Test
  void clientCredentials_obtainOnFirstUse_thenServeFromCache() {
    broker(
        OAuth2TestProvider.builder()
            .baseUrl(emulator.baseUrl())
            .client(CLIENT, SECRET)
            .grantType(dev.tokenbroker.spi.GrantType.CLIENT_CREDENTIALS)
            .clock(clock)
            .httpClient(HTTP)
            .build());

    String first = broker.accessToken(ID);
    clock.advance(Duration.ofMinutes(58));
    String cached = broker.accessToken(ID);

    assertThat(cached).isEqualTo(first);
    assertThat(emulator.tokenRequests(OAuth2Emulator.CLIENT_CREDENTIALS)).isEqualTo(1);
    assertThat(store.load(ID).refreshToken()).isNull();
    assertThat(emulator.isAccessTokenValid(first)).isTrue();
  }
}
