package dev.tokenbroker.oauth2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.ebay.EbayEmulator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 18, "proof of extension": eBay, a platform sellers use, configured only through {@code
 * provider: oauth2} with the YAML that docs/providers.md shows (src/test/resources/ebay/, eBay's
 * hosts swapped for the {@link EbayEmulator}'s), and nothing else: the public API, a fake clock.
 *
 * <p>Written on branch {@code emul} before this module existed there: compiled and run only once
 * merged with the generic provider. Needs, at test scope, {@code tokenbroker-testkit} and
 * junit-jupiter-params.
 */
class EbayThroughGenericProviderTest {
  private static final String CLIENT_ID = "Acme-Shop-SBX-0123456789-abcdef";
  private static final String CLIENT_SECRET = "SBX-0123456789ab-cdef-0123";
  private static final String RU_NAME = "Acme_Inc-AcmeShop-AcmeSh-abcdefghi";
  private static final String ACCEPT_URL = "https://shop.example/ebay/accepted";
  private static final String API_SCOPE = "https://api.ebay.com/oauth/api_scope";
  private static final String INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory";
  private static final ConnectionId SELLER = ConnectionId.parse("oauth2:ebay-my-store");
  private static final ConnectionId CATALOG = ConnectionId.parse("oauth2:ebay-catalog");

  @TempDir Path dir;
  private final FakeClock clock = FakeClock.create();
  // eBay-shaped tokens (v^1.1#…) and token_type values, as eBay issues them
  private final EbayEmulator ebay =
      new EbayEmulator(clock)
          .registerApp(CLIENT_ID, CLIENT_SECRET, RU_NAME, ACCEPT_URL, INVENTORY)
          .start();

  @AfterEach
  void stop() {
    ebay.close();
  }

  /** The documented YAML with eBay's hosts pointed at the emulator, and an in-memory store. */
  private TokenBroker broker(String file) throws IOException {
    String yaml;
    try (InputStream in = getClass().getResourceAsStream("/ebay/" + file)) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String host :
        List.of(
            "https://auth.ebay.com",
            "https://api.ebay.com/identity",
            "https://auth.sandbox.ebay.com",
            "https://api.sandbox.ebay.com/identity")) {
      String path = host.endsWith("/identity") ? "/identity" : "";
      yaml = yaml.replace(host, ebay.baseUrl() + path);
    }
    Path config = Files.writeString(dir.resolve(file), yaml + "store: { type: memory }\n");
    return TokenBroker.builder()
        .configFile(config)
        .environment(
            Map.of(
                "EBAY_CLIENT_ID", CLIENT_ID,
                "EBAY_CLIENT_SECRET", CLIENT_SECRET,
                "EBAY_RUNAME", RU_NAME))
        .clock(clock)
        .withoutKeepAlive()
        .build();
  }

  private static TokenSet connect(TokenBroker broker, EbayEmulator ebay) {
    AuthorizationRequest request = broker.startAuthorization(SELLER);
    HttpUrl consent = HttpUrl.get(request.url());
    assertThat(consent.queryParameter("redirect_uri")).as("the RuName").isEqualTo(RU_NAME);
    assertThat(consent.queryParameter("scope")).isEqualTo(API_SCOPE + " " + INVENTORY);
    return broker.completeAuthorization(SELLER, ebay.approve(request.url()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ebay-sandbox.yaml", "ebay-production.yaml"})
  void connect_exchangesTheCodeWithBasicAuthAndTheRuName(String file) throws IOException {
    try (TokenBroker broker = broker(file)) {
      TokenSet tokens = connect(broker, ebay);

      RecordedRequest exchange = ebay.lastRequest(EbayEmulator.TOKEN_PATH);
      assertThat(exchange.getHeader("Authorization"))
          .isEqualTo(Credentials.basic(CLIENT_ID, CLIENT_SECRET));
      Map<String, String> form = EmulatorServer.form(exchange);
      assertThat(form)
          .containsEntry("grant_type", "authorization_code")
          .containsEntry("redirect_uri", RU_NAME)
          .doesNotContainKeys("client_id", "client_secret");
      // eBay's token_type is "User Access Token", not an auth scheme: its APIs want "Bearer".
      assertThat(tokens.tokenType()).isEqualTo("Bearer");
      assertThat(tokens.expiresAt()).isEqualTo(clock.instant().plusSeconds(7200));
      assertThat(tokens.refreshExpiresAt()).isEqualTo(clock.instant().plusSeconds(47_304_000));
      assertThat(ebay.isAccessTokenValid(broker.accessToken(SELLER))).isTrue();
    }
  }

  @Test
  void refresh_sendsTheScope_andKeepsTheRefreshToken_eBayDoesNotRotate() throws IOException {
    try (TokenBroker broker = broker("ebay-sandbox.yaml")) {
      TokenSet first = connect(broker, ebay);

      clock.advance(Duration.ofSeconds(7200 - 60)); // inside renew-before, and the expiry skew
      String renewed = broker.accessToken(SELLER);
      if (renewed.equals(first.accessToken())) {
        renewed = broker.refresh(SELLER).accessToken(); // a stale token may be served once
      }

      assertThat(renewed).isNotEqualTo(first.accessToken());
      assertThat(ebay.isAccessTokenValid(renewed)).isTrue();
      RecordedRequest refresh = ebay.lastRequest(EbayEmulator.TOKEN_PATH);
      assertThat(refresh.getHeader("Authorization"))
          .isEqualTo(Credentials.basic(CLIENT_ID, CLIENT_SECRET));
      Map<String, String> form = EmulatorServer.form(refresh);
      assertThat(form)
          .containsEntry("grant_type", "refresh_token")
          .containsEntry("refresh_token", first.refreshToken());
      assertThat(form.get("scope")).as("eBay requires scope on refresh").isNotBlank();

      TokenSet now = broker.tokenSet(SELLER);
      assertThat(now.refreshToken()).as("no rotation").isEqualTo(first.refreshToken());
      assertThat(now.refreshExpiresAt()).isEqualTo(first.refreshExpiresAt());
      assertThat(ebay.isRefreshTokenValid(first.refreshToken())).isTrue();
    }
  }

  @Test
  void anApplicationToken_byClientCredentials_withoutAPerson() throws IOException {
    try (TokenBroker broker = broker("ebay-production.yaml")) {
      String token = broker.accessToken(CATALOG);

      assertThat(ebay.isAccessTokenValid(token)).isTrue();
      RecordedRequest sent = ebay.lastRequest(EbayEmulator.TOKEN_PATH);
      assertThat(sent.getHeader("Authorization"))
          .isEqualTo(Credentials.basic(CLIENT_ID, CLIENT_SECRET));
      assertThat(EmulatorServer.form(sent))
          .containsEntry("grant_type", "client_credentials")
          .containsEntry("scope", API_SCOPE);
      assertThat(broker.tokenSet(CATALOG).refreshToken()).isNull();
      assertThat(ebay.tokenRequests("client_credentials")).isEqualTo(1);
    }
  }

  /**
   * eBay's real tokens ({@code v^1.1#i^1#…}, as in eBay's documented samples) carry {@code ^} and
   * {@code #}, outside RFC 6750's {@code b64token}; eBay's APIs take them in {@code Authorization:
   * Bearer} all the same, and so does core.
   */
  @Test
  void eBaysRealTokenShape_isAccepted() throws IOException {
    ebay.ebayShapedTokens(true);
    try (TokenBroker broker = broker("ebay-sandbox.yaml")) {
      TokenSet tokens = connect(broker, ebay);
      assertThat(tokens.accessToken()).startsWith("v^1.1#");
      assertThat(ebay.isAccessTokenValid(broker.accessToken(SELLER))).isTrue();
    }
  }
}
