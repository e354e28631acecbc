package dev.tokenbroker.oauth2;

import static dev.tokenbroker.oauth2.Emulated.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Strict validation of every setting, and RFC 8414 discovery. */
class OAuth2ProviderFactoryTest {
  private final Emulated e = new Emulated();

  @AfterEach
  void stop() {
    e.close();
  }

  private ConfigurationException invalid(Map<String, Object> settings) {
    ConfigurationException x =
        catchThrowableOfType(() -> e.provider(settings), ConfigurationException.class);
    assertThat(x).as("should be refused").isNotNull();
    assertThat(x.getMessage()).contains("oauth2:shop").doesNotContain(SECRET);
    return x;
  }

  static Stream<Arguments> badSettings() {
    return Stream.of(
        Arguments.of(new Object[] {"client_id", "x"}, "client_id"),
        Arguments.of(new Object[] {"pkce", List.of("yes")}, "pkce"),
        Arguments.of(new Object[] {"pkce", "maybe"}, "pkce"),
        Arguments.of(new Object[] {"scope", Map.of("a", "b")}, "scope"),
        Arguments.of(new Object[] {"scope", List.of("two words")}, "scope"),
        Arguments.of(new Object[] {"token-url", null}, "token-url"),
        Arguments.of(new Object[] {"token-url", "http://auth.example.com/token"}, "token-url"),
        Arguments.of(new Object[] {"token-url", "not a url"}, "token-url"),
        Arguments.of(new Object[] {"authorize-url", null}, "authorize-url"),
        Arguments.of(new Object[] {"revocation-url", "ftp://x/revoke"}, "revocation-url"),
        Arguments.of(new Object[] {"client-id", null}, "client-id"),
        Arguments.of(new Object[] {"client-id", "has space"}, "client-id"),
        Arguments.of(new Object[] {"client-secret", null}, "client-secret"),
        Arguments.of(new Object[] {"client-auth", "none"}, "client-secret"),
        Arguments.of(new Object[] {"client-auth", "digest"}, "client-auth"),
        Arguments.of(new Object[] {"grant", "password"}, "grant"),
        Arguments.of(new Object[] {"redirect-uri", null}, "redirect-uri"),
        Arguments.of(new Object[] {"redirect-uri", "http://example.com/cb"}, "redirect-uri"),
        Arguments.of(new Object[] {"redirect-uri", "has white space"}, "redirect-uri"),
        Arguments.of(new Object[] {"scope-separator", "and"}, "scope-separator"),
        Arguments.of(new Object[] {"authorize-params", "prompt=login"}, "authorize-params"),
        Arguments.of(new Object[] {"authorize-params", Map.of("state", "x")}, "authorize-params"),
        Arguments.of(new Object[] {"token-params", Map.of("client_secret", "x")}, "token-params"),
        Arguments.of(new Object[] {"token-params", Map.of("a", List.of(1))}, "token-params"),
        Arguments.of(new Object[] {"expires", "never"}, "expires"),
        Arguments.of(new Object[] {"renew-before", "0s"}, "renew-before"),
        Arguments.of(new Object[] {"renew-before", "soon"}, "renew-before"),
        Arguments.of(new Object[] {"refresh-token-lifetime", "20y"}, "refresh-token-lifetime"),
        Arguments.of(new Object[] {"access-token-lifetime", "0s"}, "access-token-lifetime"),
        Arguments.of(new Object[] {"issuer", "http://auth.example.com"}, "issuer"),
        Arguments.of(new Object[] {"token-type", "MAC"}, "token-type"));
  }

  @ParameterizedTest
  @MethodSource("badSettings")
  void create_aBadSetting_isRefusedNamingItAndTheConnection(Object[] change, String setting) {
    assertThat(invalid(e.settings(change)).setting()).isEqualTo(setting);
  }

  static Stream<String> codeOnlySettings() {
    return Stream.of(
        "authorize-url",
        "redirect-uri",
        "pkce",
        "refresh-scope",
        "authorize-params",
        "refresh-token-lifetime",
        "keep-alive-before");
  }

  @ParameterizedTest
  @MethodSource("codeOnlySettings")
  void create_aCodeGrantSettingOnClientCredentials_isRefused(String key) {
    Map<String, Object> s =
        e.settings("grant", "client_credentials", "authorize-url", null, "redirect-uri", null);
    s.put(
        key,
        switch (key) {
          case "authorize-url" -> "https://auth.example.com/authorize";
          case "redirect-uri" -> "https://app.example.com/cb";
          case "pkce", "refresh-scope" -> false;
          case "authorize-params" -> Map.of("prompt", "login");
          default -> "30d";
        });
    ConfigurationException x = invalid(s);
    assertThat(x.setting()).isEqualTo(key);
    assertThat(x.getMessage()).contains("authorization_code");
  }

  @Test
  void create_theDefaults() {
    TokenProvider p = e.provider(e.settings());
    assertThat(p.name()).isEqualTo("oauth2");
    assertThat(p.grantType()).isEqualTo(GrantType.AUTHORIZATION_CODE);
    assertThat(p.usesPkce()).isFalse();
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofSeconds(60));
    assertThat(p.renewalPolicy().expirySkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.renewalPolicy().keepAliveBefore()).isNull();
  }

  @Test
  void create_anEbayStyleConfiguration_isAccepted() {
    TokenProvider p =
        e.provider(
            e.settings(
                "redirect-uri",
                "Seller_Inc-SellerIn-App-abcde",
                "scope",
                List.of(
                    "https://api.ebay.com/oauth/api_scope",
                    "https://api.ebay.com/oauth/api_scope/sell.inventory"),
                "refresh-scope",
                true,
                "authorize-params",
                Map.of("prompt", "login"),
                "token-params",
                Map.of(),
                "renew-before",
                "5m",
                "refresh-token-lifetime",
                "540d",
                "keep-alive-before",
                "30d"));
    assertThat(p.renewalPolicy().renewBefore()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.renewalPolicy().keepAliveBefore()).isEqualTo(Duration.ofDays(30));
    HttpUrl url = HttpUrl.get(p.authorizationUrl("s", null));
    assertThat(url.queryParameter("scope"))
        .isEqualTo(
            "https://api.ebay.com/oauth/api_scope"
                + " https://api.ebay.com/oauth/api_scope/sell.inventory");
    assertThat(url.encodedQuery()).contains("scope=https%3A%2F%2Fapi.ebay.com");
  }

  @Test
  void create_aSecretInAnError_isNeverEchoed() {
    ConfigurationException x = invalid(e.settings("client-auth", "none"));
    assertThat(x.getMessage()).doesNotContain(SECRET).contains("client-auth none");
  }

  // ---- RFC 8414 discovery -------------------------------------------------------------------

  private Map<String, Object> issuerOnly(Object... more) {
    Map<String, Object> s =
        e.settings("token-url", null, "authorize-url", null, "revocation-url", null);
    s.put("issuer", e.emulator.baseUrl());
    for (int i = 0; i < more.length; i += 2) {
      s.put((String) more[i], more[i + 1]);
    }
    return s;
  }

  @Test
  void issuer_fillsTheEndpointsFromItsMetadata() {
    e.emulator.paths("/as/token", "/as/authorize", "/as/revoke");
    TokenProvider p = e.provider(issuerOnly("pkce", true));

    assertThat(e.paths()).containsExactly(OAuth2Emulator.METADATA_PATH);
    HttpUrl url = HttpUrl.get(p.authorizationUrl("s", OAuth2Emulator.s256("x".repeat(43))));
    assertThat(url.encodedPath()).isEqualTo("/as/authorize");
    String code = HttpUrl.get(Emulated.approve(url.uri())).queryParameter("code");
    var tokens = p.exchangeCode(code, "x".repeat(43));
    p.revoke(tokens, dev.tokenbroker.Revocation.TOKENS);
    assertThat(e.paths()).endsWith("/as/authorize", "/as/token", "/as/revoke");
  }

  @Test
  void issuer_explicitKeysWin_andAllExplicitMeansNoFetch() {
    TokenProvider p =
        e.provider(issuerOnly("token-url", e.emulator.url("/elsewhere/token").toString()));
    assertThatThrownByRefresh(p);
    assertThat(e.paths()).containsExactly(OAuth2Emulator.METADATA_PATH, "/elsewhere/token");

    Map<String, Object> all = e.settings();
    all.put("issuer", "https://unreachable.invalid");
    e.provider(all);
    assertThat(e.emulator.requests(OAuth2Emulator.METADATA_PATH)).hasSize(1);
  }

  private static void assertThatThrownByRefresh(TokenProvider p) {
    var current =
        dev.tokenbroker.TokenSet.builder()
            .accessToken("a")
            .refreshToken("r")
            .issuedAt(java.time.Instant.EPOCH)
            .expiresAt(java.time.Instant.EPOCH.plusSeconds(60))
            .build();
    catchThrowableOfType(() -> p.refresh(current), RuntimeException.class);
  }

  @Test
  void issuer_aMismatchingIssuerInTheMetadata_isRefused() {
    e.emulator.inject(
        OAuth2Emulator.METADATA_PATH,
        Fault.json(
            200,
            "{\"issuer\":\"https://evil.example\",\"token_endpoint\":\"https://evil.example/t\","
                + "\"authorization_endpoint\":\"https://evil.example/a\"}"));
    ConfigurationException x = invalid(issuerOnly());
    assertThat(x.setting()).isEqualTo("issuer");
    assertThat(x.getMessage()).contains("RFC 8414");
  }

  static Stream<Arguments> badMetadata() {
    return Stream.of(
        Arguments.of(200, "<html>login</html>", "not a JSON object"),
        Arguments.of(404, "{}", "HTTP 404"),
        Arguments.of(0, null, "could not be fetched"),
        Arguments.of(200, "{\"issuer\":\"ISSUER\"}", "token-url"),
        Arguments.of(
            200, "{\"issuer\":\"ISSUER\",\"token_endpoint\":\"http://evil.example/t\"}", "https"));
  }

  @ParameterizedTest
  @MethodSource("badMetadata")
  void issuer_badMetadata_isAConfigurationError(int status, String body, String part) {
    e.emulator.inject(
        OAuth2Emulator.METADATA_PATH,
        body == null
            ? Fault.dropBeforeProcessing()
            : Fault.json(status, body.replace("ISSUER", e.emulator.baseUrl())));
    ConfigurationException x = invalid(issuerOnly());
    assertThat(x.getMessage()).contains(part);
  }
}
