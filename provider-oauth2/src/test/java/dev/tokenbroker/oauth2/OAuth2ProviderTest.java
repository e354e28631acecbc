package dev.tokenbroker.oauth2;

import static dev.tokenbroker.oauth2.Emulated.CLIENT;
import static dev.tokenbroker.oauth2.Emulated.REDIRECT;
import static dev.tokenbroker.oauth2.Emulated.SECRET;
import static dev.tokenbroker.oauth2.Emulated.approve;
import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.REVOKE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.TOKEN_PATH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.oauth2.Emulated.Sent;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The provider against the OAuth2 emulator: what it sends, and what it makes of the answers. */
class OAuth2ProviderTest {
  private static final String VERIFIER = "v".repeat(43) + "-._~0123456789";

  private final Emulated e = new Emulated();
  private final OAuth2Emulator emulator = e.emulator;

  @AfterEach
  void stop() {
    e.close();
  }

  private TokenSet connect(TokenProvider p) {
    String verifier = p.usesPkce() ? VERIFIER : null;
    String challenge = verifier == null ? null : OAuth2Emulator.s256(verifier);
    HttpUrl back = HttpUrl.get(approve(p.authorizationUrl("st-1", challenge)));
    assertThat(back.queryParameter("state")).isEqualTo("st-1");
    return p.exchangeCode(back.queryParameter("code"), verifier);
  }

  private static String formEncoded(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  // ---- authorization code, client authentication --------------------------------------------

  @Test
  void codeGrant_withBasic_sendsRfc6749EncodedCredentialsInTheHeaderOnly() {
    TokenProvider p = e.provider(e.settings());
    TokenSet tokens = connect(p);

    Sent sent = e.sent(TOKEN_PATH);
    assertThat(sent.method()).isEqualTo("POST");
    assertThat(sent.header("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(sent.header("Accept")).isEqualTo("application/json");
    String basic =
        Base64.getEncoder()
            .encodeToString(
                (formEncoded(CLIENT) + ":" + formEncoded(SECRET)).getBytes(StandardCharsets.UTF_8));
    assertThat(sent.header("Authorization")).isEqualTo("Basic " + basic);
    assertThat(sent.form())
        .containsOnlyKeys("grant_type", "code", "redirect_uri")
        .containsEntry("grant_type", "authorization_code")
        .containsEntry("redirect_uri", REDIRECT);
    assertThat(sent.body()).doesNotContain("s3cret");
    assertThat(tokens.refreshToken()).isNotNull();
    assertThat(tokens.expiresAt()).isEqualTo(e.clock.instant().plus(Duration.ofHours(1)));
    assertThat(tokens.refreshExpiresAt()).isEqualTo(e.clock.instant().plus(Duration.ofDays(14)));
    assertThat(tokens.scopes()).containsExactly("api");
    assertThat(emulator.isAccessTokenValid(tokens.accessToken())).isTrue();
  }

  @Test
  void codeGrant_withFormAuth_sendsIdAndSecretInTheBodyAndNoHeader() {
    emulator.allowClientSecretPost(true);
    TokenProvider p = e.provider(e.settings("client-auth", "form"));
    connect(p);

    Sent sent = e.sent(TOKEN_PATH);
    assertThat(sent.header("Authorization")).isNull();
    assertThat(sent.form())
        .containsEntry("client_id", CLIENT)
        .containsEntry("client_secret", SECRET)
        .containsEntry("grant_type", "authorization_code");
  }

  @Test
  void codeGrant_asPublicClientWithPkce_sendsTheIdAndVerifierOnly() {
    emulator.registerPublicClient("spa", REDIRECT);
    TokenProvider p =
        e.provider(
            e.settings(
                "client-id", "spa", "client-secret", null, "client-auth", "none", "pkce", true));
    assertThat(p.usesPkce()).isTrue();

    HttpUrl authorize = HttpUrl.get(p.authorizationUrl("s", OAuth2Emulator.s256(VERIFIER)));
    assertThat(authorize.queryParameter("code_challenge")).isEqualTo(OAuth2Emulator.s256(VERIFIER));
    assertThat(authorize.queryParameter("code_challenge_method")).isEqualTo("S256");
    String code = HttpUrl.get(approve(authorize.uri())).queryParameter("code");
    TokenSet tokens = p.exchangeCode(code, VERIFIER);

    Sent sent = e.sent(TOKEN_PATH);
    assertThat(sent.header("Authorization")).isNull();
    assertThat(sent.form())
        .containsEntry("client_id", "spa")
        .containsEntry("code_verifier", VERIFIER)
        .doesNotContainKey("client_secret");
    assertThat(emulator.isAccessTokenValid(tokens.accessToken())).isTrue();
  }

  @Test
  void pkce_aWrongVerifier_isRefusedByTheServerAsInvalidGrant() {
    TokenProvider p = e.provider(e.settings("pkce", true));
    String code =
        HttpUrl.get(approve(p.authorizationUrl("s", OAuth2Emulator.s256(VERIFIER))))
            .queryParameter("code");

    TokenEndpointException x =
        catchThrowableOfType(
            () -> p.exchangeCode(code, "w".repeat(43)), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(x.error()).isEqualTo("invalid_grant");
    assertThat(x.reason()).contains("PKCE");
    assertThatThrownBy(() -> p.authorizationUrl("s", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void authorizationUrl_joinsScopesWithTheSeparator_andCarriesAuthorizeParams() {
    TokenProvider p =
        e.provider(
            e.settings(
                "scope", List.of("read", "write"),
                "scope-separator", ",",
                "authorize-params", Map.of("prompt", "login")));

    HttpUrl url = HttpUrl.get(p.authorizationUrl("st", null));
    assertThat(url.encodedPath()).isEqualTo(AUTHORIZE_PATH);
    assertThat(url.queryParameter("response_type")).isEqualTo("code");
    assertThat(url.queryParameter("client_id")).isEqualTo(CLIENT);
    assertThat(url.queryParameter("redirect_uri")).isEqualTo(REDIRECT);
    assertThat(url.queryParameter("state")).isEqualTo("st");
    assertThat(url.queryParameter("scope")).isEqualTo("read,write");
    assertThat(url.queryParameter("prompt")).isEqualTo("login");
    assertThat(url.queryParameter("code_challenge")).isNull();
  }

  @Test
  void redirectUri_anOpaqueRuName_isSentAsWritten() {
    emulator.registerClient("ebay-app", "ebay-secret"); // any redirect accepted
    TokenProvider p =
        e.provider(
            e.settings(
                "client-id", "ebay-app",
                "client-secret", "ebay-secret",
                "redirect-uri", "Seller_Inc-SellerIn-App-abcde"));

    HttpUrl url = HttpUrl.get(p.authorizationUrl("s", null));
    assertThat(url.queryParameter("redirect_uri")).isEqualTo("Seller_Inc-SellerIn-App-abcde");
  }

  // ---- refresh -------------------------------------------------------------------------------

  @Test
  void refresh_rotating_adoptsTheNewRefreshTokenAndItsExpiry() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    e.clock.advance(Duration.ofMinutes(59));

    TokenSet renewed = p.refresh(first);

    assertThat(e.sent(TOKEN_PATH).form())
        .containsOnlyKeys("grant_type", "refresh_token")
        .containsEntry("refresh_token", first.refreshToken());
    assertThat(renewed.refreshToken()).isNotEqualTo(first.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(e.clock.instant().plus(Duration.ofDays(14)));
    assertThat(emulator.isRefreshTokenValid(first.refreshToken())).isFalse();
    assertThat(emulator.isRefreshTokenValid(renewed.refreshToken())).isTrue();
  }

  @Test
  void refresh_notRotating_keepsTheStoredRefreshTokenAndItsExpiry() {
    emulator.rotateRefreshTokens(false);
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    e.clock.advance(Duration.ofMinutes(59));

    TokenSet renewed = p.refresh(first);

    assertThat(renewed.accessToken()).isNotEqualTo(first.accessToken());
    assertThat(renewed.refreshToken()).isEqualTo(first.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(first.refreshExpiresAt());
    assertThat(renewed.expiresAt()).isEqualTo(e.clock.instant().plus(Duration.ofHours(1)));
  }

  @Test
  void refresh_withRefreshScope_sendsTheConfiguredScope_andWithoutItSendsNone() {
    emulator.defaultScope("read write");
    TokenProvider plain = e.provider(e.settings("scope", List.of("read", "write")));
    TokenSet first = connect(plain);
    TokenSet second = plain.refresh(first);
    assertThat(e.sent(TOKEN_PATH).form()).doesNotContainKey("scope");

    TokenProvider scoped =
        e.provider(e.settings("scope", List.of("read", "write"), "refresh-scope", true));
    scoped.refresh(second);
    assertThat(e.sent(TOKEN_PATH).form()).containsEntry("scope", "read write");
  }

  @Test
  void tokenParams_goOnEveryTokenRequest_andNotOnRevocation() {
    TokenProvider p = e.provider(e.settings("token-params", Map.of("resource", "urn:api")));
    TokenSet first = connect(p);
    assertThat(e.sent(TOKEN_PATH).form()).containsEntry("resource", "urn:api");
    TokenSet renewed = p.refresh(first);
    assertThat(e.sent(TOKEN_PATH).form()).containsEntry("resource", "urn:api");

    p.revoke(renewed, Revocation.TOKENS);
    assertThat(e.sent(REVOKE_PATH).form()).doesNotContainKey("resource");
  }

  @Test
  void refresh_aLostAnswer_isOutcomeUnknown() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(TOKEN_PATH, Fault.dropAfterProcessing());

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
  }

  @Test
  void refresh_aSpentRefreshToken_isPermanentInvalidGrant() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    p.refresh(first);

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(x.error()).isEqualTo("invalid_grant");
    assertThat(x.httpStatus()).isEqualTo(400);
    assertThat(x.getMessage()).doesNotContain(first.refreshToken()).doesNotContain(SECRET);
  }

  // ---- expiry ----------------------------------------------------------------------------------

  @Test
  void expiresAt_absoluteAnswers_areReadWhenConfigured() {
    emulator.absoluteExpiry(true).accessTokenLifetime(Duration.ofMinutes(30));
    TokenSet tokens = connect(e.provider(e.settings("expires", "at")));

    assertThat(tokens.expiresAt())
        .isEqualTo(
            Instant.ofEpochSecond(e.clock.instant().plus(Duration.ofMinutes(30)).getEpochSecond()));
    // Configured for expires_in, the same answer has no lifetime: refused, not guessed.
    TokenEndpointException x =
        catchThrowableOfType(() -> connect(e.provider(e.settings())), TokenEndpointException.class);
    assertThat(x.reason()).contains("expires_in");
  }

  @Test
  void expiresAt_isoWithOffset_isRead() {
    TokenProvider p = e.provider(e.settings("expires", "at"));
    Instant at = e.clock.instant().plus(Duration.ofHours(2));
    emulator.inject(
        TOKEN_PATH,
        Fault.json(
            200,
            "{\"access_token\":\"a1\",\"token_type\":\"Bearer\",\"expires_at\":\""
                + at.atOffset(java.time.ZoneOffset.ofHours(9))
                + "\",\"refresh_token\":\"r1\"}"));
    TokenSet tokens = p.exchangeCode("any", null);
    assertThat(tokens.expiresAt()).isEqualTo(at);
    assertThat(tokens.refreshExpiresAt()).isNull();
  }

  @Test
  void refreshTokenLifetime_isUsedWhenTheAnswerHasNoRefreshExpiry() {
    TokenProvider p = e.provider(e.settings("refresh-token-lifetime", "540d"));
    emulator.inject(
        TOKEN_PATH,
        Fault.json(
            200,
            "{\"access_token\":\"a1\",\"token_type\":\"bearer\",\"expires_in\":7200,"
                + "\"refresh_token\":\"r1\"}"));
    TokenSet tokens = p.exchangeCode("any", null);
    assertThat(tokens.refreshExpiresAt()).isEqualTo(e.clock.instant().plus(Duration.ofDays(540)));
    assertThat(tokens.tokenType()).isEqualTo("Bearer");
  }

  // ---- client credentials -------------------------------------------------------------------

  @Test
  void clientCredentials_obtainsWithTheScope_andHasNoCodeFlow() {
    TokenProvider p =
        e.provider(
            e.settings(
                "grant",
                "client_credentials",
                "authorize-url",
                null,
                "redirect-uri",
                null,
                "scope",
                List.of("a", "b")));
    assertThat(p.grantType()).isEqualTo(GrantType.CLIENT_CREDENTIALS);

    TokenSet tokens = p.obtain(null);

    assertThat(e.sent(TOKEN_PATH).form())
        .containsEntry("grant_type", "client_credentials")
        .containsEntry("scope", "a b");
    assertThat(tokens.refreshToken()).isNull();
    assertThat(tokens.scopes()).containsExactly("a", "b");
    assertThatThrownBy(() -> p.authorizationUrl("s", null))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  // ---- errors --------------------------------------------------------------------------------

  static Stream<Arguments> errorAnswers() {
    return Stream.of(
        Arguments.of(
            Fault.json(400, "{\"error\":\"invalid_grant\"}"), Kind.PERMANENT, "invalid_grant"),
        Arguments.of(
            Fault.json(401, "{\"error\":\"invalid_client\"}"), Kind.PERMANENT, "invalid_client"),
        Arguments.of(
            Fault.json(400, "{\"error\":\"unauthorized_client\"}"),
            Kind.PERMANENT,
            "unauthorized_client"),
        Arguments.of(
            Fault.json(400, "{\"error\":\"unsupported_grant_type\"}"),
            Kind.PERMANENT,
            "unsupported_grant_type"),
        Arguments.of(
            Fault.json(400, "{\"error\":\"invalid_scope\"}"), Kind.PERMANENT, "invalid_scope"),
        Arguments.of(
            Fault.json(400, "{\"error\":\"temporarily_unavailable\"}"),
            Kind.TRANSIENT,
            "temporarily_unavailable"),
        Arguments.of(
            Fault.json(503, "{\"error\":\"server_error\"}"), Kind.TRANSIENT, "server_error"),
        Arguments.of(Fault.html(502), Kind.TRANSIENT, null));
  }

  @ParameterizedTest
  @MethodSource("errorAnswers")
  void refresh_errorAnswers_areClassifiedByRfc6749Section5_2(Fault fault, Kind kind, String error) {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(TOKEN_PATH, fault);

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(kind);
    assertThat(x.error()).isEqualTo(error);
    assertThat(x.provider()).isEqualTo("oauth2");
  }

  @Test
  void errorDescription_isKept_andScrubbedOfSecrets() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(
        TOKEN_PATH,
        Fault.json(
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"token "
                + first.refreshToken()
                + " is dead\"}"));

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.errorDescription()).contains("is dead").doesNotContain(first.refreshToken());
    assertThat(x.getMessage()).doesNotContain(first.refreshToken());
  }

  @Test
  void rateLimited_isTransientWithRetryAfter() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(TOKEN_PATH, Fault.rateLimited(120));

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(x.retryAfter()).isEqualTo(Duration.ofSeconds(120));
  }

  static Stream<Arguments> malformedAnswers() {
    String ok = "\"token_type\":\"Bearer\",\"refresh_token\":\"r2\"";
    return Stream.of(
        // (with a good new refresh token it would be kept: see the test below)
        Arguments.of("{\"token_type\":\"Bearer\",\"expires_in\":3600}", "access_token"),
        Arguments.of("{\"access_token\":\"a\"," + ok + ",\"expires_in\":0}", "expires_in"),
        Arguments.of("{\"access_token\":\"a\"," + ok + ",\"expires_in\":-5}", "expires_in"),
        Arguments.of(
            "{\"access_token\":\"a\"," + ok + ",\"expires_in\":999999999999}", "expires_in"),
        Arguments.of("{\"access_token\":\"a\"," + ok + ",\"expires_in\":\"soon\"}", "expires_in"),
        Arguments.of("{\"access_token\":\"a\"," + ok + "}", "expires_in"),
        Arguments.of("{\"access_token\":\"a\",\"token_type\":\"mac\",\"expires_in\":60}", "bearer"),
        Arguments.of("[1,2]", "JSON"));
  }

  @ParameterizedTest
  @MethodSource("malformedAnswers")
  void refresh_malformedSuccess_isOutcomeUnknown_andKeepsNoBody(String body, String reasonPart) {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(TOKEN_PATH, Fault.json(200, body));

    TokenEndpointException x =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(x.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(x.reason()).contains("malformed").contains(reasonPart);
    assertThat(x.body()).isNull();
  }

  @Test
  void anHtmlPageAndAnOversizedAnswer_areNotTokens() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(TOKEN_PATH, Fault.respond(200, "<html>maintenance</html>", "text/html"));
    assertThat(catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class).kind())
        .isEqualTo(Kind.OUTCOME_UNKNOWN);

    emulator.inject(
        TOKEN_PATH,
        Fault.json(200, "{\"access_token\":\"" + "a".repeat(300 * 1024) + "\",\"expires_in\":60}"));
    TokenEndpointException big =
        catchThrowableOfType(() -> p.refresh(first), TokenEndpointException.class);
    assertThat(big.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(big.getMessage().length()).isLessThan(2000);
  }

  @Test
  void aBadAccessTokenBesideAGoodNewRefreshToken_keepsTheNewRefreshToken() {
    TokenProvider p = e.provider(e.settings());
    TokenSet first = connect(p);
    emulator.inject(
        TOKEN_PATH,
        Fault.json(
            200, "{\"access_token\":\"bad token\",\"expires_in\":60,\"refresh_token\":\"r-new\"}"));

    TokenSet kept = p.refresh(first);
    assertThat(kept.refreshToken()).isEqualTo("r-new");
    assertThat(kept.accessToken()).isEqualTo(first.accessToken());
    assertThat(kept.expiresAt()).isEqualTo(first.expiresAt());
  }

  // ---- revocation ----------------------------------------------------------------------------

  @Test
  void revoke_sendsTheRefreshTokenWithItsHint_authenticatedLikeTheTokenEndpoint() {
    TokenProvider p = e.provider(e.settings());
    TokenSet tokens = connect(p);

    p.revoke(tokens, Revocation.TOKENS);

    Sent sent = e.sent(REVOKE_PATH);
    assertThat(sent.form())
        .containsExactly(
            Map.entry("token", tokens.refreshToken()),
            Map.entry("token_type_hint", "refresh_token"));
    assertThat(sent.header("Authorization")).startsWith("Basic ");
    assertThat(emulator.isRefreshTokenValid(tokens.refreshToken())).isFalse();
    assertThat(emulator.isAccessTokenValid(tokens.accessToken())).isFalse();
  }

  @Test
  void revoke_withoutARefreshToken_revokesTheAccessToken() {
    TokenProvider p = e.provider(e.settings());
    TokenSet tokens = connect(p).toBuilder().refreshToken(null).refreshExpiresAt(null).build();

    p.revoke(tokens, Revocation.TOKENS);

    assertThat(e.sent(REVOKE_PATH).form())
        .containsEntry("token", tokens.accessToken())
        .containsEntry("token_type_hint", "access_token");
    assertThat(emulator.isAccessTokenValid(tokens.accessToken())).isFalse();
  }

  @Test
  void revoke_withoutARevocationUrl_isUnsupported_soTheBrokerForgetsLocally() {
    TokenProvider p = e.provider(e.settings("revocation-url", null));
    TokenSet tokens = connect(p);

    assertThatThrownBy(() -> p.revoke(tokens, Revocation.TOKENS))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("revocation-url");
    assertThat(emulator.requests(REVOKE_PATH)).isEmpty();
  }

  @Test
  void revoke_aServerError_isTransient() {
    TokenProvider p = e.provider(e.settings());
    TokenSet tokens = connect(p);
    emulator.inject(REVOKE_PATH, Fault.json(503, "{\"error\":\"temporarily_unavailable\"}"));

    assertThat(
            catchThrowableOfType(
                    () -> p.revoke(tokens, Revocation.TOKENS), TokenEndpointException.class)
                .kind())
        .isEqualTo(Kind.TRANSIENT);
  }

  @Test
  void toString_showsNoSecret() {
    TokenProvider p = e.provider(e.settings("token-params", Map.of("audience", "hidden-value")));
    assertThat(p.toString()).contains("app").doesNotContain(SECRET).doesNotContain("hidden-value");
  }
}
