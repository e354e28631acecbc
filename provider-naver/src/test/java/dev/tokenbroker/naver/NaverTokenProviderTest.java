package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator.SameTokenExpiresIn;
import dev.tokenbroker.testkit.naver.NaverEmulator.TimestampRejection;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class NaverTokenProviderTest {
  private static final String CLIENT = "myClient";
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  private static final String SALT_PART = "abcdefghijklmnopqrstuv";
  private static final String TOKEN = NaverEmulator.TOKEN_PATH;

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private NaverEmulator naver;

  @BeforeEach
  void start() {
    naver = new NaverEmulator(clock).registerApplication(CLIENT, SECRET).start();
  }

  @AfterEach
  void stop() {
    naver.close();
  }

  private TokenProvider provider(Object... extra) {
    Map<String, Object> m = new HashMap<>();
    m.put("client-id", CLIENT);
    m.put("client-secret", SECRET);
    m.put("base-url", naver.baseUrl());
    for (int i = 0; i < extra.length; i += 2) {
      m.put((String) extra[i], extra[i + 1]);
    }
    ConnectionId id = ConnectionId.of("naver", "self");
    return new NaverProviderFactory()
        .create(new Settings(id, m), new ProviderContext(id, clock, http, new SecureRandom()));
  }

  private static TokenEndpointException failure(TokenProvider p, @Nullable TokenSet current) {
    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> p.obtain(current));
    assertThat(e).as("obtain should fail").isNotNull();
    assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain(SALT_PART);
    assertThat(String.valueOf(e.body())).doesNotContain(SALT_PART);
    return e;
  }

  private static long timestamp(RecordedRequest r) {
    return Long.parseLong(EmulatorServer.form(r).get("timestamp"));
  }

  // ---- the request we send ---------------------------------------------------------------------

  @Test
  void obtain_sendsASignedFormBody_withEveryFieldAndNoSecret() {
    provider().obtain(null);

    RecordedRequest r = naver.lastRequest(TOKEN);
    assertThat(r.getMethod()).isEqualTo("POST");
    assertThat(r.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(r.getHeader("Authorization")).isNull();
    assertThat(r.getRequestUrl().query()).isNull();
    Map<String, String> form = EmulatorServer.form(r);
    assertThat(form)
        .containsOnlyKeys("client_id", "timestamp", "grant_type", "client_secret_sign", "type");
    assertThat(form).containsEntry("client_id", CLIENT);
    assertThat(form).containsEntry("grant_type", "client_credentials");
    assertThat(form).containsEntry("type", "SELF");
    long expectedTimestamp = clock.millis() - 3000; // back-dated by the default margin
    assertThat(form).containsEntry("timestamp", Long.toString(expectedTimestamp));
    assertThat(form)
        .containsEntry(
            "client_secret_sign", NaverSignature.sign(CLIENT, expectedTimestamp, SECRET));
    for (String field : List.of("client_id", "timestamp", "grant_type", "client_secret_sign")) {
      assertThat(EmulatorServer.formFieldCount(r, field)).as(field).isEqualTo(1);
    }
    String body = r.getBody().clone().readUtf8();
    assertThat(body).doesNotContain(SALT_PART).doesNotContain("client_secret=");
  }

  @Test
  void obtain_forASeller_sendsTypeSellerAndAccountId() {
    naver.linkSeller(CLIENT, "ncp_seller_1");

    TokenSet set = provider("type", "SELLER", "account-id", "ncp_seller_1").obtain(null);

    Map<String, String> form = EmulatorServer.form(naver.lastRequest(TOKEN));
    assertThat(form).containsEntry("type", "SELLER").containsEntry("account_id", "ncp_seller_1");
    assertThat(set.extras())
        .containsEntry("type", "SELLER")
        .containsEntry("account_id", "ncp_seller_1");
    assertThat(set.accessToken()).isEqualTo(naver.currentToken(CLIENT, "SELLER", "ncp_seller_1"));
  }

  @Test
  void timestampMargin_isConfigurable() {
    provider("timestamp-margin", "250ms").obtain(null);

    assertThat(timestamp(naver.lastRequest(TOKEN))).isEqualTo(clock.millis() - 250);
  }

  // ---- the token we return ---------------------------------------------------------------------

  @Test
  void obtain_returnsAThreeHourBearerTokenWithoutRefreshToken() {
    Instant now = clock.instant();

    TokenSet set = provider().obtain(null);

    assertThat(set.accessToken()).isEqualTo(naver.currentToken(CLIENT, "SELF", null));
    assertThat(set.tokenType()).isEqualTo("Bearer");
    assertThat(set.issuedAt()).isEqualTo(now);
    assertThat(set.expiresAt()).isEqualTo(now.plus(Duration.ofHours(3)));
    assertThat(set.refreshToken()).isNull();
    assertThat(set.extras()).containsEntry("type", "SELF").doesNotContainKey("account_id");
    assertThat(set.version()).isZero();
    assertThat(set.toString()).doesNotContain(set.accessToken());
  }

  @ParameterizedTest
  @EnumSource(SameTokenExpiresIn.class)
  void sameTokenWithinTheWindow_keepsTheEarlierExpiry(SameTokenExpiresIn mode) {
    naver.sameTokenExpiresIn(mode);
    TokenProvider p = provider();
    Instant t0 = clock.instant();
    TokenSet first = p.obtain(null);
    clock.advance(Duration.ofHours(1));

    TokenSet again = p.obtain(first);

    assertThat(again.accessToken()).isEqualTo(first.accessToken());
    assertThat(again.expiresAt()).isEqualTo(t0.plus(Duration.ofHours(3)));
    assertThat(again.issuedAt()).isEqualTo(t0);
    assertThat(naver.issuedTokens()).isEqualTo(1);
  }

  @Test
  void sameTokenWithoutACurrentSet_trustsExpiresIn_whenItIsTheRemainingTime() {
    naver.sameTokenExpiresIn(SameTokenExpiresIn.REMAINING_TIME);
    Instant t0 = clock.instant();
    provider().obtain(null);
    clock.advance(Duration.ofHours(1));

    // A restarted process knows nothing of the first answer.
    TokenSet set = provider().obtain(null);

    assertThat(set.expiresAt()).isEqualTo(t0.plus(Duration.ofHours(3)));
  }

  @Test
  void sameTokenWithAnExpiryWeRecordedTooEarly_isKeptForAtLeastThirtyMinutes() {
    TokenProvider p = provider();
    TokenSet first = p.obtain(null);
    clock.advance(Duration.ofHours(1));
    // Our record says 5 minutes left while Naver, which hands the same token back, says >= 30.
    TokenSet wrong =
        first.toBuilder()
            .issuedAt(clock.instant().minus(Duration.ofHours(1)))
            .expiresAt(clock.instant().plus(Duration.ofMinutes(5)))
            .build();

    TokenSet again = p.obtain(wrong);

    assertThat(again.accessToken()).isEqualTo(first.accessToken());
    assertThat(again.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(30)));
  }

  @Test
  void insideTheLastThirtyMinutes_aNewTokenComesWithAFreshExpiry() {
    TokenProvider p = provider();
    TokenSet first = p.obtain(null);
    clock.advance(Duration.ofHours(2).plusMinutes(35));

    TokenSet next = p.obtain(first);

    assertThat(next.accessToken()).isNotEqualTo(first.accessToken());
    assertThat(next.issuedAt()).isEqualTo(clock.instant());
    assertThat(next.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(3)));
    assertThat(naver.isValid(first.accessToken())).as("old token still works").isTrue();
  }

  // ---- the renewal rule at its boundaries ------------------------------------------------------

  @Test
  void renewalPolicy_defaultRenewsTwentyFiveMinutesBeforeExpiry_oneTickBeforeIsStillFresh() {
    TokenProvider p = provider();
    TokenSet set = p.obtain(null);
    RenewalPolicy policy = p.renewalPolicy();
    long renewAt = policy.renewAtMillis(set);

    assertThat(renewAt).isEqualTo(set.expiresAt().minus(Duration.ofMinutes(25)).toEpochMilli());
    assertThat(policy.expiredAtMillis(set))
        .isEqualTo(set.expiresAt().minus(Duration.ofSeconds(30)).toEpochMilli());

    // At the renewal point Naver already has under 30 minutes left: the renewal is not wasted.
    clock.set(Instant.ofEpochMilli(renewAt));
    assertThat(p.obtain(set).accessToken()).isNotEqualTo(set.accessToken());
  }

  @Test
  void thirtyMinuteRule_renewingExactlyAtThirtyMinutesGetsTheSameToken_oneTickLaterANewOne() {
    TokenProvider p = provider("renew-before", "30m");
    TokenSet set = p.obtain(null);
    long renewAt = p.renewalPolicy().renewAtMillis(set);
    assertThat(renewAt).isEqualTo(set.expiresAt().minus(Duration.ofMinutes(30)).toEpochMilli());

    clock.set(Instant.ofEpochMilli(renewAt));
    TokenSet same = p.obtain(set);
    assertThat(same.accessToken()).isEqualTo(set.accessToken());
    assertThat(same.expiresAt()).isEqualTo(set.expiresAt());

    clock.advance(Duration.ofMillis(1));
    TokenSet next = p.obtain(same);
    assertThat(next.accessToken()).isNotEqualTo(set.accessToken());
    assertThat(naver.issuedTokens()).isEqualTo(2);
  }

  // ---- clocks ----------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(TimestampRejection.class)
  void serverClockSixMinutesAhead_isCorrectedOnceFromTheDateHeader(TimestampRejection shape) {
    naver.serverClockSkew(Duration.ofMinutes(6)).timestampRejection(shape);
    TokenProvider p = provider();

    TokenSet set = p.obtain(null);

    List<RecordedRequest> sent = naver.requests(TOKEN);
    assertThat(sent).hasSize(2);
    assertThat(timestamp(sent.get(0))).isEqualTo(clock.millis() - 3000);
    assertThat(timestamp(sent.get(1)))
        .isEqualTo(clock.millis() - 3000 + Duration.ofMinutes(6).toMillis());
    assertThat(naver.timestampRejections()).isEqualTo(1);
    assertThat(set.accessToken()).isEqualTo(naver.currentToken(CLIENT, "SELF", null));

    // The offset is kept: the next request is right the first time.
    clock.advance(Duration.ofHours(2).plusMinutes(40));
    p.obtain(set);
    assertThat(naver.requests(TOKEN)).hasSize(3);
    assertThat(naver.timestampRejections()).isEqualTo(1);
  }

  @Test
  void serverClockBehind_rejectingFutureTimestamps_isCorrectedToo() {
    naver.serverClockSkew(Duration.ofMinutes(-6));

    provider().obtain(null);

    List<RecordedRequest> sent = naver.requests(TOKEN);
    assertThat(sent).hasSize(2);
    assertThat(timestamp(sent.get(1)))
        .isEqualTo(clock.millis() - 3000 - Duration.ofMinutes(6).toMillis());
  }

  @Test
  void serverClockBehind_acceptingFutureTimestamps_needsNoCorrection() {
    naver.serverClockSkew(Duration.ofMinutes(-4)).rejectFutureTimestamps(false);

    provider().obtain(null);

    assertThat(naver.requests(TOKEN)).hasSize(1);
  }

  @Test
  void timestampRejectionWithoutDateHeader_fallsBackToTheBodyTimestamp() {
    naver.serverClockSkew(Duration.ofMinutes(6));
    String serverTime =
        OffsetDateTime.ofInstant(naver.serverTime(), ZoneOffset.ofHours(9)).toString();
    // Injected faults carry no Date header.
    naver.inject(
        TOKEN,
        Fault.json(
            400,
            "{\"code\":\"BadRequest\",\"message\":\"invalid\",\"timestamp\":\""
                + serverTime
                + "\",\"invalidInputs\":[{\"name\":\"timestamp\",\"type\":\"Range\","
                + "\"message\":\"expired\"}]}"));

    provider().obtain(null);

    assertThat(timestamp(naver.lastRequest(TOKEN)))
        .isEqualTo(clock.millis() - 3000 + Duration.ofMinutes(6).toMillis());
  }

  @Test
  void timestampRejectionWithNoServerTimeAtAll_isTransient_withoutARetry() {
    naver.inject(
        TOKEN,
        Fault.json(400, "{\"code\":\"InvalidTimestamp\",\"message\":\"Request has expired\"}"));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("no usable Date header", "clock");
    assertThat(e.platformCode()).isEqualTo("InvalidTimestamp");
    assertThat(naver.requests(TOKEN)).hasSize(1);
  }

  @Test
  void timestampRejectedAgainAfterCorrection_isTransient_afterExactlyTwoRequests() {
    String rejection =
        "{\"code\":\"Forbidden\",\"message\":\"timestamp expired\",\"timestamp\":\""
            + OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)
            + "\"}";
    naver.inject(TOKEN, Fault.json(403, rejection));
    naver.inject(TOKEN, Fault.json(403, rejection));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("again");
    assertThat(naver.requests(TOKEN)).hasSize(2);
  }

  // ---- failures --------------------------------------------------------------------------------

  @Test
  void ipNotAllowed_isPermanent_withAReasonTellingTheOperatorToRegisterTheIp() {
    naver.ipAllowed(false);

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.retryable()).isFalse();
    assertThat(e.httpStatus()).isEqualTo(403);
    assertThat(e.platformCode()).isEqualTo("GW.IP_NOT_ALLOWED");
    assertThat(e.reason()).contains("register", "IP address", "Naver Commerce API center");
    assertThat(naver.requests(TOKEN)).hasSize(1);
  }

  @Test
  void wrongSecret_isPermanent_sayingTheSecretIsWrong() {
    naver.registerApplication(CLIENT, "$2a$04$zyxwvutsrqponmlkjihgfe"); // reissued in the console

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).contains("signature rejected", "client-secret");
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(naver.badSignatures()).isEqualTo(1);
    assertThat(naver.requests(TOKEN)).as("no retry").hasSize(1);
  }

  @Test
  void invalidInputs_arePermanent_listingFieldNamesNotValues() {
    TokenEndpointException e = failure(provider("client-id", "unknownClient"), null);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).isEqualTo("request rejected; invalid fields [client_id]");
    assertThat(e.platformCode()).isEqualTo("BadRequest");
    assertThat(e.errorDescription()).isNotBlank();
    assertThat(e.getMessage()).doesNotContain("unknownClient");
  }

  @Test
  void sellerNotLinked_isPermanentAccessDenied() {
    TokenEndpointException e = failure(provider("type", "SELLER", "account-id", "stranger"), null);

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.httpStatus()).isEqualTo(403);
    assertThat(e.reason()).contains("access denied", "account-id");
  }

  @ParameterizedTest
  @CsvSource({
    "429, GW.RATE_LIMIT",
    "429, GW.QUOTA_LIMIT",
    "503, GW.BLOCK.01",
    "503, GW.BLOCK.02",
    "504, GW.TIMEOUT.01",
    "500, GW.PROXY.01",
    "500, GW.INTERNAL_SERVER_ERROR"
  })
  void gatewayTroubles_areTransient(int status, String code) {
    naver.inject(TOKEN, naver.gatewayError(status, code));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.platformCode()).isEqualTo(code);
    assertThat(e.httpStatus()).isEqualTo(status);
    assertThat(naver.requests(TOKEN)).hasSize(1);
  }

  @Test
  void rateLimit_keepsRetryAfter() {
    naver.inject(TOKEN, Fault.rateLimited(7));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void htmlErrorPage_isTransient() {
    naver.inject(TOKEN, Fault.html(502));

    assertThat(failure(provider(), null).kind()).isEqualTo(Kind.TRANSIENT);
  }

  @Test
  void lostAnswer_isTransient_becauseNothingRotates() {
    naver.inject(TOKEN, Fault.dropAfterProcessing());

    assertThat(failure(provider(), null).kind()).isEqualTo(Kind.TRANSIENT);
  }

  @Test
  void successWithoutAccessToken_isTransientMalformed() {
    naver.inject(TOKEN, Fault.json(200, "{\"expires_in\":10800,\"token_type\":\"Bearer\"}"));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("access_token");
  }

  @Test
  void absurdLifetime_isTransientMalformed() {
    naver.inject(
        TOKEN, Fault.json(200, "{\"access_token\":\"tok-123456\",\"expires_in\":999999999}"));

    TokenEndpointException e = failure(provider(), null);

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("expires_in");
    assertThat(e.getMessage()).doesNotContain("tok-123456");
    assertThat(String.valueOf(e.body())).doesNotContain("tok-123456");
  }

  // ---- API responses ---------------------------------------------------------------------------

  private Response api(@Nullable String token) throws IOException {
    Request.Builder b = new Request.Builder().url(naver.url(NaverEmulator.ACCOUNT_PATH));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.newCall(b.build()).execute();
  }

  @Test
  void classifyApiResponse_gatewayAuthn_isARejectedToken() throws IOException {
    try (Response r = api("expired-or-unknown")) {
      assertThat(r.code()).isEqualTo(401);
      assertThat(provider().classifyApiResponse(r).kind())
          .isEqualTo(ApiVerdict.Kind.TOKEN_REJECTED);
    }
  }

  @Test
  void classifyApiResponse_ipNotAllowed_isADeadConnection_withTheOperatorHint() throws IOException {
    TokenSet set = provider().obtain(null);
    naver.ipAllowed(false);

    try (Response r = api(set.accessToken())) {
      ApiVerdict v = provider().classifyApiResponse(r);

      assertThat(v.kind()).isEqualTo(ApiVerdict.Kind.CONNECTION_DEAD);
      assertThat(v.code()).isEqualTo("GW.IP_NOT_ALLOWED");
      assertThat(v.reason()).contains("register", "IP address");
      // The body was peeked, not consumed: the caller still gets it.
      assertThat(r.body().string()).contains("GW.IP_NOT_ALLOWED");
    }
  }

  @Test
  void classifyApiResponse_otherErrors_areLeftToTheCaller() throws IOException {
    naver.inject(
        NaverEmulator.ACCOUNT_PATH,
        Fault.json(403, "{\"code\":\"Forbidden\",\"message\":\"no permission\"}"));
    naver.inject(NaverEmulator.ACCOUNT_PATH, naver.gatewayError(429, "GW.RATE_LIMIT"));
    naver.inject(NaverEmulator.ACCOUNT_PATH, Fault.html(403));
    TokenProvider p = provider();

    for (int i = 0; i < 3; i++) {
      try (Response r = api(null)) {
        assertThat(p.classifyApiResponse(r).kind()).isEqualTo(ApiVerdict.Kind.OK);
      }
    }
  }
}
