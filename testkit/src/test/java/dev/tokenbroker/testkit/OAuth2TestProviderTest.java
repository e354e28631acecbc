package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Emulator.REVOKE_PATH;
import static dev.tokenbroker.testkit.OAuth2Emulator.TOKEN_PATH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The provider against the emulator, called directly (no broker). */
class OAuth2TestProviderTest {
  private static final String CLIENT = "app id";
  private static final String SECRET = "s3cret:with/odd+chars";
  private static final String REDIRECT = "http://127.0.0.1:9/callback";
  private static final OkHttpClient HTTP = new OkHttpClient();

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

  private OAuth2TestProvider.Builder provider() {
    return OAuth2TestProvider.builder()
        .baseUrl(emulator.baseUrl())
        .client(CLIENT, SECRET)
        .redirectUri(REDIRECT)
        .clock(clock)
        .httpClient(HTTP);
  }

  /** Follows the emulator's authorize redirect and returns its code. */
  private String approve(URI authorizationUrl) throws Exception {
    OkHttpClient noRedirects = HTTP.newBuilder().followRedirects(false).build();
    try (okhttp3.Response r =
        noRedirects
            .newCall(new okhttp3.Request.Builder().url(authorizationUrl.toString()).build())
            .execute()) {
      assertThat(r.code()).isEqualTo(302);
      return HttpUrl.get(r.header("Location")).queryParameter("code");
    }
  }

  @Test
  void exchangeCode_sendsAStandardFormWithBasicAuth_andAnchorsExpiryOnTheClock() throws Exception {
    OAuth2TestProvider p = provider().pkce(true).build();
    String verifier = "v".repeat(43);
    URI url = p.authorizationUrl("the-state", OAuth2Emulator.s256(verifier));
    String code = approve(url);

    TokenSet set = p.exchangeCode(code, verifier);

    RecordedRequest sent = emulator.lastRequest(TOKEN_PATH);
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
    // RFC 6749 §2.3.1: form-urlencoded id and secret inside Basic.
    assertThat(sent.getHeader("Authorization"))
        .isEqualTo(Credentials.basic("app+id", "s3cret%3Awith%2Fodd%2Bchars"));
    assertThat(EmulatorServer.form(sent))
        .containsExactly(
            Map.entry("grant_type", "authorization_code"),
            Map.entry("code", code),
            Map.entry("redirect_uri", REDIRECT),
            Map.entry("code_verifier", verifier));
    assertThat(EmulatorServer.query(emulator.lastRequest(OAuth2Emulator.AUTHORIZE_PATH)))
        .containsEntry("response_type", "code")
        .containsEntry("client_id", CLIENT)
        .containsEntry("state", "the-state")
        .containsEntry("code_challenge_method", "S256");
    assertThat(set.issuedAt()).isEqualTo(clock.instant());
    assertThat(set.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
    assertThat(set.refreshExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(14)));
    assertThat(set.scopes()).containsExactly("api");
    assertThat(emulator.isAccessTokenValid(set.accessToken())).isTrue();
  }

  @Test
  void subSecondLifetimes_useTheMillisecondExtension() {
    emulator.accessTokenLifetime(Duration.ofMillis(1500));
    OAuth2TestProvider p = provider().build();

    TokenSet set = p.refresh(emulator.issueTokens(CLIENT));

    assertThat(set.lifetime()).isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void refresh_withRotation_keepsTheNewRefreshToken() {
    TokenSet seeded = emulator.issueTokens(CLIENT);
    clock.advance(Duration.ofMinutes(59));

    TokenSet renewed = provider().build().refresh(seeded);

    assertThat(EmulatorServer.form(emulator.lastRequest(TOKEN_PATH)))
        .containsExactly(
            Map.entry("grant_type", "refresh_token"),
            Map.entry("refresh_token", seeded.refreshToken()));
    assertThat(renewed.refreshToken()).isNotEqualTo(seeded.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(14)));
    assertThat(emulator.isRefreshTokenValid(renewed.refreshToken())).isTrue();
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
  }

  @Test
  void refresh_withoutRotation_keepsTheOldRefreshTokenAndItsExpiry() {
    emulator.rotateRefreshTokens(false);
    TokenSet seeded = emulator.issueTokens(CLIENT);
    clock.advance(Duration.ofMinutes(59));

    TokenSet renewed = provider().rotatingRefreshTokens(false).build().refresh(seeded);

    assertThat(renewed.accessToken()).isNotEqualTo(seeded.accessToken());
    assertThat(renewed.refreshToken()).isEqualTo(seeded.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(seeded.refreshExpiresAt());
  }

  @Test
  void refresh_withASpentToken_isPermanentInvalidGrant_withoutSecretsInTheMessage() {
    TokenSet seeded = emulator.issueTokens(CLIENT);
    OAuth2TestProvider p = provider().build();
    p.refresh(seeded);

    assertThatThrownBy(() -> p.refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
              assertThat(e.error()).isEqualTo("invalid_grant");
              assertThat(e.httpStatus()).isEqualTo(400);
              assertThat(e.getMessage() + e.body())
                  .doesNotContain(seeded.refreshToken())
                  .doesNotContain(SECRET);
            });
  }

  @Test
  void aWrongSecret_isPermanentInvalidClient() {
    TokenSet seeded = emulator.issueTokens(CLIENT);

    assertThatThrownBy(() -> provider().client(CLIENT, "wrong").build().refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
              assertThat(e.error()).isEqualTo("invalid_client");
              assertThat(e.httpStatus()).isEqualTo(401);
            });
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
  }

  @Test
  void serverErrorsAndHtmlPages_areTransient() {
    TokenSet seeded = emulator.issueTokens(CLIENT);
    OAuth2TestProvider p = provider().build();
    emulator.inject(TOKEN_PATH, Fault.json(500, "{\"error\":\"server_error\"}"));
    emulator.inject(TOKEN_PATH, Fault.html(502));

    assertThatThrownBy(() -> p.refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TRANSIENT));
    assertThatThrownBy(() -> p.refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
              assertThat(e.httpStatus()).isEqualTo(502);
            });
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isTrue();
  }

  @Test
  void aLostAnswer_isOutcomeUnknownWhenRotating_andSentOnlyOnce() {
    TokenSet seeded = emulator.issueTokens(CLIENT);
    emulator.inject(TOKEN_PATH, Fault.dropAfterProcessing());

    assertThatThrownBy(() -> provider().build().refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN));
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
  }

  @Test
  void aLostAnswer_isTransientWithoutRotation() {
    emulator.rotateRefreshTokens(false);
    TokenSet seeded = emulator.issueTokens(CLIENT);
    emulator.inject(TOKEN_PATH, Fault.dropAfterProcessing());

    assertThatThrownBy(() -> provider().rotatingRefreshTokens(false).build().refresh(seeded))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TRANSIENT));
    assertThat(emulator.requests(TOKEN_PATH)).hasSize(1);
  }

  @Test
  void obtain_usesClientCredentials_withTheConfiguredScopes() {
    OAuth2TestProvider p =
        OAuth2TestProvider.builder()
            .baseUrl(emulator.baseUrl())
            .client(CLIENT, SECRET)
            .grantType(GrantType.CLIENT_CREDENTIALS)
            .scopes(java.util.List.of("read", "write"))
            .clock(clock)
            .httpClient(HTTP)
            .build();

    TokenSet set = p.obtain(null);

    assertThat(EmulatorServer.form(emulator.lastRequest(TOKEN_PATH)))
        .containsExactly(
            Map.entry("grant_type", "client_credentials"), Map.entry("scope", "read write"));
    assertThat(set.refreshToken()).isNull();
    assertThat(set.scopes()).containsExactly("read", "write");
    assertThat(p.grantType()).isEqualTo(GrantType.CLIENT_CREDENTIALS);
  }

  @Test
  void revoke_endsTheGrant() {
    TokenSet seeded = emulator.issueTokens(CLIENT);

    provider().build().revoke(seeded, Revocation.TOKENS);

    assertThat(EmulatorServer.form(emulator.lastRequest(REVOKE_PATH)))
        .containsEntry("token", seeded.refreshToken())
        .containsEntry("token_type_hint", "refresh_token");
    assertThat(emulator.isRefreshTokenValid(seeded.refreshToken())).isFalse();
    assertThat(emulator.isAccessTokenValid(seeded.accessToken())).isFalse();
  }

  @Test
  void toString_showsNoSecret() {
    String s = provider().build().toString();

    assertThat(s).contains("oauth2-test").doesNotContain(SECRET);
  }

  @Test
  void theBuilderRejectsIncompleteOrContradictoryConfiguration() {
    assertThatThrownBy(
            () -> OAuth2TestProvider.builder().client(CLIENT, SECRET).clock(clock).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("baseUrl");
    assertThatThrownBy(
            () ->
                OAuth2TestProvider.builder()
                    .baseUrl(emulator.baseUrl())
                    .client(CLIENT, SECRET)
                    .clock(clock)
                    .httpClient(HTTP)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("redirect URI");
    assertThatThrownBy(() -> provider().grantType(GrantType.CLIENT_CREDENTIALS).pkce(true).build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> OAuth2TestProvider.builder().baseUrl("http://example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https");
    assertThatThrownBy(() -> OAuth2TestProvider.builder().name("Not A Name"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- the factory, through the broker's configuration path ----------------------------------

  private Map<String, Object> settings() {
    Map<String, Object> s = new HashMap<>();
    s.put("base-url", emulator.baseUrl());
    s.put("client-id", CLIENT);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", REDIRECT);
    return s;
  }

  private TokenProvider build(ConnectionId id, Map<String, Object> settings) {
    try (TokenBroker broker =
        TokenBroker.builder().clock(clock).httpClient(HTTP).connection(id, settings).build()) {
      return broker.provider(id);
    }
  }

  @Test
  void theFactoryIsFoundByServiceLoader_andHonoursItsSettings() {
    Map<String, Object> s = settings();
    s.put("pkce", "true");
    s.put("renew-before", "1s");

    TokenProvider p = build(ConnectionId.of("oauth2-test", "cfg"), s);

    assertThat(p).isInstanceOf(OAuth2TestProvider.class);
    assertThat(p.name()).isEqualTo("oauth2-test");
    assertThat(p.grantType()).isEqualTo(GrantType.AUTHORIZATION_CODE);
    assertThat(p.usesPkce()).isTrue();
    // The 5 s skew is clamped to a renew-before shorter than it.
    RenewalPolicy policy = p.renewalPolicy();
    assertThat(policy.renewBefore()).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy.expirySkew()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void theFactoryBuildsClientCredentialsWithDefaults() {
    Map<String, Object> s = settings();
    s.remove("redirect-uri");
    s.put("grant", "client_credentials");

    TokenProvider p = build(ConnectionId.of("oauth2-test", "cc"), s);

    assertThat(p.grantType()).isEqualTo(GrantType.CLIENT_CREDENTIALS);
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofSeconds(60));
    assertThat(p.renewalPolicy().expirySkew()).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.obtain(null).refreshToken()).isNull();
  }

  @Test
  void theFactoryNamesTheConnectionAndSettingOfEveryMistake() {
    ConnectionId id = ConnectionId.of("oauth2-test", "bad");
    Map<String, Object> typo = settings();
    typo.put("client_secret", "x");
    Map<String, Object> noSecret = settings();
    noSecret.remove("client-secret");
    Map<String, Object> badGrant = settings();
    badGrant.put("grant", "password");
    Map<String, Object> noRedirect = settings();
    noRedirect.remove("redirect-uri");
    Map<String, Object> plainHttp = settings();
    plainHttp.put("base-url", "http://auth.example.com");

    assertConfigError(id, typo, "client_secret");
    assertConfigError(id, noSecret, "client-secret");
    assertConfigError(id, badGrant, "grant");
    assertConfigError(id, noRedirect, "redirect-uri");
    assertConfigError(id, plainHttp, "base-url");
  }

  private void assertConfigError(ConnectionId id, Map<String, Object> s, String setting) {
    assertThatThrownBy(() -> build(id, s))
        .isInstanceOfSatisfying(
            ConfigurationException.class,
            e -> {
              assertThat(e.setting()).isEqualTo(setting);
              assertThat(e.getMessage()).contains(id.toString()).doesNotContain(SECRET);
            });
  }
}
