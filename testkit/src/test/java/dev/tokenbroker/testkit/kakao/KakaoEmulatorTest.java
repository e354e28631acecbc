package dev.tokenbroker.testkit.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.FakeClock;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
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

class KakaoEmulatorTest {
  private static final String KEY = "0123456789abcdef0123456789abcdef";
  private static final long APP_ID = 987_654;
  private static final String REDIRECT = "http://127.0.0.1:9/callback";
  private static final String VERIFIER = "verifier-0123456789-0123456789-0123456789-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient.Builder().followRedirects(false).build();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao = new KakaoEmulator(clock).registerApp(KEY, APP_ID, REDIRECT).start();
  }

  @AfterEach
  void stop() {
    kakao.close();
  }

  @Test
  void authorize_approves_redirectsWithCodeAndState() {
    HttpUrl redirected = HttpUrl.get(kakao.followAuthorization(authorizeUrl("st-1", null, "a,b")));

    assertThat(redirected.toString()).startsWith(REDIRECT + "?");
    assertThat(redirected.queryParameter("code")).isNotBlank();
    assertThat(redirected.queryParameter("state")).isEqualTo("st-1");
    assertThat(kakao.consentedScopes(KEY, KakaoEmulator.DEFAULT_USER_ID)).containsExactly("a", "b");
  }

  @Test
  void authorize_denied_redirectsWithAccessDenied() {
    kakao.denyAuthorization(true);

    HttpUrl redirected = HttpUrl.get(kakao.followAuthorization(authorizeUrl("st-1", null, null)));

    assertThat(redirected.queryParameter("error")).isEqualTo("access_denied");
    assertThat(redirected.queryParameter("state")).isEqualTo("st-1");
    assertThat(redirected.queryParameter("code")).isNull();
  }

  @Test
  void authorize_unknownClientOrRedirect_showsErrorPageInsteadOfRedirecting() {
    URI unknownClient =
        URI.create(
            authorizeUrl("s", null, null).toString().replace("client_id=" + KEY, "client_id=x"));
    URI unknownRedirect =
        URI.create(authorizeUrl("s", null, null).toString().replace("callback", "elsewhere"));

    assertThatThrownBy(() -> kakao.followAuthorization(unknownClient))
        .hasMessageContaining("KOE101");
    assertThatThrownBy(() -> kakao.followAuthorization(unknownRedirect))
        .hasMessageContaining("KOE006");
  }

  @Test
  void authorize_withoutScope_grantsDefaultScopesMinusDeclined() {
    kakao.defaultScopes("profile_nickname", "account_email").declineScopes("account_email");

    code(null);

    assertThat(kakao.consentedScopes(KEY, KakaoEmulator.DEFAULT_USER_ID))
        .containsExactly("profile_nickname");
  }

  @Test
  void exchange_issuesTokens_andTheCodeIsSingleUse() throws IOException {
    String code = code(null);

    JsonNode first = post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null));
    JsonNode second = post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null));

    assertThat(first.get("token_type").asText()).isEqualTo("bearer");
    assertThat(first.get("access_token").asText()).isNotBlank();
    assertThat(first.get("expires_in").asLong()).isEqualTo(21_599);
    assertThat(first.get("refresh_token").asText()).isNotBlank();
    assertThat(first.get("refresh_token_expires_in").asLong()).isEqualTo(5_183_999);
    assertThat(first.get("scope").asText()).isEqualTo("profile_nickname");
    assertThat(first.has("id_token")).isFalse();
    assertThat(second.get("error_code").asText()).isEqualTo("KOE320");
    assertThat(second.get("error").asText()).isEqualTo("invalid_grant");
    assertThat(kakao.codeExchanges()).isEqualTo(1);
    assertThat(kakao.tokenRequests()).isEqualTo(2);
  }

  @Test
  void exchange_afterCodeLifetime_failsWithKoe320() throws IOException {
    kakao.codeLifetime(Duration.ofMinutes(1));
    String code = code(null);
    clock.advance(Duration.ofMinutes(1));

    assertThat(post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null)).get("error_code").asText())
        .isEqualTo("KOE320");
  }

  @Test
  void exchange_justBeforeCodeLifetime_succeeds() throws IOException {
    kakao.codeLifetime(Duration.ofMinutes(1));
    String code = code(null);
    clock.advance(Duration.ofMinutes(1).minusMillis(1));

    assertThat(post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null)).has("access_token"))
        .isTrue();
  }

  @Test
  void exchange_withAnotherRedirectUri_failsWithKoe303() throws IOException {
    String code = code(null);
    Map<String, String> form = exchangeForm(code, null);
    form.put("redirect_uri", REDIRECT + "/");

    assertThat(post(KakaoEmulator.TOKEN_PATH, form).get("error_code").asText()).isEqualTo("KOE303");
  }

  @Test
  void exchange_withPkce_needsTheMatchingVerifier() throws IOException {
    String missing = code(challenge(VERIFIER));
    String wrong = code(challenge(VERIFIER));
    String right = code(challenge(VERIFIER));

    JsonNode noVerifier = post(KakaoEmulator.TOKEN_PATH, exchangeForm(missing, null));
    JsonNode badVerifier = post(KakaoEmulator.TOKEN_PATH, exchangeForm(wrong, VERIFIER + "x"));
    JsonNode good = post(KakaoEmulator.TOKEN_PATH, exchangeForm(right, VERIFIER));

    assertThat(noVerifier.get("error").asText()).isEqualTo("invalid_grant");
    assertThat(badVerifier.get("error").asText()).isEqualTo("invalid_grant");
    assertThat(good.has("access_token")).isTrue();
  }

  @Test
  void authorize_withPlainChallengeMethod_redirectsWithInvalidRequest() {
    URI url =
        URI.create(
            authorizeUrl("s", challenge(VERIFIER), null)
                .toString()
                .replace("code_challenge_method=S256", "code_challenge_method=plain"));

    assertThat(HttpUrl.get(kakao.followAuthorization(url)).queryParameter("error"))
        .isEqualTo("invalid_request");
  }

  @Test
  void tokenRequests_needTheClientSecretInTheBody_whenTheAppHasOne() throws IOException {
    kakao.clientSecret(KEY, "s3cret-value");
    String code = code(null);
    Map<String, String> withSecret = exchangeForm(code, null);
    withSecret.put("client_secret", "s3cret-value");

    JsonNode without = post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null));
    JsonNode with = post(KakaoEmulator.TOKEN_PATH, withSecret);

    assertThat(without.get("error").asText()).isEqualTo("invalid_client");
    assertThat(without.get("error_code").asText()).isEqualTo("KOE010");
    assertThat(with.has("access_token")).as("a rejected client does not spend the code").isTrue();
  }

  @Test
  void tokenRequests_fromAnUnknownClient_failWithKoe101() throws IOException {
    Map<String, String> form = exchangeForm("c", null);
    form.put("client_id", "nobody");

    assertThat(post(KakaoEmulator.TOKEN_PATH, form).get("error_code").asText()).isEqualTo("KOE101");
  }

  @Test
  void tokenRequests_mustBeFormPosts() throws IOException {
    Request json =
        new Request.Builder()
            .url(kakao.url(KakaoEmulator.TOKEN_PATH))
            .post(RequestBody.create("{}", MediaType.get("application/json")))
            .build();
    Request get = new Request.Builder().url(kakao.url(KakaoEmulator.TOKEN_PATH)).build();

    assertThat(call(json).get("error").asText()).isEqualTo("invalid_request");
    assertThat(call(get).get("error").asText()).isEqualTo("invalid_request");
  }

  @Test
  void refresh_earlierThanTheLastMonth_omitsTheRefreshToken_andTheOldOneKeepsWorking()
      throws IOException {
    JsonNode tokens = exchange();
    String refreshToken = tokens.get("refresh_token").asText();
    clock.advance(Duration.ofDays(29));

    JsonNode first = post(KakaoEmulator.TOKEN_PATH, refreshForm(refreshToken));
    JsonNode second = post(KakaoEmulator.TOKEN_PATH, refreshForm(refreshToken));

    assertThat(first.get("access_token").asText())
        .isNotEqualTo(tokens.get("access_token").asText());
    assertThat(first.get("expires_in").asLong()).isEqualTo(21_599);
    assertThat(first.has("refresh_token")).isFalse();
    assertThat(first.has("refresh_token_expires_in")).isFalse();
    assertThat(second.has("access_token")).isTrue();
    assertThat(kakao.rotations()).isZero();
    assertThat(kakao.refreshes()).isEqualTo(2);
  }

  @Test
  void refresh_insideTheLastMonth_rotates_andTheOldRefreshTokenDiesWithKoe322() throws IOException {
    JsonNode tokens = exchange();
    String old = tokens.get("refresh_token").asText();
    // 5 183 999 s is 60 days minus 1 s: after 30 days and 1 s, less than 30 days remain.
    clock.advance(Duration.ofDays(30));

    JsonNode rotated = post(KakaoEmulator.TOKEN_PATH, refreshForm(old));
    JsonNode again = post(KakaoEmulator.TOKEN_PATH, refreshForm(old));

    assertThat(rotated.get("refresh_token").asText()).isNotEqualTo(old);
    assertThat(rotated.get("refresh_token_expires_in").asLong()).isEqualTo(5_183_999);
    assertThat(again.get("error_code").asText()).isEqualTo("KOE322");
    assertThat(kakao.refreshTokenExpiresAt(old)).isNull();
    assertThat(kakao.refreshTokenExpiresAt(rotated.get("refresh_token").asText()))
        .isEqualTo(clock.instant().plusSeconds(5_183_999));
    assertThat(kakao.rotations()).isEqualTo(1);
  }

  @Test
  void refresh_atExactlyTheRotationWindow_doesNotRotate() throws IOException {
    kakao.refreshTokenLifetime(Duration.ofDays(60));
    String refreshToken = exchange().get("refresh_token").asText();
    clock.advance(Duration.ofDays(30));

    assertThat(post(KakaoEmulator.TOKEN_PATH, refreshForm(refreshToken)).has("refresh_token"))
        .isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(post(KakaoEmulator.TOKEN_PATH, refreshForm(refreshToken)).has("refresh_token"))
        .isTrue();
  }

  @Test
  void refresh_afterTheRefreshTokenExpired_failsWithKoe322() throws IOException {
    String refreshToken = exchange().get("refresh_token").asText();
    clock.advance(Duration.ofSeconds(5_183_999));

    assertThat(post(KakaoEmulator.TOKEN_PATH, refreshForm(refreshToken)).get("error_code").asText())
        .isEqualTo("KOE322");
  }

  @Test
  void tokenInfo_reportsUserAppAndRemainingSeconds() throws IOException {
    kakao.loginAs(42);
    String access = exchange().get("access_token").asText();
    clock.advance(Duration.ofSeconds(599));

    JsonNode info = get(KakaoEmulator.TOKEN_INFO_PATH, access);

    assertThat(info.get("id").asLong()).isEqualTo(42);
    assertThat(info.get("app_id").asLong()).isEqualTo(APP_ID);
    assertThat(info.get("expires_in").asLong()).isEqualTo(21_000);
    assertThat(kakao.tokenInfoRequests()).isEqualTo(1);
  }

  @Test
  void userApi_rejectsMissingUnknownAndExpiredTokensWith401() throws IOException {
    String access = exchange().get("access_token").asText();

    assertThat(get(KakaoEmulator.USER_ME_PATH, null).get("code").asInt()).isEqualTo(-401);
    assertThat(get(KakaoEmulator.USER_ME_PATH, "nope").get("code").asInt()).isEqualTo(-401);
    assertThat(get(KakaoEmulator.USER_ME_PATH, access).get("id").asLong())
        .isEqualTo(KakaoEmulator.DEFAULT_USER_ID);
    clock.advance(Duration.ofSeconds(21_599));
    assertThat(get(KakaoEmulator.USER_ME_PATH, access).get("code").asInt()).isEqualTo(-401);
  }

  @Test
  void logout_expiresTheUsersTokens_butKeepsTheLink() throws IOException {
    JsonNode tokens = exchange();
    String access = tokens.get("access_token").asText();

    JsonNode out = post(KakaoEmulator.LOGOUT_PATH, Map.of(), access);

    assertThat(out.get("id").asLong()).isEqualTo(KakaoEmulator.DEFAULT_USER_ID);
    assertThat(kakao.isAccessTokenLive(access)).isFalse();
    assertThat(
            post(KakaoEmulator.TOKEN_PATH, refreshForm(tokens.get("refresh_token").asText()))
                .get("error_code")
                .asText())
        .isEqualTo("KOE322");
    assertThat(kakao.isLinked(KEY, KakaoEmulator.DEFAULT_USER_ID)).isTrue();
    assertThat(kakao.logouts()).isEqualTo(1);
  }

  @Test
  void unlink_expiresTheTokens_andRemovesTheLink() throws IOException {
    String access = exchange().get("access_token").asText();

    post(KakaoEmulator.UNLINK_PATH, Map.of(), access);

    assertThat(kakao.isAccessTokenLive(access)).isFalse();
    assertThat(kakao.isLinked(KEY, KakaoEmulator.DEFAULT_USER_ID)).isFalse();
    assertThat(kakao.unlinks()).isEqualTo(1);
  }

  @Test
  void memo_needsTheTalkMessageConsent() throws IOException {
    String withConsent = exchangeWithScopes("talk_message").get("access_token").asText();

    JsonNode sent = post(KakaoEmulator.MEMO_PATH, Map.of(), withConsent);
    kakao.withdrawConsent(KEY, KakaoEmulator.DEFAULT_USER_ID, "talk_message");
    JsonNode refused = post(KakaoEmulator.MEMO_PATH, Map.of(), withConsent);

    assertThat(sent.get("result_code").asInt()).isZero();
    assertThat(refused.get("code").asInt()).isEqualTo(-402);
    assertThat(refused.get("required_scopes").get(0).asText()).isEqualTo("talk_message");
  }

  @Test
  void idToken_isIssuedOnlyWhenSwitchedOn() throws IOException {
    kakao.issueIdToken(true);

    JsonNode tokens = exchange();

    assertThat(tokens.get("id_token").asText().split("\\.")).hasSize(3);
  }

  @Test
  void issueTokens_givesAStoreReadyTokenSetTheApiAccepts() throws IOException {
    TokenSet set = kakao.issueTokens(KEY, "talk_message");

    assertThat(set.refreshExpiresAt()).isEqualTo(clock.instant().plusSeconds(5_183_999));
    assertThat(set.scopes()).contains("talk_message");
    assertThat(get(KakaoEmulator.TOKEN_INFO_PATH, set.accessToken()).get("app_id").asLong())
        .isEqualTo(APP_ID);
  }

  @Test
  void faultHelpers_answerInKakaosShapes() throws IOException {
    kakao.inject(
        KakaoEmulator.TOKEN_PATH,
        KakaoEmulator.kauthError(400, "invalid_grant", "expired", "KOE322"));
    kakao.inject(KakaoEmulator.USER_ME_PATH, KakaoEmulator.kapiError(400, -10, "quota"));

    assertThat(post(KakaoEmulator.TOKEN_PATH, refreshForm("x")).get("error_code").asText())
        .isEqualTo("KOE322");
    assertThat(get(KakaoEmulator.USER_ME_PATH, null).get("code").asInt()).isEqualTo(-10);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private URI authorizeUrl(String state, String challenge, String scope) {
    HttpUrl.Builder b =
        kakao
            .url(KakaoEmulator.AUTHORIZE_PATH)
            .newBuilder()
            .addQueryParameter("response_type", "code")
            .addQueryParameter("client_id", KEY)
            .addQueryParameter("redirect_uri", REDIRECT)
            .addQueryParameter("state", state);
    if (scope != null) {
      b.addQueryParameter("scope", scope);
    }
    if (challenge != null) {
      b.addQueryParameter("code_challenge", challenge)
          .addQueryParameter("code_challenge_method", "S256");
    }
    return b.build().uri();
  }

  private String code(String challenge) {
    String redirected = kakao.followAuthorization(authorizeUrl("s", challenge, null));
    return HttpUrl.get(redirected).queryParameter("code");
  }

  private JsonNode exchange() throws IOException {
    return post(KakaoEmulator.TOKEN_PATH, exchangeForm(code(null), null));
  }

  private JsonNode exchangeWithScopes(String scopes) throws IOException {
    String redirected = kakao.followAuthorization(authorizeUrl("s", null, scopes));
    String code = HttpUrl.get(redirected).queryParameter("code");
    return post(KakaoEmulator.TOKEN_PATH, exchangeForm(code, null));
  }

  private static Map<String, String> exchangeForm(String code, String verifier) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("grant_type", "authorization_code");
    f.put("client_id", KEY);
    f.put("redirect_uri", REDIRECT);
    f.put("code", code);
    if (verifier != null) {
      f.put("code_verifier", verifier);
    }
    return f;
  }

  private static Map<String, String> refreshForm(String refreshToken) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("grant_type", "refresh_token");
    f.put("client_id", KEY);
    f.put("refresh_token", refreshToken);
    return f;
  }

  private static String challenge(String verifier) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private JsonNode post(String path, Map<String, String> form) throws IOException {
    return post(path, form, null);
  }

  private JsonNode post(String path, Map<String, String> form, String bearer) throws IOException {
    FormBody.Builder body = new FormBody.Builder();
    form.forEach(body::add);
    Request.Builder r = new Request.Builder().url(kakao.url(path)).post(body.build());
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return call(r.build());
  }

  private JsonNode get(String path, String bearer) throws IOException {
    Request.Builder r = new Request.Builder().url(kakao.url(path));
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return call(r.build());
  }

  private JsonNode call(Request request) throws IOException {
    try (Response response = http.newCall(request).execute()) {
      return JSON.readTree(response.body().string());
    }
  }
}
