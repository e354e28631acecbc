package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Emulator.API_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.REVOKE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.TOKEN_PATH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The emulator enforces RFC 6749 strictly: every rule here is one a careless client would break.
 */
class OAuth2EmulatorTest {
  private static final String CLIENT = "app";
  private static final String SECRET = "s3cret-value";
  private static final String REDIRECT = "http://127.0.0.1:9/callback";
  private static final String VERIFIER = "verifier-0123456789-0123456789-0123456789-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().followRedirects(false).retryOnConnectionFailure(false).build();

  private final FakeClock clock = FakeClock.create();
  private OAuth2Emulator emulator;

  @BeforeEach
  void start() {
    emulator = new OAuth2Emulator(clock).registerClient(CLIENT, SECRET).start();
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static final class Answer {
    final int status;
    final JsonNode json;
    final Response response;

    Answer(Response response) throws IOException {
      this.status = response.code();
      this.response = response;
      String body = response.body() == null ? "" : response.body().string();
      this.json = body.startsWith("{") ? JSON.readTree(body) : JSON.createObjectNode();
    }

    String text(String field) {
      return json.path(field).asText(null);
    }
  }

  private Answer post(String path, String authorization, String... form) throws IOException {
    FormBody.Builder b = new FormBody.Builder();
    for (int i = 0; i < form.length; i += 2) {
      b.add(form[i], form[i + 1]);
    }
    Request.Builder r = new Request.Builder().url(emulator.url(path)).post(b.build());
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    return call(r.build());
  }

  private Answer token(String... form) throws IOException {
    return post(TOKEN_PATH, Credentials.basic(CLIENT, SECRET), form);
  }

  private static Answer call(Request request) throws IOException {
    try (Response response = HTTP.newCall(request).execute()) {
      return new Answer(response);
    }
  }

  private Answer api(String accessToken) throws IOException {
    return call(
        new Request.Builder()
            .url(emulator.url(API_PATH))
            .header("Authorization", "Bearer " + accessToken)
            .build());
  }

  /** Authorizes and returns the redirect's code. */
  private String authorize(String challenge) throws IOException {
    HttpUrl.Builder url =
        emulator
            .url(AUTHORIZE_PATH)
            .newBuilder()
            .addQueryParameter("response_type", "code")
            .addQueryParameter("client_id", CLIENT)
            .addQueryParameter("redirect_uri", REDIRECT)
            .addQueryParameter("state", "st4te");
    if (challenge != null) {
      url.addQueryParameter("code_challenge", challenge)
          .addQueryParameter("code_challenge_method", "S256");
    }
    Answer a = call(new Request.Builder().url(url.build()).build());
    assertThat(a.status).isEqualTo(302);
    HttpUrl location = HttpUrl.get(a.response.header("Location"));
    assertThat(location.queryParameter("state")).isEqualTo("st4te");
    return location.queryParameter("code");
  }

  private Answer exchange(String code, String... extra) throws IOException {
    String[] form = new String[6 + extra.length];
    form[0] = "grant_type";
    form[1] = "authorization_code";
    form[2] = "code";
    form[3] = code;
    form[4] = "redirect_uri";
    form[5] = REDIRECT;
    System.arraycopy(extra, 0, form, 6, extra.length);
    return token(form);
  }

  // ---- refresh -------------------------------------------------------------------------------

  @Nested
  class Refresh {
    @Test
    void rotation_spendsTheOldRefreshToken() throws IOException {
      TokenSet seeded = emulator.issueTokens(CLIENT);

      Answer first = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());
      Answer replay = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());

      assertThat(first.status).isEqualTo(200);
      assertThat(first.text("refresh_token")).isNotNull().isNotEqualTo(seeded.refreshToken());
      assertThat(first.text("token_type")).isEqualTo("Bearer");
      assertThat(first.response.header("Cache-Control")).isEqualTo("no-store");
      assertThat(replay.status).isEqualTo(400);
      assertThat(replay.text("error")).isEqualTo("invalid_grant");
      assertThat(emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(2);
      assertThat(emulator.invalidGrantAnswers()).isEqualTo(1);
      assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
      assertThat(emulator.isRefreshTokenValid(first.text("refresh_token"))).isTrue();
      // The access token issued before the refresh lives on until it expires.
      assertThat(api(seeded.accessToken()).status).isEqualTo(200);
    }

    @Test
    void withoutRotation_theRefreshTokenStaysAndIsNotResent() throws IOException {
      emulator.rotateRefreshTokens(false);
      TokenSet seeded = emulator.issueTokens(CLIENT);

      Answer first = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());
      Answer second = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());

      assertThat(first.status).isEqualTo(200);
      assertThat(first.json.has("refresh_token")).isFalse();
      assertThat(second.status).isEqualTo(200);
      assertThat(second.text("access_token")).isNotEqualTo(first.text("access_token"));
      assertThat(emulator.invalidGrantAnswers()).isZero();
    }

    @Test
    void twoConcurrentRefreshesWithOneToken_exactlyOneWins() throws Exception {
      TokenSet seeded = emulator.issueTokens(CLIENT);
      EmulatorServer.Gate gate = emulator.hold(TOKEN_PATH);
      List<CompletableFuture<Answer>> answers =
          List.of(
              CompletableFuture.supplyAsync(() -> refreshQuietly(seeded)),
              CompletableFuture.supplyAsync(() -> refreshQuietly(seeded)));
      assertThat(gate.awaitArrivals(2, 10, TimeUnit.SECONDS)).isTrue();
      gate.release();

      List<Integer> statuses =
          List.of(answers.get(0).get(10, TimeUnit.SECONDS).status, answers.get(1).get().status);
      assertThat(statuses).containsExactlyInAnyOrder(200, 400);
      assertThat(emulator.invalidGrantAnswers()).isEqualTo(1);
    }

    private Answer refreshQuietly(TokenSet seeded) {
      try {
        return token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    @Test
    void anExpiredRefreshToken_isInvalidGrant_oneTickAfterItsLifetime() throws IOException {
      emulator.refreshTokenLifetime(Duration.ofDays(14)).rotateRefreshTokens(false);
      TokenSet seeded = emulator.issueTokens(CLIENT);

      clock.advance(Duration.ofDays(14).minusMillis(1));
      assertThat(
              token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken()).status)
          .isEqualTo(200);
      clock.advance(Duration.ofMillis(1));
      Answer late = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());

      assertThat(late.status).isEqualTo(400);
      assertThat(late.text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void aRefreshTokenOfAnotherClient_isInvalidGrant_andNotSpent() throws IOException {
      emulator.registerClient("other", "other-secret");
      TokenSet seeded = emulator.issueTokens(CLIENT);

      Answer stolen =
          post(
              TOKEN_PATH,
              Credentials.basic("other", "other-secret"),
              "grant_type",
              "refresh_token",
              "refresh_token",
              seeded.refreshToken());

      assertThat(stolen.text("error")).isEqualTo("invalid_grant");
      assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
    }

    @Test
    void lifetimes_areWholeSecondsPlusAMillisecondExtension() throws IOException {
      emulator.accessTokenLifetime(Duration.ofMillis(1500));
      TokenSet seeded = emulator.issueTokens(CLIENT);

      Answer a = token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());
      emulator.accessTokenLifetime(Duration.ofMillis(400));
      Answer b = token("grant_type", "refresh_token", "refresh_token", a.text("refresh_token"));

      assertThat(a.json.get("expires_in").asLong()).isEqualTo(1);
      assertThat(a.json.get("expires_in_ms").asLong()).isEqualTo(1500);
      assertThat(a.json.get("refresh_token_expires_in").asLong()).isEqualTo(14 * 86400);
      assertThat(b.json.get("expires_in").asLong()).isEqualTo(1); // never 0: that reads "expired"
      assertThat(b.json.get("expires_in_ms").asLong()).isEqualTo(400);
      assertThat(b.text("scope")).isEqualTo("api");
    }
  }

  // ---- client authentication and request shape ----------------------------------------------

  @Nested
  class ClientAuthentication {
    @Test
    void noCredentials_is401InvalidClient() throws IOException {
      Answer a = post(TOKEN_PATH, null, "grant_type", "client_credentials");

      assertThat(a.status).isEqualTo(401);
      assertThat(a.text("error")).isEqualTo("invalid_client");
      assertThat(a.response.header("WWW-Authenticate")).startsWith("Basic");
      assertThat(emulator.invalidClientAnswers()).isEqualTo(1);
      assertThat(emulator.tokensIssued()).isZero();
    }

    @Test
    void aWrongSecret_is401InvalidClient() throws IOException {
      Answer a =
          post(
              TOKEN_PATH,
              Credentials.basic(CLIENT, SECRET + "x"),
              "grant_type",
              "client_credentials");

      assertThat(a.status).isEqualTo(401);
      assertThat(a.text("error")).isEqualTo("invalid_client");
    }

    @Test
    void anUnknownClient_is401InvalidClient() throws IOException {
      Answer a =
          post(TOKEN_PATH, Credentials.basic("nobody", SECRET), "grant_type", "client_credentials");

      assertThat(a.status).isEqualTo(401);
    }

    @Test
    void theSecretInTheBody_isRefusedUnlessAllowed() throws IOException {
      String[] form = {
        "grant_type", "client_credentials", "client_id", CLIENT, "client_secret", SECRET
      };
      assertThat(post(TOKEN_PATH, null, form).status).isEqualTo(401);

      emulator.allowClientSecretPost(true);
      assertThat(post(TOKEN_PATH, null, form).status).isEqualTo(200);
    }

    @Test
    void twoAuthenticationMethodsAtOnce_isInvalidRequest() throws IOException {
      emulator.allowClientSecretPost(true);
      Answer a =
          post(
              TOKEN_PATH,
              Credentials.basic(CLIENT, SECRET),
              "grant_type",
              "client_credentials",
              "client_secret",
              SECRET);

      assertThat(a.status).isEqualTo(400);
      assertThat(a.text("error")).isEqualTo("invalid_request");
    }

    @Test
    void aJsonBody_aGetAndARepeatedParameter_areRefused() throws IOException {
      Answer json =
          call(
              new Request.Builder()
                  .url(emulator.url(TOKEN_PATH))
                  .header("Authorization", Credentials.basic(CLIENT, SECRET))
                  .post(
                      RequestBody.create(
                          "{\"grant_type\":\"client_credentials\"}",
                          MediaType.get("application/json")))
                  .build());
      Answer get =
          call(
              new Request.Builder()
                  .url(emulator.url(TOKEN_PATH))
                  .header("Authorization", Credentials.basic(CLIENT, SECRET))
                  .build());
      Answer repeated =
          token("grant_type", "client_credentials", "grant_type", "client_credentials");

      assertThat(json.status).isEqualTo(400);
      assertThat(get.status).isEqualTo(405);
      assertThat(repeated.status).isEqualTo(400);
      assertThat(repeated.text("error")).isEqualTo("invalid_request");
      assertThat(emulator.tokensIssued()).isZero();
    }

    @Test
    void anUnknownGrant_isUnsupportedGrantType() throws IOException {
      Answer a = token("grant_type", "password", "username", "u", "password", "p");

      assertThat(a.status).isEqualTo(400);
      assertThat(a.text("error")).isEqualTo("unsupported_grant_type");
      assertThat(emulator.tokenRequests("password")).isEqualTo(1);
    }

    @Test
    void clientCredentials_issueNoRefreshToken() throws IOException {
      Answer a = token("grant_type", "client_credentials", "scope", "read");

      assertThat(a.status).isEqualTo(200);
      assertThat(a.json.has("refresh_token")).isFalse();
      assertThat(a.text("scope")).isEqualTo("read");
      assertThat(api(a.text("access_token")).status).isEqualTo(200);
    }
  }

  // ---- authorization codes and PKCE ----------------------------------------------------------

  @Nested
  class AuthorizationCodes {
    @Test
    void aCodeIsSingleUse_andItsReuseRevokesWhatItIssued() throws IOException {
      String code = authorize(null);

      Answer first = exchange(code);
      Answer second = exchange(code);

      assertThat(first.status).isEqualTo(200);
      assertThat(first.text("refresh_token")).isNotNull();
      assertThat(second.status).isEqualTo(400);
      assertThat(second.text("error")).isEqualTo("invalid_grant");
      assertThat(api(first.text("access_token")).status).isEqualTo(401);
      assertThat(emulator.isRefreshTokenValid(first.text("refresh_token"))).isFalse();
      assertThat(emulator.tokenRequests(OAuth2Emulator.AUTHORIZATION_CODE)).isEqualTo(2);
    }

    @Test
    void aCodeDies60SecondsAfterIssue() throws IOException {
      String early = authorize(null);
      String late = authorize(null);

      clock.advance(Duration.ofSeconds(60).minusMillis(1));
      assertThat(exchange(early).status).isEqualTo(200);
      clock.advance(Duration.ofMillis(1));
      Answer expired = exchange(late);

      assertThat(expired.status).isEqualTo(400);
      assertThat(expired.text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void theRedirectUriMustBeIdentical() throws IOException {
      String code = authorize(null);

      Answer a =
          token("grant_type", "authorization_code", "code", code, "redirect_uri", REDIRECT + "/");

      assertThat(a.text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void pkce_theRightVerifierIsAccepted() throws IOException {
      String code = authorize(OAuth2Emulator.s256(VERIFIER));

      assertThat(exchange(code, "code_verifier", VERIFIER).status).isEqualTo(200);
    }

    @Test
    void pkce_aWrongVerifierIsInvalidGrant_andSpendsTheCode() throws IOException {
      String code = authorize(OAuth2Emulator.s256(VERIFIER));

      Answer wrong = exchange(code, "code_verifier", VERIFIER + "x");
      Answer retry = exchange(code, "code_verifier", VERIFIER);

      assertThat(wrong.text("error")).isEqualTo("invalid_grant");
      assertThat(retry.text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void pkce_aMissingVerifierIsInvalidGrant() throws IOException {
      String code = authorize(OAuth2Emulator.s256(VERIFIER));

      assertThat(exchange(code).text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void pkce_aVerifierWithoutChallengeIsRefused_noDowngrade() throws IOException {
      String code = authorize(null);

      assertThat(exchange(code, "code_verifier", VERIFIER).text("error"))
          .isEqualTo("invalid_grant");
    }

    @Test
    void pkce_thePlainMethodIsRefusedWithARedirect() throws IOException {
      HttpUrl url =
          emulator
              .url(AUTHORIZE_PATH)
              .newBuilder()
              .addQueryParameter("response_type", "code")
              .addQueryParameter("client_id", CLIENT)
              .addQueryParameter("redirect_uri", REDIRECT)
              .addQueryParameter("state", "s")
              .addQueryParameter("code_challenge", VERIFIER)
              .addQueryParameter("code_challenge_method", "plain")
              .build();

      Answer a = call(new Request.Builder().url(url).build());

      HttpUrl location = HttpUrl.get(a.response.header("Location"));
      assertThat(location.queryParameter("error")).isEqualTo("invalid_request");
      assertThat(location.queryParameter("code")).isNull();
    }

    @Test
    void anUnknownClientOrUnregisteredRedirect_isAPageNotARedirect() throws IOException {
      emulator.registerClient("strict", "strict-secret", REDIRECT);
      HttpUrl.Builder base =
          emulator
              .url(AUTHORIZE_PATH)
              .newBuilder()
              .addQueryParameter("response_type", "code")
              .addQueryParameter("state", "s");

      Answer unknown =
          call(
              new Request.Builder()
                  .url(
                      base.build()
                          .newBuilder()
                          .addQueryParameter("client_id", "nobody")
                          .addQueryParameter("redirect_uri", REDIRECT)
                          .build())
                  .build());
      Answer elsewhere =
          call(
              new Request.Builder()
                  .url(
                      base.build()
                          .newBuilder()
                          .addQueryParameter("client_id", "strict")
                          .addQueryParameter("redirect_uri", "http://127.0.0.1:9/evil")
                          .build())
                  .build());

      assertThat(unknown.status).isEqualTo(400);
      assertThat(elsewhere.status).isEqualTo(400);
      assertThat(elsewhere.response.header("Location")).isNull();
    }

    @Test
    void denyAuthorization_redirectsWithAccessDenied() throws IOException {
      emulator.denyAuthorization(true);
      HttpUrl url =
          emulator
              .url(AUTHORIZE_PATH)
              .newBuilder()
              .addQueryParameter("response_type", "code")
              .addQueryParameter("client_id", CLIENT)
              .addQueryParameter("redirect_uri", REDIRECT)
              .addQueryParameter("state", "s")
              .build();

      HttpUrl location =
          HttpUrl.get(call(new Request.Builder().url(url).build()).response.header("Location"));

      assertThat(location.queryParameter("error")).isEqualTo("access_denied");
      assertThat(location.queryParameter("state")).isEqualTo("s");
    }
  }

  // ---- the protected resource ----------------------------------------------------------------

  @Nested
  class ApiResource {
    @Test
    void aBearerIsAcceptedUntilOneTickBeforeExpiry() throws IOException {
      TokenSet seeded = emulator.issueTokens(CLIENT);

      clock.advance(Duration.ofHours(1).minusMillis(1));
      Answer lastMoment = api(seeded.accessToken());
      clock.advance(Duration.ofMillis(1));
      Answer expired = api(seeded.accessToken());

      assertThat(lastMoment.status).isEqualTo(200);
      assertThat(expired.status).isEqualTo(401);
      assertThat(expired.text("error")).isEqualTo("invalid_token");
      assertThat(expired.response.header("WWW-Authenticate"))
          .isEqualTo("Bearer error=\"invalid_token\"");
      assertThat(emulator.apiCalls()).isEqualTo(2);
      assertThat(emulator.apiRejections()).isEqualTo(1);
    }

    @Test
    void aRevokedAccessTokenIsRejected() throws IOException {
      TokenSet seeded = emulator.issueTokens(CLIENT);

      emulator.revokeAccessToken(seeded.accessToken());

      assertThat(api(seeded.accessToken()).status).isEqualTo(401);
      assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
    }

    @Test
    void noBearerAtAll_is401() throws IOException {
      Answer a = call(new Request.Builder().url(emulator.url(API_PATH)).build());

      assertThat(a.status).isEqualTo(401);
      assertThat(a.response.header("WWW-Authenticate")).startsWith("Bearer");
    }

    @Test
    void rejectAllApiCalls_rejectsValidTokens() throws IOException {
      TokenSet seeded = emulator.issueTokens(CLIENT);

      emulator.rejectAllApiCalls(true);
      assertThat(api(seeded.accessToken()).status).isEqualTo(401);
      emulator.rejectAllApiCalls(false);
      assertThat(api(seeded.accessToken()).status).isEqualTo(200);
    }
  }

  // ---- revocation, seeding, counters ---------------------------------------------------------

  @Test
  void revokingARefreshToken_endsTheWholeGrant() throws IOException {
    TokenSet seeded = emulator.issueTokens(CLIENT);

    Answer a =
        post(
            REVOKE_PATH,
            Credentials.basic(CLIENT, SECRET),
            "token",
            seeded.refreshToken(),
            "token_type_hint",
            "refresh_token");

    assertThat(a.status).isEqualTo(200);
    assertThat(emulator.revocations()).isEqualTo(1);
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
    assertThat(api(seeded.accessToken()).status).isEqualTo(401);
  }

  @Test
  void revocationNeedsClientAuthentication() throws IOException {
    TokenSet seeded = emulator.issueTokens(CLIENT);

    Answer a = post(REVOKE_PATH, null, "token", seeded.refreshToken());

    assertThat(a.status).isEqualTo(401);
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
  }

  @Test
  void seed_storesAFreshSetWithoutHttpOrCounting() {
    InMemoryTokenStore store = new InMemoryTokenStore(clock);
    ConnectionId id = ConnectionId.of("oauth2-test", "seeded");

    TokenSet saved = emulator.seed(store, id, CLIENT);

    assertThat(store.load(id)).isEqualTo(saved);
    assertThat(saved.version()).isEqualTo(1);
    assertThat(saved.issuedAt()).isEqualTo(clock.instant());
    assertThat(saved.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
    assertThat(saved.refreshExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(14)));
    assertThat(saved.scopes()).containsExactly("api");
    assertThat(emulator.isAccessTokenValid(saved.accessToken())).isTrue();
    assertThat(emulator.requests()).isEmpty();
    assertThat(emulator.tokenRequests()).isZero();
    assertThatThrownBy(() -> emulator.issueTokens("nobody"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void countersCountProcessedRequests_andReset() throws IOException {
    emulator.inject(TOKEN_PATH, Fault.json(500, "{\"error\":\"server_error\"}"));
    assertThat(token("grant_type", "client_credentials").status).isEqualTo(500);
    assertThat(token("grant_type", "client_credentials").status).isEqualTo(200);

    // The fault answered without processing: it arrived but was not counted.
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(2);
    assertThat(emulator.tokenRequests()).isEqualTo(1);
    assertThat(emulator.tokenRequests(OAuth2Emulator.CLIENT_CREDENTIALS)).isEqualTo(1);

    emulator.resetCounters();
    assertThat(emulator.tokenRequests()).isZero();
    assertThat(emulator.tokenRequests(OAuth2Emulator.CLIENT_CREDENTIALS)).isZero();
    assertThat(emulator.tokensIssued()).isZero();
  }

  @Test
  void errorAnswersNeverEchoTheTokenTheyRefuse() throws IOException {
    TokenSet seeded = emulator.issueTokens(CLIENT);
    token("grant_type", "refresh_token", "refresh_token", seeded.refreshToken());

    try (Response r =
        HTTP.newCall(
                new Request.Builder()
                    .url(emulator.url(TOKEN_PATH))
                    .header("Authorization", Credentials.basic(CLIENT, SECRET))
                    .post(
                        new FormBody.Builder()
                            .add("grant_type", "refresh_token")
                            .add("refresh_token", seeded.refreshToken())
                            .build())
                    .build())
            .execute()) {
      assertThat(r.body().string()).contains("invalid_grant").doesNotContain(seeded.refreshToken());
    }
  }
}
