package dev.tokenbroker.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared OAuth plumbing on its own: requests on the wire, answers read, errors classified. */
class OAuthPlumbingTest {
  private static final ConnectionId ID = ConnectionId.of("acme", "one");
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private final MockWebServer server = new MockWebServer();

  @AfterEach
  void stop() throws Exception {
    server.shutdown();
  }

  private static TokenResponse answer(int status, String body) {
    return new TokenResponse("acme", status, Headers.of(), body, NOW, true, List.of("r-old"));
  }

  private OAuthClient client(ClientAuth auth, String secret) {
    TokenHttp http = new TokenHttp(new OkHttpClient(), Clock.fixed(NOW, ZoneOffset.UTC), "acme");
    return OAuthClient.builder(OAuthEndpoint.of(server.url("/token"), auth), "id:1", http)
        .clientSecret(secret)
        .tokenParams(Map.of("audience", "api"))
        .build();
  }

  private RecordedRequest sendRefresh(OAuthClient client) throws Exception {
    server.enqueue(new MockResponse().setBody("{}"));
    client.tokenRequest("refresh_token").param("refresh_token", "r1").send(true);
    return server.takeRequest();
  }

  // ---- requests ------------------------------------------------------------------------------

  @Test
  void basic_formEncodesIdAndSecret_unencodedSendsThemAsWritten() throws Exception {
    RecordedRequest rfc = sendRefresh(client(ClientAuth.BASIC, "s+/:"));
    assertThat(rfc.getHeader("Authorization"))
        .isEqualTo(okhttp3.Credentials.basic("id%3A1", "s%2B%2F%3A"));
    assertThat(rfc.getBody().readUtf8())
        .isEqualTo("grant_type=refresh_token&refresh_token=r1&audience=api");

    RecordedRequest raw = sendRefresh(client(ClientAuth.BASIC_UNENCODED, "s+/:"));
    assertThat(raw.getHeader("Authorization")).isEqualTo(okhttp3.Credentials.basic("id:1", "s+/:"));
  }

  @Test
  void form_putsTheIdSecondAndTheSecretLast_none_sendsNoSecret() throws Exception {
    RecordedRequest form = sendRefresh(client(ClientAuth.FORM, "sec"));
    assertThat(form.getHeader("Authorization")).isNull();
    assertThat(form.getHeader("Accept")).isEqualTo("application/json");
    assertThat(form.getBody().readUtf8())
        .isEqualTo(
            "grant_type=refresh_token&client_id=id%3A1&refresh_token=r1&audience=api"
                + "&client_secret=sec");

    RecordedRequest none = sendRefresh(client(ClientAuth.NONE, null));
    assertThat(none.getBody().readUtf8()).doesNotContain("client_secret").contains("client_id=");
    assertThatThrownBy(() -> client(ClientAuth.NONE, "sec"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client(ClientAuth.BASIC, null))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aParameterTwice_isRefused_andToStringShowsNoSecret() {
    OAuthClient c = client(ClientAuth.FORM, "very-secret");
    TokenRequest r = c.tokenRequest("refresh_token").param("refresh_token", "r1");
    assertThatThrownBy(() -> r.param("refresh_token", "r2"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(c + " " + r).doesNotContain("very-secret").doesNotContain("r1");
  }

  @Test
  void authorizationUrl_escapesEachScope_andKeepsACommaSeparatorLiteral() {
    TokenHttp http = new TokenHttp(new OkHttpClient(), Clock.systemUTC(), "acme");
    OAuthClient c =
        OAuthClient.builder(
                OAuthEndpoint.of(HttpUrl.get("https://a.example/token"), ClientAuth.NONE)
                    .withAuthorizeUrl(HttpUrl.get("https://a.example/authorize")),
                "id",
                http)
            .build();
    HttpUrl comma =
        c.authorizationUrl("s", "https://app/cb", List.of("a.b", "c"), ",", null).build();
    assertThat(comma.encodedQuery())
        .isEqualTo(
            "response_type=code&client_id=id&state=s&redirect_uri=https%3A%2F%2Fapp%2Fcb&scope=a.b,c");
    HttpUrl space = c.authorizationUrl("s", null, List.of("https://x/y", "z"), " ", "ch").build();
    assertThat(space.queryParameter("scope")).isEqualTo("https://x/y z");
    assertThat(space.queryParameter("code_challenge_method")).isEqualTo("S256");
    assertThat(space.queryParameter("redirect_uri")).isNull();
  }

  // ---- answers -------------------------------------------------------------------------------

  private static TokenSet current() {
    return TokenSet.builder()
        .accessToken("a-old")
        .refreshToken("r-old")
        .refreshExpiresAt(NOW.plus(Duration.ofDays(30)))
        .issuedAt(NOW.minusSeconds(3600))
        .expiresAt(NOW)
        .scopes(List.of("read"))
        .extra("user", "7")
        .build();
  }

  @Test
  void read_withoutARefreshToken_keepsTheStoredOneAndItsExpiry() {
    TokenAnswer reader = TokenAnswer.builder("Acme", ID).build();
    TokenSet renewed =
        reader.read(answer(200, "{\"access_token\":\"a2\",\"expires_in\":60}"), current());
    assertThat(renewed.accessToken()).isEqualTo("a2");
    assertThat(renewed.expiresAt()).isEqualTo(NOW.plusSeconds(60));
    assertThat(renewed.refreshToken()).isEqualTo("r-old");
    assertThat(renewed.refreshExpiresAt()).isEqualTo(NOW.plus(Duration.ofDays(30)));
    assertThat(renewed.scopes()).containsExactly("read");
    assertThat(renewed.extras()).containsEntry("user", "7");
  }

  @Test
  void read_aNewRefreshToken_isAdoptedWithItsOwnExpiryOrNone() {
    TokenAnswer reader = TokenAnswer.builder("Acme", ID).build();
    TokenSet withLife =
        reader.read(
            answer(
                200,
                "{\"access_token\":\"a2\",\"expires_in\":60,\"refresh_token\":\"r2\","
                    + "\"refresh_token_expires_in\":600,\"scope\":\"x y\"}"),
            current());
    assertThat(withLife.refreshToken()).isEqualTo("r2");
    assertThat(withLife.refreshExpiresAt()).isEqualTo(NOW.plusSeconds(600));
    assertThat(withLife.scopes()).containsExactly("x", "y");

    TokenSet unknown =
        reader.read(
            answer(200, "{\"access_token\":\"a2\",\"expires_in\":60,\"refresh_token\":\"r2\"}"),
            current());
    assertThat(unknown.refreshExpiresAt()).isNull();
  }

  @Test
  void read_aFirstAnswer_recordsTheRequestedScopes_andMayNeedARefreshToken() {
    TokenAnswer lenient = TokenAnswer.builder("Acme", ID).requestedScopes(List.of("s")).build();
    TokenSet first = lenient.read(answer(200, "{\"access_token\":\"a\",\"expires_in\":5}"), null);
    assertThat(first.scopes()).containsExactly("s");
    assertThat(first.refreshToken()).isNull();

    TokenAnswer strict = TokenAnswer.builder("Acme", ID).firstAnswerNeedsRefreshToken(true).build();
    assertThatThrownBy(
            () -> strict.read(answer(200, "{\"access_token\":\"a\",\"expires_in\":5}"), null))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> assertThat(e.reason()).contains("malformed", "refresh_token"));
  }

  @Test
  void read_aBadAccessTokenBesideAGoodRefreshToken_keepsOnlyTheRefreshToken() {
    TokenAnswer reader = TokenAnswer.builder("Acme", ID).build();
    TokenSet kept =
        reader.read(
            answer(200, "{\"access_token\":\"a b\",\"expires_in\":60,\"refresh_token\":\"r2\"}"),
            current());
    assertThat(kept.accessToken()).isEqualTo("a-old");
    assertThat(kept.refreshToken()).isEqualTo("r2");
  }

  // ---- errors --------------------------------------------------------------------------------

  @Test
  void classify_followsRfc6749Section5_2_withTheDialectFirst() {
    assertThat(
            OAuthErrors.classify(
                    answer(400, "{\"error\":\"invalid_grant\"}"), OAuthErrors.Call.CODE)
                .reason())
        .contains("authorization code");
    assertThat(
            OAuthErrors.classify(
                    answer(400, "{\"error\":\"temporarily_unavailable\"}"),
                    OAuthErrors.Call.REFRESH)
                .kind())
        .isEqualTo(Kind.TRANSIENT);
    assertThat(
            OAuthErrors.classify(
                    answer(404, "{\"error\":\"invalid_request\"}"), OAuthErrors.Call.REFRESH)
                .kind())
        .isEqualTo(Kind.TRANSIENT);
    TokenEndpointException own =
        OAuthErrors.classify(
            answer(400, "{\"error\":\"invalid_grant\",\"code\":\"X1\"}"),
            OAuthErrors.Call.REFRESH,
            (r, call, b) ->
                b.kind(Kind.TRANSIENT).platformCode(r.text("code")).reason("x1").build());
    assertThat(own.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(own.platformCode()).isEqualTo("X1");
  }

  // ---- settings ------------------------------------------------------------------------------

  @Test
  void settings_mapOneOfOrSubjectAndBoundedDurations() {
    Settings s =
        new Settings(
            ID,
            Map.of(
                "params", Map.of("prompt", "login"),
                "mode", "FORM",
                "mall-id", "a",
                "wait", "2h",
                "list", Map.of("a", "b")),
            n -> null);
    assertThat(s.map("params")).containsExactly(Map.entry("prompt", "login"));
    assertThat(s.oneOf("mode", "basic", "basic", "form")).isEqualTo("form");
    assertThat(s.orSubject("mall-id", null, "acme:{x}")).isEqualTo("a");
    assertThat(s.orSubject("mall-id", "a", "acme:{x}")).isEqualTo("a");
    assertThatThrownBy(() -> s.orSubject("mall-id", "b", "acme:{x}"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("acme:{x}");
    assertThatThrownBy(
            () -> s.duration("wait", Duration.ZERO, Duration.ZERO, Duration.ofHours(1), "too long"))
        .hasMessageContaining("too long");
    assertThatThrownBy(() -> s.map("mode")).isInstanceOf(ConfigurationException.class);
    assertThatThrownBy(() -> s.list("list")).isInstanceOf(ConfigurationException.class);
    assertThat(Secrets.isSecretName("token-url")).isFalse();
    assertThat(Secrets.isSecretName("refresh-token-lifetime")).isFalse();
    assertThat(Secrets.isSecretName("client-secret")).isTrue();
    assertThat(Secrets.isSecretName("refresh_token")).isTrue();
  }
}
