package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.BASIC;
import static dev.tokenbroker.cafe24.Cafe24Fixture.CLIENT_ID;
import static dev.tokenbroker.cafe24.Cafe24Fixture.REDIRECT;
import static dev.tokenbroker.cafe24.Cafe24Fixture.SECRET;
import static dev.tokenbroker.cafe24.Cafe24Fixture.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class Cafe24ProviderTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();
  private final Cafe24Emulator cafe24 = fixture.cafe24;
  private final TokenProvider provider = fixture.provider("mall-a");
  private final String tokenPath = cafe24.tokenPath("mall-a");

  @AfterEach
  void close() {
    fixture.close();
  }

  // ---- authorization URL ------------------------------------------------------------------

  @Test
  void authorizationUrl_hasTheDocumentedQueryWithCommaJoinedScopes() {
    URI uri = provider.authorizationUrl("state-123", null);

    assertThat(uri.getRawQuery())
        .isEqualTo(
            "response_type=code&client_id="
                + CLIENT_ID
                + "&state=state-123&redirect_uri="
                + "https%3A%2F%2Fapp.example.com%2Fcafe24%2Fcallback%2F"
                + "&scope=mall.read_product,mall.read_order");
    assertThat(uri.getPath()).isEqualTo("/mall-a/api/v2/oauth/authorize");
    assertThat(provider.grantType()).isEqualTo(GrantType.AUTHORIZATION_CODE);
    assertThat(provider.usesPkce()).isFalse();
  }

  @Test
  void authorizationUrl_escapesTheState() {
    HttpUrl url = HttpUrl.get(provider.authorizationUrl("a&b=c d", null));
    assertThat(url.queryParameter("state")).isEqualTo("a&b=c d");
  }

  @Test
  void authorizationUrl_withPkceChallenge_isRefused() {
    assertThatThrownBy(() -> provider.authorizationUrl("s", "challenge"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- authorize → exchange → API call ----------------------------------------------------

  @Test
  void authorizeExchangeAndCallTheAdminApi() throws IOException {
    TokenProvider versioned =
        fixture.provider(with(fixture.settings("mall-a"), "api-version", "2024-06-01"));
    HttpUrl redirected = HttpUrl.get(cafe24.approve(versioned.authorizationUrl("state-xyz", null)));
    assertThat(redirected.queryParameter("state")).isEqualTo("state-xyz");

    TokenSet tokens = versioned.exchangeCode(redirected.queryParameter("code"), null);

    Request.Builder call =
        new Request.Builder()
            .url(cafe24.url(cafe24.productsPath("mall-a")))
            .header("Authorization", "Bearer " + tokens.accessToken());
    versioned.decorateApiRequest(call, tokens);
    try (Response response = fixture.http.newCall(call.build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    RecordedRequest api = cafe24.lastRequest(cafe24.productsPath("mall-a"));
    assertThat(api.getHeader("X-Cafe24-Api-Version")).isEqualTo("2024-06-01");
    assertThat(cafe24.codeExchanges()).isEqualTo(1);
    assertThat(cafe24.apiCalls()).isEqualTo(1);
  }

  @Test
  void decorateApiRequest_withoutApiVersion_addsNothing() {
    Request.Builder call = new Request.Builder().url("https://mall-a.cafe24api.com/api/v2/x");
    provider.decorateApiRequest(call, fixture.connected("mall-a"));
    assertThat(call.build().headers().size()).isZero();
  }

  @Test
  void decorateApiRequest_keepsAVersionTheCallerChose() {
    TokenProvider versioned =
        fixture.provider(with(fixture.settings("mall-a"), "api-version", "2024-06-01"));
    Request.Builder call =
        new Request.Builder()
            .url("https://mall-a.cafe24api.com/api/v2/admin/products")
            .header("X-Cafe24-Api-Version", "2025-03-01");
    versioned.decorateApiRequest(call, fixture.connected("mall-a"));
    assertThat(call.build().headers("X-Cafe24-Api-Version")).containsExactly("2025-03-01");
  }

  @Test
  void exchangeCode_sendsBasicAndOnlyTheDocumentedFormFields() {
    provider.exchangeCode(approveCode(), null);

    RecordedRequest sent = cafe24.lastRequest(tokenPath);
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getHeader("Authorization")).isEqualTo(BASIC);
    assertThat(sent.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
    Map<String, String> form = EmulatorServer.form(sent);
    assertThat(form).containsOnlyKeys("grant_type", "code", "redirect_uri");
    assertThat(form.get("grant_type")).isEqualTo("authorization_code");
    assertThat(form.get("redirect_uri")).isEqualTo(REDIRECT);
    assertThat(sent.getBody().clone().readUtf8()).doesNotContain(SECRET).doesNotContain(CLIENT_ID);
  }

  @Test
  void exchangeCode_readsExpiriesAsDifferencesAnchoredToTheReceiveTime() {
    fixture.clock.advance(Duration.ofMillis(250));
    TokenSet tokens = provider.exchangeCode(approveCode(), null);

    Instant now = START.plusMillis(250);
    assertThat(tokens.issuedAt()).isEqualTo(now);
    assertThat(tokens.expiresAt()).isEqualTo(now.plus(Duration.ofHours(2)));
    assertThat(tokens.refreshExpiresAt()).isEqualTo(now.plus(Duration.ofDays(14)));
    assertThat(tokens.tokenType()).isEqualTo("Bearer");
    assertThat(tokens.scopes()).containsExactly("mall.read_product", "mall.read_order");
    assertThat(tokens.extras())
        .containsEntry("mall_id", "mall-a")
        .containsEntry("user_id", "admin")
        .containsEntry("shop_no", "1")
        .containsEntry("issued_at_raw", "2026-03-01T12:00:00.250")
        .containsEntry("expires_at_raw", "2026-03-01T14:00:00.250")
        .containsEntry("refresh_token_expires_at_raw", "2026-03-15T12:00:00.250");
  }

  @Test
  void exchangeCode_sameCodeTwice_failsPermanentlyAskingForANewAuthorization() {
    String code = approveCode();
    provider.exchangeCode(code, null);

    TokenEndpointException e = exchangeFailure(code);
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo(Cafe24Provider.CODE_DEAD);
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.getMessage()).doesNotContain(code);
  }

  @Test
  void exchangeCode_61SecondsLate_failsPermanently() {
    String code = approveCode();
    fixture.clock.advance(Duration.ofSeconds(61));

    TokenEndpointException e = exchangeFailure(code);
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo(Cafe24Provider.CODE_DEAD);
    assertThat(e.errorDescription()).isEqualTo("Expired authorization_code");
  }

  @Test
  void exchangeCode_59SecondsLate_works() {
    String code = approveCode();
    fixture.clock.advance(Duration.ofSeconds(59));
    assertThat(provider.exchangeCode(code, null).refreshToken()).isNotNull();
  }

  @Test
  void exchangeCode_redirectUriDifferentFromTheAuthorization_namesTheSetting() {
    String code = approveCode();
    TokenProvider noSlash =
        fixture.provider(
            with(
                fixture.settings("mall-a"),
                "redirect-uri",
                REDIRECT.substring(0, REDIRECT.length() - 1)));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> noSlash.exchangeCode(code, null));
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).startsWith("redirect URI rejected").contains("redirect-uri");
  }

  @Test
  void exchangeCode_lostAnswer_isTransientNotOutcomeUnknown() {
    String code = approveCode();
    cafe24.inject(tokenPath, Fault.dropAfterProcessing());
    assertThat(exchangeFailure(code).kind()).isEqualTo(Kind.TRANSIENT);
  }

  // ---- refresh ----------------------------------------------------------------------------

  @Test
  void refresh_sendsBasicAndOnlyGrantTypeAndRefreshToken_andRotates() {
    TokenSet current = fixture.connected("mall-a");
    fixture.clock.advance(Duration.ofMinutes(116));

    TokenSet next = provider.refresh(current);

    RecordedRequest sent = cafe24.lastRequest(tokenPath);
    assertThat(sent.getHeader("Authorization")).isEqualTo(BASIC);
    Map<String, String> form = EmulatorServer.form(sent);
    assertThat(form)
        .containsOnlyKeys("grant_type", "refresh_token")
        .containsEntry("grant_type", "refresh_token")
        .containsEntry("refresh_token", current.refreshToken());
    assertThat(sent.getBody().clone().readUtf8()).doesNotContain(SECRET);

    assertThat(next.refreshToken()).isNotEqualTo(current.refreshToken());
    assertThat(next.accessToken()).isNotEqualTo(current.accessToken());
    Instant now = fixture.clock.instant();
    assertThat(next.issuedAt()).isEqualTo(now);
    assertThat(next.expiresAt()).isEqualTo(now.plus(Duration.ofHours(2)));
    assertThat(next.refreshExpiresAt()).isEqualTo(now.plus(Duration.ofDays(14)));
    assertThat(next.extra("user_id")).isEqualTo("admin");
  }

  @Test
  void refresh_chainOfRotations_keepsWorkingAcross13DayGaps() {
    TokenSet tokens = fixture.connected("mall-a");
    for (int i = 0; i < 5; i++) {
      fixture.clock.advance(Duration.ofDays(13));
      tokens = provider.refresh(tokens);
    }
    assertThat(cafe24.refreshes()).isEqualTo(5);
    assertThat(cafe24.isRefreshTokenValid(tokens.refreshToken())).isTrue();
  }

  @Test
  void refresh_withASpentRefreshToken_isPermanentWithTheExactReason() {
    TokenSet current = fixture.connected("mall-a");
    provider.refresh(current);

    TokenEndpointException e = refreshFailure(current);
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo("refresh token expired or already used");
    assertThat(e.httpStatus()).isEqualTo(401);
    assertThat(e.errorDescription()).isEqualTo("Invalid refresh_token");
    assertThat(e.getMessage()).doesNotContain(current.refreshToken()).doesNotContain(SECRET);
    assertThat(cafe24.invalidRefreshAnswers()).isEqualTo(1);
  }

  @Test
  void refresh_invalidRefreshTokenAs400WithAnotherCode_isStillTheSameReason() {
    cafe24.invalidRefreshTokenAnswer(400, "invalid_request");
    TokenSet current = fixture.connected("mall-a");
    provider.refresh(current);

    TokenEndpointException e = refreshFailure(current);
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
    assertThat(e.httpStatus()).isEqualTo(400);
  }

  @Test
  void refresh_invalidRefreshTokenInTheAdminApiErrorShape_isStillTheSameReason() {
    cafe24.inject(
        tokenPath,
        Fault.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Invalid refresh_token\"}}"));
    TokenEndpointException e = refreshFailure(fixture.connected("mall-a"));
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
    assertThat(e.platformCode()).isEqualTo("401");
    assertThat(e.errorDescription()).isEqualTo("Invalid refresh_token");
  }

  @Test
  void refresh_after14IdleDays_isPermanent() {
    TokenSet current = fixture.connected("mall-a");
    fixture.clock.advance(Duration.ofDays(14));
    assertThat(refreshFailure(current).reason()).isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
  }

  @Test
  void refresh_wrongClientSecret_isPermanentNamingTheClientSecretButNotShowingIt() {
    TokenSet current = fixture.connected("mall-a");
    String wrongSecret = "WrongSecret-987654321";
    TokenProvider misconfigured =
        fixture.provider(with(fixture.settings("mall-a"), "client-secret", wrongSecret));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> misconfigured.refresh(current));
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason())
        .isEqualTo("client secret rejected (Invalid client_secret): check client-secret");
    assertThat(e.getMessage()).doesNotContain(wrongSecret).doesNotContain(SECRET);
    assertThat(e.body()).doesNotContain(wrongSecret);
    // The refresh token was not spent: the right secret still works.
    assertThat(provider.refresh(current).refreshToken()).isNotNull();
  }

  @Test
  void refresh_unknownClientId_isPermanentNamingTheClientId() {
    TokenSet current = fixture.connected("mall-a");
    TokenProvider other =
        fixture.provider(with(fixture.settings("mall-a"), "client-id", "SomeOtherApp"));
    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> other.refresh(current));
    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo("client id rejected (Invalid client_id): check client-id");
  }

  static Stream<Arguments> transientFaults() {
    return Stream.of(
        Arguments.of("503 JSON", Fault.json(503, "{\"error\":\"server_error\"}")),
        Arguments.of("502 HTML from a proxy", Fault.html(502)),
        Arguments.of("401 HTML from a proxy", Fault.respond(401, "<html>nope</html>", "text/html")),
        Arguments.of("429", Fault.rateLimited(30)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transientFaults")
  void refresh_serverTrouble_isTransientAndSpendsNothing(String name, Fault fault) {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, fault);

    TokenEndpointException e = refreshFailure(current);
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(cafe24.isRefreshTokenValid(current.refreshToken())).isTrue();
  }

  @Test
  void refresh_rateLimited_carriesRetryAfter() {
    cafe24.inject(tokenPath, Fault.rateLimited(30));
    assertThat(refreshFailure(fixture.connected("mall-a")).retryAfter())
        .isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void refresh_lostAnswer_isOutcomeUnknown_andTheNextAttemptSaysTheTokenIsDead() {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, Fault.dropAfterProcessing());

    TokenEndpointException lost = refreshFailure(current);
    assertThat(lost.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(cafe24.refreshes()).isEqualTo(1);

    TokenEndpointException next = refreshFailure(current);
    assertThat(next.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(next.reason()).isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
    assertThat(cafe24.tokenRequests()).isEqualTo(2); // nothing re-sent behind our back
  }

  @Test
  void refresh_connectionDroppedBeforeProcessing_isOutcomeUnknownToo() {
    // The client cannot tell a drop before processing from one after: both must be reported.
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, Fault.dropBeforeProcessing());
    assertThat(refreshFailure(current).kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(cafe24.isRefreshTokenValid(current.refreshToken())).isTrue();
  }

  @Test
  void refresh_withoutARefreshToken_isPermanentWithoutACall() {
    TokenSet current =
        fixture.connected("mall-a").toBuilder().refreshToken(null).refreshExpiresAt(null).build();
    assertThat(refreshFailure(current).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(cafe24.tokenRequests()).isZero();
  }

  // ---- time zones and timestamp forms -----------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"Asia/Seoul", "UTC", "Pacific/Kiritimati", "America/Sao_Paulo"})
  void refresh_anyTimestampZone_givesTheSameExpiry(String zone) {
    cafe24.timestampZone(ZoneId.of(zone));
    TokenSet current = fixture.connected("mall-a");
    fixture.clock.advance(Duration.ofMinutes(117));

    TokenSet next = provider.refresh(current);

    Instant now = fixture.clock.instant();
    assertThat(next.expiresAt()).isEqualTo(now.plus(Duration.ofHours(2)));
    assertThat(next.refreshExpiresAt()).isEqualTo(now.plus(Duration.ofDays(14)));
  }

  @Test
  void refresh_utcReading_keepsTheRawUtcText() {
    cafe24.timestampZone(ZoneOffset.UTC);
    TokenSet next = provider.refresh(fixture.connected("mall-a"));
    assertThat(next.extra("issued_at_raw")).isEqualTo("2026-03-01T03:00:00.000");
    assertThat(next.expiresAt()).isEqualTo(START.plus(Duration.ofHours(2)));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 3, 6, 9})
  void refresh_anyNumberOfFractionDigits_isRead(int digits) {
    cafe24.timestampFractionDigits(digits).accessTokenLifetime(Duration.ofMillis(7_200_123));
    fixture.clock.advance(Duration.ofMillis(456));
    TokenSet next = provider.refresh(fixture.connected("mall-a"));
    // The written lifetime is truncated to the digits shown: 7200.123 s with 3 or more.
    Duration expected =
        digits >= 3
            ? Duration.ofMillis(7_200_123)
            : digits == 0 ? Duration.ofSeconds(7200) : Duration.ofMillis(7_200_100);
    assertThat(Duration.between(next.issuedAt(), next.expiresAt())).isEqualTo(expected);
  }

  @Test
  void refresh_timestampsWithAnOffset_areTolerated() {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(
        tokenPath,
        Fault.json(
            200,
            tokenBody(
                "2026-03-01T14:00:00+09:00",
                "2026-03-01T12:00:00+09:00",
                "2026-03-15T12:00:00+09:00")));
    TokenSet next = provider.refresh(current);
    assertThat(next.lifetime()).isEqualTo(Duration.ofHours(2));
  }

  // ---- malformed answers ------------------------------------------------------------------

  static Stream<Arguments> malformedBodies() {
    String ok = "2026-03-01T12:00:00.000";
    String later = "2026-03-01T14:00:00.000";
    String refresh = "2026-03-15T12:00:00.000";
    return Stream.of(
        Arguments.of("missing expires_at", tokenBody(null, ok, refresh)),
        Arguments.of("missing issued_at", tokenBody(later, null, refresh)),
        Arguments.of("missing refresh_token_expires_at", tokenBody(later, ok, null)),
        Arguments.of("garbage expires_at", tokenBody("in two hours", ok, refresh)),
        Arguments.of("impossible date", tokenBody("2026-02-30T14:00:00.000", ok, refresh)),
        Arguments.of(
            "ten fraction digits", tokenBody("2026-03-01T14:00:00.0000000000", ok, refresh)),
        Arguments.of("expires before issued", tokenBody("2026-03-01T11:00:00.000", ok, refresh)),
        Arguments.of("expires when issued", tokenBody(ok, ok, refresh)),
        Arguments.of(
            "access token for a century", tokenBody("2126-03-01T14:00:00.000", ok, refresh)),
        Arguments.of("refresh token for a year", tokenBody(later, ok, "2027-03-01T12:00:00.000")),
        Arguments.of("offset on one only", tokenBody("2026-03-01T14:00:00+09:00", ok, refresh)),
        Arguments.of(
            "no access_token", "{\"refresh_token\":\"r\",\"expires_at\":\"" + later + "\"}"),
        Arguments.of(
            "scopes is a number",
            tokenBody(later, ok, refresh).replace("[\"mall.read_product\"]", "7")),
        Arguments.of("HTML", "<html><body>Service temporarily unavailable</body></html>"),
        Arguments.of("empty", ""),
        Arguments.of("JSON array", "[]"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void refresh_malformedSuccess_isOutcomeUnknownSinceTheTokenMayHaveRotated(
      String name, String body) {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, Fault.replaceAfterProcessing(200, body, "application/json"));

    TokenEndpointException e = refreshFailure(current);
    assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(e.reason()).startsWith("malformed token response");
    assertThat(e.getMessage())
        .doesNotContain("rt-secret-value")
        .doesNotContain(current.refreshToken());
    assertThat(e.body()).as("nothing of a malformed success is kept").isNull();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void exchangeCode_malformedSuccess_isTransient(String name, String body) {
    String code = approveCode();
    cafe24.inject(tokenPath, Fault.json(200, body));
    TokenEndpointException e = exchangeFailure(code);
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).startsWith("malformed token response");
  }

  @Test
  void refresh_answerWithoutRefreshToken_keepsTheOldOne() {
    TokenSet current = fixture.connected("mall-a");
    String body =
        tokenBody("2026-03-01T14:00:00.000", "2026-03-01T12:00:00.000", null)
            .replace("\"refresh_token\":\"rt-secret-value\",", "");
    cafe24.inject(tokenPath, Fault.json(200, body));

    TokenSet next = provider.refresh(current);
    assertThat(next.accessToken()).isEqualTo("at-secret-value");
    assertThat(next.refreshToken()).isEqualTo(current.refreshToken());
    assertThat(next.refreshExpiresAt()).isEqualTo(current.refreshExpiresAt());
  }

  @Test
  void exchangeCode_answerWithoutShopNo_recordsTheConfiguredShopNo() {
    TokenProvider shop2 = fixture.provider(with(fixture.settings("mall-a"), "shop-no", "2"));
    String code = approveCode();
    cafe24.inject(
        tokenPath,
        Fault.json(
            200,
            tokenBody(
                    "2026-03-01T14:00:00.000", "2026-03-01T12:00:00.000", "2026-03-15T12:00:00.000")
                .replace(",\"shop_no\":\"1\"", "")));
    assertThat(shop2.exchangeCode(code, null).extra("shop_no")).isEqualTo("2");
  }

  // ---- revoke -----------------------------------------------------------------------------

  @Test
  void revoke_liveAccessToken_sendsItWithTokenHint_andKillsBothTokens() {
    TokenSet current = fixture.connected("mall-a");

    provider.revoke(current, Revocation.TOKENS);

    RecordedRequest sent = cafe24.lastRequest(cafe24.revokePath("mall-a"));
    assertThat(sent.getHeader("Authorization")).isEqualTo(BASIC);
    assertThat(EmulatorServer.form(sent))
        .containsOnlyKeys("token", "token_hint")
        .containsEntry("token", current.accessToken())
        .containsEntry("token_hint", "access_token");
    assertThat(cafe24.revocations()).isEqualTo(1);
    assertThat(refreshFailure(current).reason()).isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
  }

  @Test
  void revoke_afterTheAccessTokenExpired_sendsTheRefreshToken() {
    TokenSet current = fixture.connected("mall-a");
    fixture.clock.advance(Duration.ofHours(3));

    provider.revoke(current, Revocation.UNLINK);

    assertThat(EmulatorServer.form(cafe24.lastRequest(cafe24.revokePath("mall-a"))))
        .containsEntry("token", current.refreshToken())
        .containsEntry("token_hint", "refresh_token");
    assertThat(cafe24.isRefreshTokenValid(current.refreshToken())).isFalse();
  }

  @Test
  void revoke_serverError_isTransient() {
    cafe24.inject(cafe24.revokePath("mall-a"), Fault.html(503));
    TokenSet current = fixture.connected("mall-a");
    TokenEndpointException e =
        catchThrowableOfType(
            TokenEndpointException.class, () -> provider.revoke(current, Revocation.TOKENS));
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
  }

  // ---- Admin API verdicts -----------------------------------------------------------------

  @Test
  void classifyApiResponse_401_isARejectedToken() {
    try (Response r = products(fixture.connected("mall-a").accessToken() + "x")) {
      assertThat(r.code()).isEqualTo(401);
      assertThat(provider.classifyApiResponse(r).kind()).isEqualTo(ApiVerdict.Kind.TOKEN_REJECTED);
    }
  }

  @Test
  void classifyApiResponse_403AppUninstalled_isADeadConnection() {
    TokenSet tokens = fixture.connected("mall-a");
    cafe24.uninstall("mall-a");
    try (Response r = products(tokens.accessToken())) {
      assertThat(r.code()).isEqualTo(403);
      ApiVerdict verdict = provider.classifyApiResponse(r);
      assertThat(verdict.kind()).isEqualTo(ApiVerdict.Kind.CONNECTION_DEAD);
      // the Health reason code, which the broker turns into REAUTHORIZATION_REQUIRED/uninstalled
      assertThat(verdict.reason()).isEqualTo("uninstalled");
      assertThat(verdict.code()).isEqualTo("403");
      // peeked, not consumed: the caller still gets the body
      assertThat(r.body().string()).contains("uninstalled");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void classifyApiResponse_403ScopeNotGranted_isTheCallersProblem() {
    Cafe24Emulator.Issued issued =
        cafe24.connect("mall-a", CLIENT_ID, java.util.List.of("mall.read_order"));
    try (Response r = products(issued.accessToken())) {
      assertThat(r.code()).isEqualTo(403);
      assertThat(provider.classifyApiResponse(r).kind()).isEqualTo(ApiVerdict.Kind.OK);
    }
  }

  @Test
  void classifyApiResponse_429AndHtml403_areOk() {
    TokenSet tokens = fixture.connected("mall-a");
    cafe24.inject(cafe24.productsPath("mall-a"), Fault.rateLimited(2));
    cafe24.inject(
        cafe24.productsPath("mall-a"), Fault.respond(403, "<html>Forbidden</html>", "text/html"));
    try (Response limited = products(tokens.accessToken());
        Response html = products(tokens.accessToken())) {
      assertThat(provider.classifyApiResponse(limited).kind()).isEqualTo(ApiVerdict.Kind.OK);
      assertThat(provider.classifyApiResponse(html).kind()).isEqualTo(ApiVerdict.Kind.OK);
    }
  }

  @Test
  void saysUninstalled_readsTheLikelyWordings() {
    assertThat(Cafe24Provider.saysUninstalled("The app has been uninstalled")).isTrue();
    assertThat(Cafe24Provider.saysUninstalled("This app is not installed on the mall")).isTrue();
    assertThat(Cafe24Provider.saysUninstalled("The app was deleted by the operator")).isTrue();
    assertThat(Cafe24Provider.saysUninstalled("Insufficient scope")).isFalse();
    assertThat(Cafe24Provider.saysUninstalled("Request over HTTPS only")).isFalse();
  }

  // ---- many malls, one app ----------------------------------------------------------------

  @Test
  void twoMallsOfOneApp_haveSeparateEndpointsAndTokens() {
    TokenProvider mallB = fixture.provider("mall-b");
    TokenSet a = provider.refresh(fixture.connected("mall-a"));
    TokenSet b = mallB.refresh(fixture.connected("mall-b"));

    assertThat(a.extra("mall_id")).isEqualTo("mall-a");
    assertThat(b.extra("mall_id")).isEqualTo("mall-b");
    assertThat(cafe24.requests(cafe24.tokenPath("mall-a"))).hasSize(1);
    assertThat(cafe24.requests(cafe24.tokenPath("mall-b"))).hasSize(1);
    // mall-a's refresh token means nothing to mall-b
    TokenSet crossed = a.toBuilder().build();
    assertThat(
            catchThrowableOfType(TokenEndpointException.class, () -> mallB.refresh(crossed))
                .reason())
        .isEqualTo(Cafe24Provider.REFRESH_TOKEN_DEAD);
  }

  // ---- renewal and secrets ----------------------------------------------------------------

  @Test
  void renewalPolicy_renewsFiveMinutesEarly_andKeepsIdleMallsAliveWeekly() {
    TokenSet tokens = fixture.connected("mall-a");
    var policy = provider.renewalPolicy();
    assertThat(policy.renewBefore()).isEqualTo(Duration.ofMinutes(5));
    assertThat(policy.expirySkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(policy.keepAliveBefore()).isEqualTo(Duration.ofDays(7));
    assertThat(policy.renewAtMillis(tokens))
        .isEqualTo(START.plus(Duration.ofMinutes(115)).toEpochMilli());
    assertThat(policy.keepAliveAt(tokens)).isEqualTo(START.plus(Duration.ofDays(7)));
  }

  @Test
  void toStrings_neverShowTheSecret() {
    assertThat(provider.toString()).doesNotContain(SECRET).contains("mall-a");
    TokenSet tokens = provider.exchangeCode(approveCode(), null);
    assertThat(tokens.toString())
        .doesNotContain(tokens.accessToken())
        .doesNotContain(tokens.refreshToken());
  }

  // ---- helpers ----------------------------------------------------------------------------

  private String approveCode() {
    return HttpUrl.get(cafe24.approve(provider.authorizationUrl("st", null)))
        .queryParameter("code");
  }

  private TokenEndpointException exchangeFailure(String code) {
    return catchThrowableOfType(
        TokenEndpointException.class, () -> provider.exchangeCode(code, null));
  }

  private TokenEndpointException refreshFailure(TokenSet current) {
    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> provider.refresh(current));
    assertThat(e).as("refresh should have failed").isNotNull();
    assertThat(e.provider()).isEqualTo("cafe24");
    return e;
  }

  private Response products(String accessToken) {
    Request request =
        new Request.Builder()
            .url(cafe24.url(cafe24.productsPath("mall-a")))
            .header("Authorization", "Bearer " + accessToken)
            .build();
    try {
      return fixture.http.newCall(request).execute();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Object> with(Map<String, Object> settings, String key, Object value) {
    settings.put(key, value);
    return settings;
  }

  /** A token answer in Cafe24's shape; null leaves a timestamp out. */
  static String tokenBody(String expiresAt, String issuedAt, String refreshExpiresAt) {
    StringBuilder b = new StringBuilder("{\"access_token\":\"at-secret-value\"");
    if (expiresAt != null) {
      b.append(",\"expires_at\":\"").append(expiresAt).append('"');
    }
    b.append(",\"refresh_token\":\"rt-secret-value\"");
    if (refreshExpiresAt != null) {
      b.append(",\"refresh_token_expires_at\":\"").append(refreshExpiresAt).append('"');
    }
    b.append(",\"client_id\":\"").append(CLIENT_ID).append('"');
    b.append(",\"mall_id\":\"mall-a\",\"user_id\":\"admin\",\"scopes\":[\"mall.read_product\"]");
    if (issuedAt != null) {
      b.append(",\"issued_at\":\"").append(issuedAt).append('"');
    }
    return b.append(",\"shop_no\":\"1\"}").toString();
  }
}
