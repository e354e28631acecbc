package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The provider against the emulator, called directly as the broker would call it. */
class KakaoTokenProviderTest {
  static final String KEY = "0123456789abcdef0123456789abcdef";
  static final String OTHER_KEY = "fedcba9876543210fedcba9876543210";
  static final long APP_ID = 987_654;
  static final long OTHER_APP_ID = 111_222;
  static final String REDIRECT = "http://127.0.0.1:9/kakao/callback";
  static final ConnectionId ID = ConnectionId.of("kakao", "shop-bot");

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao =
        new KakaoEmulator(clock)
            .registerApp(KEY, APP_ID, REDIRECT)
            .registerApp(OTHER_KEY, OTHER_APP_ID, REDIRECT)
            .start();
  }

  @AfterEach
  void stop() {
    kakao.close();
  }

  // ---- authorization URL -------------------------------------------------------------------

  @Test
  void authorizationUrl_carriesClientRedirectStateCommaJoinedScopesAndChallenge() {
    TokenProvider p = provider(Map.of("scopes", List.of("profile_nickname", "talk_message")));
    String challenge = challenge(verifier());

    HttpUrl url = HttpUrl.get(p.authorizationUrl("the-state", challenge));

    assertThat(url.toString()).startsWith(kakao.baseUrl() + "/oauth/authorize?");
    assertThat(url.queryParameter("response_type")).isEqualTo("code");
    assertThat(url.queryParameter("client_id")).isEqualTo(KEY);
    assertThat(url.queryParameter("redirect_uri")).isEqualTo(REDIRECT);
    assertThat(url.queryParameter("state")).isEqualTo("the-state");
    assertThat(url.queryParameter("scope")).isEqualTo("profile_nickname,talk_message");
    assertThat(url.queryParameter("code_challenge")).isEqualTo(challenge);
    assertThat(url.queryParameter("code_challenge_method")).isEqualTo("S256");
  }

  @Test
  void authorizationUrl_withoutPkceOrScopes_leavesThemOut() {
    HttpUrl url = HttpUrl.get(provider(Map.of("pkce", false)).authorizationUrl("s", null));

    assertThat(url.queryParameterNames())
        .containsExactlyInAnyOrder("response_type", "client_id", "redirect_uri", "state");
  }

  @Test
  void authorizationUrl_withPkceButNoChallenge_isAProgrammingError() {
    assertThatThrownBy(() -> provider(Map.of()).authorizationUrl("s", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- the whole flow ----------------------------------------------------------------------

  @Test
  void authorizeExchangeAndTokenInfo_withPkce() {
    kakao.loginAs(77);
    TokenProvider p = provider(Map.of("scopes", List.of("profile_nickname", "talk_message")));
    String verifier = verifier();

    String redirected = kakao.followAuthorization(p.authorizationUrl("st", challenge(verifier)));
    HttpUrl callback = HttpUrl.get(redirected);
    assertThat(callback.queryParameter("state")).isEqualTo("st");
    String code = callback.queryParameter("code");
    Instant exchangedAt = clock.instant();
    TokenSet tokens = p.exchangeCode(code, verifier);

    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.TOKEN_PATH);
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getHeader("Content-Type"))
        .isEqualTo("application/x-www-form-urlencoded;charset=utf-8");
    assertThat(sent.getHeader("Authorization")).as("credentials go in the body").isNull();
    assertThat(EmulatorServer.form(sent))
        .containsExactly(
            Map.entry("grant_type", "authorization_code"),
            Map.entry("client_id", KEY),
            Map.entry("redirect_uri", REDIRECT),
            Map.entry("code", code),
            Map.entry("code_verifier", verifier));

    assertThat(tokens.tokenType()).isEqualTo("Bearer");
    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isTrue();
    assertThat(tokens.issuedAt()).isEqualTo(exchangedAt);
    assertThat(tokens.expiresAt()).isEqualTo(exchangedAt.plusSeconds(21_599));
    assertThat(tokens.refreshToken()).isNotNull();
    assertThat(tokens.refreshExpiresAt()).isEqualTo(exchangedAt.plusSeconds(5_183_999));
    assertThat(tokens.scopes()).containsExactly("profile_nickname", "talk_message");

    TokenSet validated = p.validate(tokens);

    RecordedRequest info = kakao.lastRequest(KakaoEmulator.TOKEN_INFO_PATH);
    assertThat(info.getMethod()).isEqualTo("GET");
    assertThat(info.getHeader("Authorization")).isEqualTo("Bearer " + tokens.accessToken());
    assertThat(validated.extras())
        .containsEntry(KakaoProviderFactory.USER_ID, "77")
        .containsEntry(KakaoProviderFactory.APP_ID, Long.toString(APP_ID));
    assertThat(validated.accessToken()).isEqualTo(tokens.accessToken());
    assertThat(validated.expiresAt()).isEqualTo(tokens.expiresAt());
  }

  @Test
  void exchangeCode_withAClientSecret_sendsItInTheFormBody() {
    kakao.clientSecret(KEY, "the-client-secret");
    TokenProvider p = provider(Map.of("client-secret", "the-client-secret", "pkce", false));

    p.exchangeCode(code(p, null), null);

    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.TOKEN_PATH);
    assertThat(EmulatorServer.form(sent))
        .containsEntry("client_secret", "the-client-secret")
        .doesNotContainKey("code_verifier");
    assertThat(sent.getHeader("Authorization")).isNull();
  }

  @Test
  void exchangeCode_withoutTheAppsClientSecret_isPermanent() {
    kakao.clientSecret(KEY, "the-client-secret");
    TokenProvider p = provider(Map.of("pkce", false));

    TokenEndpointException e = exchangeFails(p, code(p, null), null);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.error()).isEqualTo("invalid_client");
    assertThat(e.platformCode()).isEqualTo("KOE010");
    assertThat(e.reason()).contains("client-secret");
  }

  @Test
  void exchangeCode_twice_saysTheCodeIsSpent_withoutShowingIt() {
    TokenProvider p = provider(Map.of());
    String verifier = verifier();
    String code = code(p, challenge(verifier));
    p.exchangeCode(code, verifier);

    TokenEndpointException e = exchangeFails(p, code, verifier);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.platformCode()).isEqualTo("KOE320");
    assertThat(e.reason()).isEqualTo("authorization code already used or unknown");
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.getMessage()).doesNotContain(code);
    assertThat(e.body()).doesNotContain(code).contains("invalid_grant");
    assertThat(e.errorDescription()).doesNotContain(code);
  }

  @Test
  void exchangeCode_withTheWrongVerifier_isPermanent() {
    TokenProvider p = provider(Map.of());
    String code = code(p, challenge(verifier()));

    TokenEndpointException e = exchangeFails(p, code, verifier());

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.error()).isEqualTo("invalid_grant");
    assertThat(e.reason()).contains("PKCE");
  }

  @Test
  void exchangeCode_ignoresAnIdToken() {
    kakao.issueIdToken(true);
    TokenProvider p = provider(Map.of("pkce", false));

    TokenSet tokens = p.exchangeCode(code(p, null), null);

    assertThat(tokens.extras()).isEmpty();
  }

  @Test
  void exchangeCode_answerWithoutRefreshToken_isMalformed() {
    TokenProvider p = provider(Map.of("pkce", false));
    String code = code(p, null);
    kakao.inject(
        KakaoEmulator.TOKEN_PATH,
        Fault.json(200, "{\"access_token\":\"a-token\",\"expires_in\":21599}"));

    TokenEndpointException e = exchangeFails(p, code, null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("malformed").contains("refresh_token");
  }

  // ---- refresh -----------------------------------------------------------------------------

  @Test
  void refresh_earlierThanTheLastMonth_keepsTheRefreshTokenItsExpiryScopesAndExtras() {
    TokenProvider p = provider(Map.of());
    TokenSet first = p.validate(connect(p, "profile_nickname,talk_message"));
    clock.advance(Duration.ofDays(10));

    TokenSet renewed = p.refresh(first);

    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.TOKEN_PATH);
    assertThat(sent.getHeader("Authorization")).isNull();
    assertThat(sent.getHeader("Content-Type"))
        .isEqualTo("application/x-www-form-urlencoded;charset=utf-8");
    assertThat(EmulatorServer.form(sent))
        .containsExactly(
            Map.entry("grant_type", "refresh_token"),
            Map.entry("client_id", KEY),
            Map.entry("refresh_token", first.refreshToken()));
    assertThat(renewed.accessToken()).isNotEqualTo(first.accessToken());
    assertThat(renewed.issuedAt()).isEqualTo(clock.instant());
    assertThat(renewed.expiresAt()).isEqualTo(clock.instant().plusSeconds(21_599));
    assertThat(renewed.refreshToken()).isEqualTo(first.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(first.refreshExpiresAt());
    assertThat(renewed.scopes()).isEqualTo(first.scopes()).isNotEmpty();
    assertThat(renewed.extras()).isEqualTo(first.extras()).isNotEmpty();
    assertThat(kakao.rotations()).isZero();
  }

  @Test
  void refresh_insideTheLastMonth_rotates_andTheOldRefreshTokenThenFailsPermanently() {
    TokenProvider p = provider(Map.of());
    TokenSet first = connect(p, null);
    clock.advance(Duration.ofDays(31));

    TokenSet rotated = p.refresh(first);

    assertThat(rotated.refreshToken()).isNotEqualTo(first.refreshToken());
    assertThat(rotated.refreshExpiresAt()).isEqualTo(clock.instant().plusSeconds(5_183_999));
    assertThat(kakao.rotations()).isEqualTo(1);

    TokenEndpointException e = refreshFails(p, first);
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.retryable()).isFalse();
    assertThat(e.platformCode()).isEqualTo("KOE322");
    assertThat(e.reason())
        .isEqualTo("refresh token expired or invalid: the user must log in again");
    assertThat(p.refresh(rotated).refreshToken())
        .as("the new refresh token works")
        .isEqualTo(rotated.refreshToken());
  }

  @Test
  void refresh_withAClientSecret_sendsItInTheFormBody() {
    kakao.clientSecret(KEY, "the-client-secret");
    TokenProvider p = provider(Map.of("client-secret", "the-client-secret"));

    p.refresh(connect(p, null));

    assertThat(EmulatorServer.form(kakao.lastRequest(KakaoEmulator.TOKEN_PATH)))
        .containsEntry("client_secret", "the-client-secret");
  }

  @Test
  void refresh_takesScopesFromTheAnswerWhenKakaoSendsThem() {
    TokenProvider p = provider(Map.of());
    TokenSet first = connect(p, "profile_nickname,talk_message");
    kakao.inject(
        KakaoEmulator.TOKEN_PATH,
        Fault.json(
            200,
            "{\"token_type\":\"bearer\",\"access_token\":\"new-access\",\"expires_in\":21599,"
                + "\"scope\":\"profile_nickname\"}"));

    assertThat(p.refresh(first).scopes()).containsExactly("profile_nickname");
  }

  @Test
  void refresh_withoutAStoredRefreshToken_isPermanent() {
    TokenSet noRefresh =
        connect(provider(Map.of()), null).toBuilder()
            .refreshToken(null)
            .refreshExpiresAt(null)
            .build();

    TokenEndpointException e = refreshFails(provider(Map.of()), noRefresh);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(kakao.tokenRequests()).isEqualTo(1);
  }

  static Stream<Arguments> refreshFailures() {
    return Stream.of(
        Arguments.of("502 HTML page", Fault.html(502), Kind.TRANSIENT, "unavailable"),
        Arguments.of(
            "503 JSON", Fault.json(503, "{\"error\":\"server_error\"}"), Kind.TRANSIENT, null),
        Arguments.of(
            "KOE003 temporary",
            KakaoEmulator.kauthError(400, "server_error", "temporary", "KOE003"),
            Kind.TRANSIENT,
            "temporary"),
        Arguments.of(
            "invalid_client",
            KakaoEmulator.kauthError(401, "invalid_client", "Bad client credentials", "KOE010"),
            Kind.PERMANENT,
            "client credentials"),
        Arguments.of(
            "invalid_grant without a KOE code",
            KakaoEmulator.kauthError(400, "invalid_grant", "expired", null),
            Kind.PERMANENT,
            "log in again"),
        Arguments.of("lost answer", Fault.dropAfterProcessing(), Kind.OUTCOME_UNKNOWN, "rotated"),
        Arguments.of(
            "no access_token",
            Fault.json(200, "{\"token_type\":\"bearer\",\"expires_in\":21599}"),
            Kind.OUTCOME_UNKNOWN,
            "access_token"),
        Arguments.of(
            "absurd expires_in",
            Fault.json(200, "{\"access_token\":\"a\",\"expires_in\":99999999999}"),
            Kind.OUTCOME_UNKNOWN,
            "expires_in"),
        Arguments.of(
            "negative expires_in",
            Fault.json(200, "{\"access_token\":\"a\",\"expires_in\":-1}"),
            Kind.OUTCOME_UNKNOWN,
            "expires_in"),
        Arguments.of(
            "refresh_token without its lifetime",
            Fault.json(
                200, "{\"access_token\":\"a\",\"expires_in\":21599,\"refresh_token\":\"r\"}"),
            Kind.OUTCOME_UNKNOWN,
            "refresh_token_expires_in"),
        Arguments.of(
            "not bearer",
            Fault.json(200, "{\"access_token\":\"a\",\"expires_in\":60,\"token_type\":\"mac\"}"),
            Kind.OUTCOME_UNKNOWN,
            "bearer"),
        Arguments.of(
            "a 200 HTML page",
            Fault.respond(200, "<html>maintenance</html>", "text/html"),
            Kind.OUTCOME_UNKNOWN,
            "malformed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refreshFailures")
  void refresh_failure_isTyped(String what, Fault fault, Kind kind, String reasonPart) {
    TokenProvider p = provider(Map.of());
    TokenSet current = connect(p, null);
    kakao.inject(KakaoEmulator.TOKEN_PATH, fault);

    TokenEndpointException e = refreshFails(p, current);

    assertThat(e.kind()).isEqualTo(kind);
    assertThat(e.provider()).isEqualTo("kakao");
    if (reasonPart != null) {
      assertThat(e.reason()).contains(reasonPart);
    }
    assertThat(e.getMessage()).doesNotContain(current.refreshToken());
  }

  @Test
  void refresh_errorBodyEchoingTheRefreshTokenOrSecret_isScrubbed() {
    kakao.clientSecret(KEY, "the-client-secret");
    TokenProvider p = provider(Map.of("client-secret", "the-client-secret"));
    TokenSet current = connect(p, null);
    kakao.inject(
        KakaoEmulator.TOKEN_PATH,
        KakaoEmulator.kauthError(
            400,
            "invalid_grant",
            "no such token " + current.refreshToken() + " for secret the-client-secret",
            "KOE322"));

    TokenEndpointException e = refreshFails(p, current);

    for (String text : List.of(e.getMessage(), e.body(), e.errorDescription(), e.toString())) {
      assertThat(text).doesNotContain(current.refreshToken()).doesNotContain("the-client-secret");
    }
  }

  // ---- validation --------------------------------------------------------------------------

  @Test
  void validate_aTokenOfAnotherApp_isRejectedPermanently() {
    TokenProvider p = provider(Map.of("app-id", APP_ID, "validate-on-load", true));
    TokenSet foreign = kakao.issueTokens(OTHER_KEY);

    assertThatThrownBy(() -> p.validate(foreign))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
              assertThat(e.reason())
                  .startsWith("token was issued for another app (app_id " + OTHER_APP_ID);
            })
        .message()
        .doesNotContain(foreign.accessToken());
  }

  @Test
  void validate_withoutAConfiguredAppId_recordsWhatTokenInfoSays() {
    TokenProvider p = provider(Map.of());

    TokenSet validated = p.validate(kakao.issueTokens(OTHER_KEY));

    assertThat(validated.extra(KakaoProviderFactory.APP_ID)).isEqualTo(Long.toString(OTHER_APP_ID));
    assertThat(validated.extra(KakaoProviderFactory.USER_ID))
        .isEqualTo(Long.toString(KakaoEmulator.DEFAULT_USER_ID));
  }

  @Test
  void validate_anExpiredAccessToken_isTransient_soARenewalCanFixIt() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    kakao.expireAccessTokens(KakaoEmulator.DEFAULT_USER_ID);

    TokenEndpointException e = validateFails(p, tokens);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.platformCode()).isEqualTo("-401");
    assertThat(e.httpStatus()).isEqualTo(401);
  }

  @Test
  void validate_aUserNoLongerLinked_isPermanent() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    kakao.inject(KakaoEmulator.TOKEN_INFO_PATH, KakaoEmulator.kapiError(400, -101, "not linked"));

    TokenEndpointException e = validateFails(p, tokens);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.platformCode()).isEqualTo("-101");
  }

  @Test
  void validate_duringAnOutageOrOverQuota_isTransient() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    kakao.inject(KakaoEmulator.TOKEN_INFO_PATH, Fault.html(502));
    kakao.inject(KakaoEmulator.TOKEN_INFO_PATH, KakaoEmulator.kapiError(400, -10, "quota"));
    kakao.inject(KakaoEmulator.TOKEN_INFO_PATH, Fault.json(200, "{\"id\":1}"));

    assertThat(validateFails(p, tokens).kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(validateFails(p, tokens).reason()).contains("quota");
    assertThat(validateFails(p, tokens).reason()).contains("malformed").contains("app_id");
  }

  @Test
  void validate_shortensAStoredExpiryThatKakaoSaysIsLater() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    TokenSet claimsMore =
        tokens.toBuilder().expiresAt(tokens.expiresAt().plusSeconds(3600)).build();

    assertThat(p.validate(claimsMore).expiresAt()).isEqualTo(tokens.expiresAt());
    assertThat(p.validate(tokens).expiresAt()).isEqualTo(tokens.expiresAt());
  }

  // ---- logout and unlink -------------------------------------------------------------------

  @Test
  void revokeTokens_logsOutWithTheBearerToken_andEndsTheTokens() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);

    p.revoke(tokens, Revocation.TOKENS);

    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.LOGOUT_PATH);
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getHeader("Authorization")).isEqualTo("Bearer " + tokens.accessToken());
    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isFalse();
    assertThat(kakao.refreshTokenExpiresAt(tokens.refreshToken())).isNull();
    assertThat(kakao.isLinked(KEY, KakaoEmulator.DEFAULT_USER_ID)).isTrue();
    assertThat(refreshFails(p, tokens).kind()).isEqualTo(Kind.PERMANENT);
  }

  @Test
  void revokeUnlink_unlinksTheUser() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);

    p.revoke(tokens, Revocation.UNLINK);

    assertThat(kakao.unlinks()).isEqualTo(1);
    assertThat(kakao.isLinked(KEY, KakaoEmulator.DEFAULT_USER_ID)).isFalse();
    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isFalse();
  }

  @Test
  void revokeTokens_withARejectedAccessToken_reportsTokenRejected_andSpendsNoRefreshToken() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    int tokenRequests = kakao.tokenRequests();
    kakao.expireAccessTokens(KakaoEmulator.DEFAULT_USER_ID);

    // Renewing here would spend the refresh token outside the broker's flight, lease and save.
    assertThatThrownBy(() -> p.revoke(tokens, Revocation.TOKENS))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.TOKEN_REJECTED);
              assertThat(e.httpStatus()).isEqualTo(401);
            });

    assertThat(kakao.requests(KakaoEmulator.LOGOUT_PATH)).hasSize(1);
    assertThat(kakao.requests(KakaoEmulator.LOGOUT_PATH).get(0).getHeader("Authorization"))
        .isEqualTo("Bearer " + tokens.accessToken());
    assertThat(kakao.tokenRequests()).isEqualTo(tokenRequests);
    assertThat(kakao.refreshTokenExpiresAt(tokens.refreshToken())).isNotNull();
  }

  @Test
  void revokeUnlink_withATokenKakaoNoLongerAccepts_reportsTokenRejected_andStaysLinked() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    p.revoke(tokens, Revocation.TOKENS);

    assertThatThrownBy(() -> p.revoke(tokens, Revocation.UNLINK))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TOKEN_REJECTED));
    assertThat(kakao.isLinked(KEY, KakaoEmulator.DEFAULT_USER_ID)).isTrue();
  }

  @Test
  void revokeUnlink_ofAnAlreadyUnlinkedUser_isDone_butAnOutageIsTransient() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);
    kakao.inject(KakaoEmulator.UNLINK_PATH, KakaoEmulator.kapiError(400, -101, "not linked"));
    kakao.inject(KakaoEmulator.UNLINK_PATH, Fault.html(503));

    p.revoke(tokens, Revocation.UNLINK);
    assertThatThrownBy(() -> p.revoke(tokens, Revocation.UNLINK))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TRANSIENT));
  }

  // ---- API responses -----------------------------------------------------------------------

  @Test
  void classifyApiResponse_401_isARejectedToken() throws IOException {
    TokenProvider p = provider(Map.of());

    try (Response r = call(KakaoEmulator.USER_ME_PATH, "GET", "not-a-token")) {
      assertThat(r.code()).isEqualTo(401);
      assertThat(p.classifyApiResponse(r).kind()).isEqualTo(ApiVerdict.Kind.TOKEN_REJECTED);
    }
  }

  @Test
  void classifyApiResponse_missingConsentTheConnectionIsConfiguredFor_isADeadConnection()
      throws IOException {
    TokenProvider p = provider(Map.of("scopes", List.of("profile_nickname", "talk_message")));
    TokenSet tokens = connect(p, "profile_nickname,talk_message");
    kakao.withdrawConsent(KEY, KakaoEmulator.DEFAULT_USER_ID, "talk_message");

    try (Response r = call(KakaoEmulator.MEMO_PATH, "POST", tokens.accessToken())) {
      ApiVerdict v = p.classifyApiResponse(r);

      assertThat(r.code()).isEqualTo(403);
      assertThat(v.kind()).isEqualTo(ApiVerdict.Kind.CONNECTION_DEAD);
      assertThat(v.code()).isEqualTo("-402");
      assertThat(v.reason()).contains("talk_message").contains("authorize again");
    }
  }

  @Test
  void classifyApiResponse_missingConsentOutsideTheConfiguredScopes_isTheCallersBusiness()
      throws IOException {
    TokenProvider p = provider(Map.of("scopes", List.of("profile_nickname")));
    TokenSet tokens = connect(p, "profile_nickname");

    try (Response r = call(KakaoEmulator.MEMO_PATH, "POST", tokens.accessToken())) {
      assertThat(r.code()).isEqualTo(403);
      assertThat(p.classifyApiResponse(r).kind()).isEqualTo(ApiVerdict.Kind.OK);
    }
  }

  static Stream<Arguments> apiAnswers() {
    return Stream.of(
        Arguments.of(
            KakaoEmulator.kapiError(400, -101, "not linked"), ApiVerdict.Kind.CONNECTION_DEAD),
        Arguments.of(KakaoEmulator.kapiError(400, -10, "quota"), ApiVerdict.Kind.OK),
        Arguments.of(KakaoEmulator.kapiError(503, -9798, "maintenance"), ApiVerdict.Kind.OK),
        Arguments.of(
            KakaoEmulator.kapiError(400, -401, "odd status"), ApiVerdict.Kind.TOKEN_REJECTED),
        Arguments.of(KakaoEmulator.kapiError(401, -406, "under 14"), ApiVerdict.Kind.OK),
        Arguments.of(Fault.html(500), ApiVerdict.Kind.OK),
        Arguments.of(Fault.html(401), ApiVerdict.Kind.TOKEN_REJECTED));
  }

  @ParameterizedTest
  @MethodSource("apiAnswers")
  void classifyApiResponse_readsKakaosCodes(Fault fault, ApiVerdict.Kind expected)
      throws IOException {
    TokenProvider p = provider(Map.of());
    kakao.inject(KakaoEmulator.USER_ME_PATH, fault);

    try (Response r = call(KakaoEmulator.USER_ME_PATH, "GET", "t")) {
      assertThat(p.classifyApiResponse(r).kind()).isEqualTo(expected);
      assertThat(r.body().string()).as("the body is left for the caller").isNotEmpty();
    }
  }

  // ---- renewal -----------------------------------------------------------------------------

  @Test
  void keepAlive_fallsInsideTheRotationWindow_forAFreshRefreshToken() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);

    Instant keepAliveAt = p.renewalPolicy().keepAliveAt(tokens);

    assertThat(keepAliveAt).isEqualTo(tokens.refreshExpiresAt().minus(Duration.ofDays(21)));
  }

  @Test
  void renewal_startsFiveMinutesBeforeExpiry() {
    TokenProvider p = provider(Map.of());
    TokenSet tokens = connect(p, null);

    assertThat(p.renewalPolicy().renewAtMillis(tokens))
        .isEqualTo(tokens.expiresAt().minus(Duration.ofMinutes(5)).toEpochMilli());
    assertThat(p.renewalPolicy().expiredAtMillis(tokens))
        .isEqualTo(tokens.expiresAt().minusSeconds(30).toEpochMilli());
  }

  // ---- helpers -----------------------------------------------------------------------------

  private TokenProvider provider(Map<String, ?> extra) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "kakao");
    s.put("client-id", KEY);
    s.put("redirect-uri", REDIRECT);
    s.put("auth-base-url", kakao.baseUrl());
    s.put("api-base-url", kakao.baseUrl());
    s.putAll(extra);
    return new KakaoProviderFactory()
        .create(new Settings(ID, s), new ProviderContext(ID, clock, http, new SecureRandom()));
  }

  /** Authorizes (for {@code scopes}, comma-joined, or the defaults) and exchanges the code. */
  private TokenSet connect(TokenProvider p, String scopes) {
    String verifier = p.usesPkce() ? verifier() : null;
    URI url = p.authorizationUrl("s", verifier == null ? null : challenge(verifier));
    if (scopes != null) {
      url = HttpUrl.get(url).newBuilder().setQueryParameter("scope", scopes).build().uri();
    }
    String code = HttpUrl.get(kakao.followAuthorization(url)).queryParameter("code");
    return p.exchangeCode(code, verifier);
  }

  private String code(TokenProvider p, String challenge) {
    return HttpUrl.get(kakao.followAuthorization(p.authorizationUrl("s", challenge)))
        .queryParameter("code");
  }

  private Response call(String path, String method, String token) throws IOException {
    Request request =
        new Request.Builder()
            .url(kakao.url(path))
            .method(
                method,
                method.equals("GET")
                    ? null
                    : RequestBody.create("", MediaType.get("application/x-www-form-urlencoded")))
            .header("Authorization", "Bearer " + token)
            .build();
    return http.newCall(request).execute();
  }

  private static TokenEndpointException exchangeFails(TokenProvider p, String code, String v) {
    return fails(() -> p.exchangeCode(code, v));
  }

  private static TokenEndpointException refreshFails(TokenProvider p, TokenSet current) {
    return fails(() -> p.refresh(current));
  }

  private static TokenEndpointException validateFails(TokenProvider p, TokenSet current) {
    return fails(() -> p.validate(current));
  }

  private static TokenEndpointException fails(Runnable call) {
    try {
      call.run();
    } catch (TokenEndpointException e) {
      return e;
    }
    throw new AssertionError("expected a TokenEndpointException");
  }

  static String verifier() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String challenge(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
