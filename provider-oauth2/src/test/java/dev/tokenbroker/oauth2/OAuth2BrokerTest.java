package dev.tokenbroker.oauth2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@link TokenBroker} configured from a tokenbroker.yaml, as an eBay-like platform would be:
 * its own endpoint paths, scopes sent on refresh, PKCE, refresh tokens that do not rotate.
 */
class OAuth2BrokerTest {
  private static final ConnectionId EBAY = ConnectionId.of("oauth2", "ebay");
  private static final ConnectionId SERVICE = ConnectionId.of("oauth2", "service");
  // The emulator redirects to URLs only; an opaque eBay RuName is covered in the factory test.
  private static final String RUNAME = Emulated.REDIRECT;

  @TempDir Path dir;
  private final Emulated e = new Emulated();
  private final OAuth2Emulator emulator =
      e.emulator
          .registerClient("ebay-app", "ebay-secret-value")
          .paths("/identity/v1/oauth2/token", "/oauth2/authorize", "/identity/v1/oauth2/revoke")
          .defaultScope("api_scope sell.inventory")
          .rotateRefreshTokens(false)
          .accessTokenLifetime(Duration.ofHours(2));
  private TokenBroker broker;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    e.close();
  }

  private TokenBroker broker(String yaml) throws IOException {
    Path file = Files.writeString(dir.resolve("tokenbroker.yaml"), yaml);
    broker =
        TokenBroker.builder()
            .clock(e.clock)
            .store(new InMemoryTokenStore(e.clock))
            .httpClient(Emulated.HTTP)
            // (ServiceLoader finds it too; explicit keeps the test independent of the class path)
            .providerFactory(new OAuth2ProviderFactory())
            .environment(Map.of("EBAY_SECRET", "ebay-secret-value"))
            .withoutKeepAlive()
            .configFile(file)
            .build();
    return broker;
  }

  private String yaml() {
    String base = emulator.baseUrl();
    return String.join(
        "\n",
        "apps:",
        "  ebay:",
        "    provider: oauth2",
        "    token-url: " + base + "/identity/v1/oauth2/token",
        "    authorize-url: " + base + "/oauth2/authorize",
        "    revocation-url: " + base + "/identity/v1/oauth2/revoke",
        "    client-id: ebay-app",
        "    client-secret: ${EBAY_SECRET}",
        "    redirect-uri: " + RUNAME,
        "    pkce: true",
        "    scope: [api_scope, sell.inventory]",
        "    refresh-scope: true",
        "    authorize-params: {prompt: login}",
        "    renew-before: 5m",
        "    refresh-token-lifetime: 540d",
        "connections:",
        "  oauth2:ebay: {app: ebay}",
        "  oauth2:service:",
        "    token-url: " + base + "/identity/v1/oauth2/token",
        "    client-id: ebay-app",
        "    client-secret: ${EBAY_SECRET}",
        "    grant: client_credentials",
        "    scope: [api_scope]",
        "");
  }

  @Test
  void authorizationCode_connectRenewRevoke_throughTheBroker() throws IOException {
    TokenBroker b = broker(yaml());

    AuthorizationRequest request = b.startAuthorization(EBAY);
    HttpUrl url = HttpUrl.get(request.url());
    assertThat(url.encodedPath()).isEqualTo("/oauth2/authorize");
    assertThat(url.queryParameter("redirect_uri")).isEqualTo(RUNAME);
    assertThat(url.queryParameter("prompt")).isEqualTo("login");
    assertThat(url.queryParameter("code_challenge_method")).isEqualTo("S256");
    TokenSet connected = b.completeAuthorization(EBAY, Emulated.approve(request.url()));

    assertThat(e.sent("/identity/v1/oauth2/token").form())
        .containsEntry("code_verifier", request.codeVerifier())
        .containsEntry("redirect_uri", RUNAME);
    assertThat(connected.refreshExpiresAt())
        .isEqualTo(e.clock.instant().plus(Duration.ofDays(14))); // the answer's own wins
    assertThat(b.accessToken(EBAY)).isEqualTo(connected.accessToken());

    e.clock.advance(Duration.ofHours(2));
    String renewed = b.accessToken(EBAY);

    assertThat(renewed).isNotEqualTo(connected.accessToken());
    assertThat(emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(1);
    assertThat(e.sent("/identity/v1/oauth2/token").form())
        .containsEntry("scope", "api_scope sell.inventory");
    TokenSet now = b.tokenSet(EBAY);
    assertThat(now.refreshToken()).isEqualTo(connected.refreshToken()); // not rotated: kept
    assertThat(now.refreshExpiresAt()).isEqualTo(connected.refreshExpiresAt());
    assertThat(b.health(EBAY).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(now.toString()).doesNotContain(renewed).doesNotContain(now.refreshToken());

    b.revoke(EBAY);
    assertThat(e.sent("/identity/v1/oauth2/revoke").form())
        .containsEntry("token_type_hint", "refresh_token");
    assertThat(emulator.isRefreshTokenValid(connected.refreshToken())).isFalse();
  }

  @Test
  void clientCredentials_obtainsOnFirstUse() throws IOException {
    TokenBroker b = broker(yaml());

    String token = b.accessToken(SERVICE);

    assertThat(emulator.isAccessTokenValid(token)).isTrue();
    assertThat(e.sent("/identity/v1/oauth2/token").form())
        .containsEntry("grant_type", "client_credentials")
        .containsEntry("scope", "api_scope");
  }

  @Test
  void revoke_withoutARevocationUrl_forgetsTheTokensLocally() throws IOException {
    TokenBroker b =
        broker(
            yaml()
                .replace(
                    "    revocation-url: " + emulator.baseUrl() + "/identity/v1/oauth2/revoke\n",
                    ""));
    AuthorizationRequest request = b.startAuthorization(EBAY);
    TokenSet connected = b.completeAuthorization(EBAY, Emulated.approve(request.url()));

    b.revoke(EBAY);

    assertThat(emulator.requests("/identity/v1/oauth2/revoke")).isEmpty();
    assertThat(emulator.isRefreshTokenValid(connected.refreshToken())).isTrue(); // only local
    assertThat(b.health(EBAY).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }
}
