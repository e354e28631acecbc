package dev.tokenbroker.testkit.cafe24;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Cafe24EmulatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT_ID = "AbCdEfGhIjKlMnOpQrStUv";
  private static final String SECRET = "s3cr3t-client-secret";
  private static final String REDIRECT = "https://app.example.com/cafe24/callback/";
  private static final String BASIC = Credentials.basic(CLIENT_ID, SECRET, StandardCharsets.UTF_8);
  private static final Instant START = Instant.parse("2026-03-01T03:00:00Z"); // 12:00 in Seoul

  private final FakeClock clock = FakeClock.at(START);
  private final OkHttpClient http =
      new OkHttpClient.Builder().followRedirects(false).retryOnConnectionFailure(false).build();
  private Cafe24Emulator cafe24;

  @BeforeEach
  void startEmulator() {
    cafe24 =
        new Cafe24Emulator(clock)
            .registerApp(CLIENT_ID, SECRET, REDIRECT)
            .addMall("mall-a", "mall-b")
            .start();
  }

  @AfterEach
  void stopEmulator() {
    cafe24.close();
    http.connectionPool().evictAll();
  }

  // ---- authorize ----------------------------------------------------------------------------

  @Test
  void authorize_registeredApp_redirectsWithCodeAndState() {
    try (Response r = get(authorizeUrl("mall-a", REDIRECT, "mall.read_product,mall.read_order"))) {
      assertThat(r.code()).isEqualTo(302);
      HttpUrl location = HttpUrl.get(r.header("Location"));
      assertThat(location.toString()).startsWith(REDIRECT + "?code=");
      assertThat(location.queryParameter("state")).isEqualTo("st-1");
      assertThat(location.queryParameter("code")).hasSize(22);
    }
    assertThat(cafe24.authorizations()).isEqualTo(1);
  }

  @Test
  void authorize_redirectUriWithoutTrailingSlash_answersErrorPageWithoutRedirect() {
    String withoutSlash = REDIRECT.substring(0, REDIRECT.length() - 1);
    try (Response r = get(authorizeUrl("mall-a", withoutSlash, "mall.read_product"))) {
      assertThat(r.code()).isEqualTo(400);
      assertThat(r.header("Location")).isNull();
    }
    assertThat(cafe24.authorizations()).isZero();
  }

  @Test
  void authorize_spaceSeparatedScopes_redirectsWithInvalidScope() {
    try (Response r = get(authorizeUrl("mall-a", REDIRECT, "mall.read_product mall.read_order"))) {
      HttpUrl location = HttpUrl.get(r.header("Location"));
      assertThat(location.queryParameter("error")).isEqualTo("invalid_scope");
      assertThat(location.queryParameter("code")).isNull();
    }
  }

  @Test
  void authorize_denied_redirectsWithAccessDeniedAndState() {
    cafe24.denyAuthorizations(true);
    HttpUrl location =
        HttpUrl.get(cafe24.approve(authorizeUrl("mall-a", REDIRECT, "mall.read_product").uri()));
    assertThat(location.queryParameter("error")).isEqualTo("access_denied");
    assertThat(location.queryParameter("state")).isEqualTo("st-1");
  }

  @Test
  void approve_unknownClient_throwsWithTheAnswer() {
    HttpUrl url =
        authorizeUrl("mall-a", REDIRECT, "mall.read_product")
            .newBuilder()
            .setQueryParameter("client_id", "nobody")
            .build();
    assertThatThrownBy(() -> cafe24.approve(url.uri()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("400")
        .hasMessageContaining("Invalid client_id");
  }

  @Test
  void anyEndpoint_unknownMall_answers404() {
    try (Response r = get(authorizeUrl("mall-zz", REDIRECT, "mall.read_product"))) {
      assertThat(r.code()).isEqualTo(404);
    }
  }

  // ---- code exchange ----------------------------------------------------------------------

  @Test
  void exchange_freshCode_answersTheDocumentedShapeInSeoulTime() {
    JsonNode body = json(exchange("mall-a", approveCode("mall-a"), REDIRECT), 200);

    assertThat(body.get("access_token").asText()).hasSize(22);
    assertThat(body.get("refresh_token").asText()).hasSize(22);
    assertThat(body.has("expires_in")).isFalse();
    assertThat(body.get("issued_at").asText()).isEqualTo("2026-03-01T12:00:00.000");
    assertThat(body.get("expires_at").asText()).isEqualTo("2026-03-01T14:00:00.000");
    assertThat(body.get("refresh_token_expires_at").asText()).isEqualTo("2026-03-15T12:00:00.000");
    assertThat(body.get("mall_id").asText()).isEqualTo("mall-a");
    assertThat(body.get("client_id").asText()).isEqualTo(CLIENT_ID);
    assertThat(body.get("shop_no").isTextual()).isTrue();
    assertThat(body.get("scopes").get(0).asText()).isEqualTo("mall.read_product");
    assertThat(cafe24.codeExchanges()).isEqualTo(1);
  }

  @Test
  void exchange_utcSwitchAndFractionDigits_changeOnlyTheWriting() {
    cafe24.timestampZone(ZoneOffset.UTC).timestampFractionDigits(0);
    JsonNode utc = json(exchange("mall-a", approveCode("mall-a"), REDIRECT), 200);
    assertThat(utc.get("issued_at").asText()).isEqualTo("2026-03-01T03:00:00");
    assertThat(utc.get("expires_at").asText()).isEqualTo("2026-03-01T05:00:00");

    clock.advance(Duration.ofMillis(123));
    cafe24.timestampFractionDigits(9);
    JsonNode nine = json(exchange("mall-a", approveCode("mall-a"), REDIRECT), 200);
    assertThat(nine.get("issued_at").asText()).isEqualTo("2026-03-01T03:00:00.123000000");
  }

  @Test
  void exchange_sameCodeTwice_secondIsInvalidGrant() {
    String code = approveCode("mall-a");
    json(exchange("mall-a", code, REDIRECT), 200);

    JsonNode again = json(exchange("mall-a", code, REDIRECT), 400);
    assertThat(again.get("error").asText()).isEqualTo("invalid_grant");
    assertThat(again.get("error_description").asText()).isEqualTo("Invalid authorization_code");
    assertThat(cafe24.codeExchanges()).isEqualTo(1);
  }

  @Test
  void exchange_codeAt60Seconds_works() {
    String code = approveCode("mall-a");
    clock.advance(Duration.ofSeconds(60));
    json(exchange("mall-a", code, REDIRECT), 200);
  }

  @Test
  void exchange_codeAfter61Seconds_isExpired() {
    String code = approveCode("mall-a");
    clock.advance(Duration.ofSeconds(61));
    JsonNode late = json(exchange("mall-a", code, REDIRECT), 400);
    assertThat(late.get("error_description").asText()).isEqualTo("Expired authorization_code");
  }

  @Test
  void exchange_codeOfAnotherMall_isInvalid() {
    String code = approveCode("mall-a");
    json(exchange("mall-b", code, REDIRECT), 400);
  }

  @Test
  void exchange_redirectUriNotIdentical_isRejectedAndSpendsTheCode() {
    String code = approveCode("mall-a");
    JsonNode body =
        json(exchange("mall-a", code, REDIRECT.substring(0, REDIRECT.length() - 1)), 400);
    assertThat(body.get("error_description").asText()).isEqualTo("Invalid redirect_uri");
    json(exchange("mall-a", code, REDIRECT), 400);
  }

  @Test
  void token_wrongSecret_answers401InvalidClientSecret() {
    String wrong = Credentials.basic(CLIENT_ID, "not-the-secret", StandardCharsets.UTF_8);
    JsonNode body =
        json(
            post(
                cafe24.tokenPath("mall-a"),
                wrong,
                "grant_type",
                "refresh_token",
                "refresh_token",
                "x"),
            401);
    assertThat(body.get("error_description").asText()).isEqualTo("Invalid client_secret");
  }

  @Test
  void token_credentialsInTheBodyInsteadOfBasic_areRejected() {
    JsonNode body =
        json(
            post(
                cafe24.tokenPath("mall-a"),
                null,
                "grant_type",
                "authorization_code",
                "code",
                approveCode("mall-a"),
                "redirect_uri",
                REDIRECT,
                "client_id",
                CLIENT_ID,
                "client_secret",
                SECRET),
            401);
    assertThat(body.get("error").asText()).isEqualTo("invalid_client");
  }

  @Test
  void token_unknownClient_answers401InvalidClientId() {
    String other = Credentials.basic("someone-else", SECRET, StandardCharsets.UTF_8);
    JsonNode body =
        json(post(cafe24.tokenPath("mall-a"), other, "grant_type", "refresh_token"), 401);
    assertThat(body.get("error_description").asText()).isEqualTo("Invalid client_id");
  }

  @Test
  void token_jsonBody_isRejected() {
    Request request =
        new Request.Builder()
            .url(cafe24.url(cafe24.tokenPath("mall-a")))
            .header("Authorization", BASIC)
            .post(
                RequestBody.create(
                    "{\"grant_type\":\"refresh_token\"}", MediaType.get("application/json")))
            .build();
    json(call(request), 400);
  }

  // ---- refresh ----------------------------------------------------------------------------

  @Test
  void refresh_rotates_andTheOldRefreshTokenAnswers401AtOnce() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    JsonNode first = json(refresh("mall-a", issued.refreshToken()), 200);
    assertThat(first.get("refresh_token").asText()).isNotEqualTo(issued.refreshToken());

    JsonNode stale = json(refresh("mall-a", issued.refreshToken()), 401);
    assertThat(stale.get("error").asText()).isEqualTo("invalid_grant");
    assertThat(stale.get("error_description").asText()).isEqualTo("Invalid refresh_token");

    json(refresh("mall-a", first.get("refresh_token").asText()), 200);
    assertThat(cafe24.refreshes()).isEqualTo(2);
    assertThat(cafe24.invalidRefreshAnswers()).isEqualTo(1);
    assertThat(cafe24.tokenRequests()).isEqualTo(3);
  }

  @Test
  void refresh_invalidRefreshTokenAnswerSwitch_changesStatusAndCode() {
    cafe24.invalidRefreshTokenAnswer(400, "invalid_request");
    JsonNode body = json(refresh("mall-a", "no-such-token"), 400);
    assertThat(body.get("error").asText()).isEqualTo("invalid_request");
    assertThat(body.get("error_description").asText()).isEqualTo("Invalid refresh_token");
  }

  @Test
  void refresh_restartsThe14DayWindow_andAnIdleTokenDiesAfterIt() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    clock.advance(Duration.ofDays(13));
    String next = json(refresh("mall-a", issued.refreshToken()), 200).get("refresh_token").asText();
    clock.advance(Duration.ofDays(13));
    String last = json(refresh("mall-a", next), 200).get("refresh_token").asText();

    clock.advance(Duration.ofDays(14));
    json(refresh("mall-a", last), 401);
  }

  @Test
  void refresh_oldAccessTokenDiesByDefault_andSurvivesWithTheSwitch() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    JsonNode rotated = json(refresh("mall-a", issued.refreshToken()), 200);
    assertThat(cafe24.isAccessTokenValid(issued.accessToken())).isFalse();
    assertThat(cafe24.isAccessTokenValid(rotated.get("access_token").asText())).isTrue();

    cafe24.keepOldAccessTokenOnRefresh(true);
    String keptAccess = rotated.get("access_token").asText();
    json(refresh("mall-a", rotated.get("refresh_token").asText()), 200);
    assertThat(cafe24.isAccessTokenValid(keptAccess)).isTrue();
  }

  @Test
  void refresh_tokenOfAnotherMall_isInvalid() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    json(refresh("mall-b", issued.refreshToken()), 401);
    assertThat(cafe24.isRefreshTokenValid(issued.refreshToken())).isTrue();
  }

  @Test
  void refresh_lostAnswerAfterProcessing_hasRotatedAnyway() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    cafe24.inject(cafe24.tokenPath("mall-a"), Fault.dropAfterProcessing());
    assertThatThrownBy(() -> refresh("mall-a", issued.refreshToken()).close())
        .isInstanceOf(UncheckedIOException.class);

    assertThat(cafe24.refreshes()).isEqualTo(1);
    assertThat(cafe24.isRefreshTokenValid(issued.refreshToken())).isFalse();
  }

  @Test
  void refresh_manyConcurrentRefreshesOfOneToken_exactlyOneWins() throws Exception {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        Callable<Integer> task =
            () -> {
              try (Response r = refresh("mall-a", issued.refreshToken())) {
                return r.code();
              }
            };
        answers.add(pool.submit(task));
      }
      int ok = 0;
      for (Future<Integer> f : answers) {
        ok += f.get() == 200 ? 1 : 0;
      }
      assertThat(ok).isEqualTo(1);
      assertThat(cafe24.invalidRefreshAnswers()).isEqualTo(15);
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- revoke -----------------------------------------------------------------------------

  @Test
  void revoke_accessToken_killsAccessAndRefreshToken() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    try (Response r =
        post(
            cafe24.revokePath("mall-a"),
            BASIC,
            "token",
            issued.accessToken(),
            "token_hint",
            "access_token")) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(cafe24.revocations()).isEqualTo(1);
    assertThat(cafe24.isAccessTokenValid(issued.accessToken())).isFalse();
    json(refresh("mall-a", issued.refreshToken()), 401);
  }

  @Test
  void revoke_refreshToken_killsTheGrantToo() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    post(cafe24.revokePath("mall-a"), BASIC, "token", issued.refreshToken()).close();
    assertThat(cafe24.isAccessTokenValid(issued.accessToken())).isFalse();
    assertThat(cafe24.isRefreshTokenValid(issued.refreshToken())).isFalse();
  }

  @Test
  void revoke_withoutBasic_isRejectedAndKillsNothing() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    json(post(cafe24.revokePath("mall-a"), null, "token", issued.accessToken()), 401);
    assertThat(cafe24.isAccessTokenValid(issued.accessToken())).isTrue();
  }

  // ---- Admin API --------------------------------------------------------------------------

  @Test
  void products_liveBearer_answers200() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    JsonNode body = json(api("mall-a", issued.accessToken()), 200);
    assertThat(body.get("products").isArray()).isTrue();
    assertThat(cafe24.apiCalls()).isEqualTo(1);
  }

  @Test
  void products_missingExpiredOrForeignToken_answers401() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    assertThat(json(api("mall-a", null), 401).at("/error/code").asText()).isEqualTo("401");
    json(api("mall-b", issued.accessToken()), 401);
    clock.advance(Duration.ofHours(2));
    json(api("mall-a", issued.accessToken()), 401);
  }

  @Test
  void products_afterUninstall_answers403UntilTheNextApproval() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    cafe24.uninstall("mall-a");
    JsonNode body = json(api("mall-a", issued.accessToken()), 403);
    assertThat(body.at("/error/message").asText()).contains("uninstalled");

    String code = approveCode("mall-a");
    String access = json(exchange("mall-a", code, REDIRECT), 200).get("access_token").asText();
    json(api("mall-a", access), 200);
  }

  @Test
  void products_scopeNotGranted_answers403InsufficientScope() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a", CLIENT_ID, List.of("mall.read_order"));
    JsonNode body = json(api("mall-a", issued.accessToken()), 403);
    assertThat(body.at("/error/message").asText()).contains("scope");
  }

  @Test
  void issued_toString_hidesTokens() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall-a");
    assertThat(issued.toString())
        .doesNotContain(issued.accessToken())
        .doesNotContain(issued.refreshToken())
        .contains("mall-a");
    assertThat(issued.expiresAt()).isEqualTo(START.plus(Duration.ofHours(2)));
    assertThat(issued.refreshExpiresAt()).isEqualTo(START.plus(Duration.ofDays(14)));
    assertThat(LocalDateTime.ofInstant(issued.issuedAt(), ZoneOffset.UTC).getHour()).isEqualTo(3);
  }

  // ---- helpers ----------------------------------------------------------------------------

  private HttpUrl authorizeUrl(String mall, String redirectUri, String scope) {
    return cafe24
        .url(cafe24.authorizePath(mall))
        .newBuilder()
        .addQueryParameter("response_type", "code")
        .addQueryParameter("client_id", CLIENT_ID)
        .addQueryParameter("state", "st-1")
        .addQueryParameter("redirect_uri", redirectUri)
        .addQueryParameter("scope", scope)
        .build();
  }

  private String approveCode(String mall) {
    URI url = authorizeUrl(mall, REDIRECT, "mall.read_product").uri();
    return HttpUrl.get(cafe24.approve(url)).queryParameter("code");
  }

  private Response exchange(String mall, String code, String redirectUri) {
    return post(
        cafe24.tokenPath(mall),
        BASIC,
        "grant_type",
        "authorization_code",
        "code",
        code,
        "redirect_uri",
        redirectUri);
  }

  private Response refresh(String mall, String refreshToken) {
    return post(
        cafe24.tokenPath(mall),
        BASIC,
        "grant_type",
        "refresh_token",
        "refresh_token",
        refreshToken);
  }

  private Response api(String mall, String accessToken) {
    Request.Builder b = new Request.Builder().url(cafe24.url(cafe24.productsPath(mall)));
    if (accessToken != null) {
      b.header("Authorization", "Bearer " + accessToken);
    }
    return call(b.build());
  }

  private Response get(HttpUrl url) {
    return call(new Request.Builder().url(url).build());
  }

  private Response post(String path, String basic, String... fields) {
    FormBody.Builder form = new FormBody.Builder();
    for (int i = 0; i < fields.length; i += 2) {
      form.add(fields[i], fields[i + 1]);
    }
    Request.Builder b = new Request.Builder().url(cafe24.url(path)).post(form.build());
    if (basic != null) {
      b.header("Authorization", basic);
    }
    return call(b.build());
  }

  private Response call(Request request) {
    try {
      return http.newCall(request).execute();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode json(Response response, int expectedStatus) {
    try (response) {
      String body = response.body().string();
      assertThat(response.code()).as(body).isEqualTo(expectedStatus);
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
