package dev.tokenbroker.testkit.ebay;

import static dev.tokenbroker.testkit.ebay.EbayEmulator.API_SCOPE;
import static dev.tokenbroker.testkit.ebay.EbayEmulator.TOKEN_PATH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.testkit.FakeClock;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** eBay's documented rules, each one a careless client would break. */
class EbayEmulatorTest {
  private static final String CLIENT = "Acme-Shop-PRD-0123456789-abcdef";
  private static final String SECRET = "PRD-0123456789ab-cdef-0123";
  private static final String RU_NAME = "Acme_Inc-AcmeShop-AcmeSh-abcdefghi";
  private static final String ACCEPT = "https://shop.example/ebay/accepted";
  private static final String INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory";
  private static final String ACCOUNT = "https://api.ebay.com/oauth/api_scope/sell.account";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().followRedirects(false).retryOnConnectionFailure(false).build();

  private final FakeClock clock = FakeClock.create();
  private final EbayEmulator ebay =
      new EbayEmulator(clock)
          .registerApp(CLIENT, SECRET, RU_NAME, ACCEPT, INVENTORY, ACCOUNT)
          .start();

  @AfterEach
  void stop() {
    ebay.close();
  }

  private record Answer(int status, JsonNode json) {
    @Nullable String text(String field) {
      return json.path(field).asText(null);
    }
  }

  private Answer post(@Nullable String authorization, String... form) throws IOException {
    FormBody.Builder b = new FormBody.Builder();
    for (int i = 0; i < form.length; i += 2) {
      b.add(form[i], form[i + 1]);
    }
    Request.Builder r = new Request.Builder().url(ebay.url(TOKEN_PATH)).post(b.build());
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    try (Response response = HTTP.newCall(r.build()).execute()) {
      return new Answer(response.code(), JSON.readTree(response.body().string()));
    }
  }

  private Answer token(String... form) throws IOException {
    return post(Credentials.basic(CLIENT, SECRET), form);
  }

  private URI consentUrl(String scope) {
    return ebay.url(EbayEmulator.AUTHORIZE_PATH)
        .newBuilder()
        .addQueryParameter("client_id", CLIENT)
        .addQueryParameter("redirect_uri", RU_NAME)
        .addQueryParameter("response_type", "code")
        .addQueryParameter("scope", scope)
        .addQueryParameter("state", "st-1")
        .build()
        .uri();
  }

  private String code() {
    return HttpUrl.get(ebay.approve(consentUrl(API_SCOPE + " " + INVENTORY)))
        .queryParameter("code");
  }

  private Answer exchange(String code) throws IOException {
    return token("grant_type", "authorization_code", "code", code, "redirect_uri", RU_NAME);
  }

  @Test
  void consent_sendsTheBrowserToTheRuNamesAcceptUrl_withCodeStateAndExpiresIn() {
    HttpUrl back = HttpUrl.get(ebay.approve(consentUrl(API_SCOPE)));
    assertThat(back.toString()).startsWith(ACCEPT + "?");
    assertThat(back.queryParameter("code")).startsWith("v^1.1#");
    assertThat(back.queryParameter("state")).isEqualTo("st-1");
    assertThat(back.queryParameter("expires_in")).isEqualTo("299");
  }

  @Test
  void consent_refusesAnUnknownRuName_withAPageNotARedirect() {
    URI bad =
        HttpUrl.get(consentUrl(API_SCOPE))
            .newBuilder()
            .setQueryParameter("redirect_uri", "https://shop.example/ebay/accepted")
            .build()
            .uri();
    assertThatThrownBy(() -> ebay.approve(bad)).hasMessageContaining("400");
  }

  @Test
  void codeExchange_givesAUserTokenAnd18MonthRefreshToken_inEbaysShape() throws IOException {
    Answer a = exchange(code());
    assertThat(a.status).isEqualTo(200);
    assertThat(a.text("token_type")).isEqualTo("User Access Token");
    assertThat(a.json.path("expires_in").asLong()).isEqualTo(7200);
    assertThat(a.json.path("refresh_token_expires_in").asLong()).isEqualTo(47_304_000);
    assertThat(a.text("access_token")).startsWith("v^1.1#i^1#");
    assertThat(ebay.isRefreshTokenValid(a.text("refresh_token"))).isTrue();
  }

  @Test
  void codes_areSingleUse_boundToTheRuName_andDieAfter299Seconds() throws IOException {
    String code = code();
    assertThat(
            token("grant_type", "authorization_code", "code", code, "redirect_uri", ACCEPT).status)
        .as("the accept URL is not the redirect_uri: the RuName is")
        .isEqualTo(400);
    assertThat(exchange(code).text("error"))
        .as("a failed exchange spent it")
        .isEqualTo("invalid_grant");

    String once = code();
    assertThat(exchange(once).status).isEqualTo(200);
    assertThat(exchange(once).text("error")).isEqualTo("invalid_grant");

    String late = code();
    clock.advance(Duration.ofSeconds(299));
    assertThat(exchange(late).text("error_description"))
        .isEqualTo(
            "the provided authorization grant code is invalid or was issued to another client");
  }

  @Test
  void clientAuthentication_isBasicOnly() throws IOException {
    String code = code();
    Answer inBody =
        post(
            null,
            "grant_type",
            "authorization_code",
            "code",
            code,
            "redirect_uri",
            RU_NAME,
            "client_id",
            CLIENT,
            "client_secret",
            SECRET);
    assertThat(inBody.status).isEqualTo(401);
    assertThat(inBody.text("error")).isEqualTo("invalid_client");
    assertThat(post(Credentials.basic(CLIENT, "wrong"), "grant_type", "client_credentials").status)
        .isEqualTo(401);
  }

  @Test
  void refresh_needsScope_aSubsetOfTheConsent_andNeverRotates() throws IOException {
    Answer first = exchange(code());
    String refresh = first.text("refresh_token");

    assertThat(token("grant_type", "refresh_token", "refresh_token", refresh).text("error"))
        .as("no scope")
        .isEqualTo("invalid_request");
    assertThat(
            token("grant_type", "refresh_token", "refresh_token", refresh, "scope", ACCOUNT)
                .text("error"))
        .as("in the keyset but not consented")
        .isEqualTo("invalid_scope");

    Answer renewed =
        token("grant_type", "refresh_token", "refresh_token", refresh, "scope", INVENTORY);
    assertThat(renewed.status).isEqualTo(200);
    assertThat(renewed.json.has("refresh_token")).as("no rotation").isFalse();
    assertThat(renewed.text("access_token")).isNotEqualTo(first.text("access_token"));
    assertThat(
            token("grant_type", "refresh_token", "refresh_token", refresh, "scope", API_SCOPE)
                .status)
        .as("the same refresh token again")
        .isEqualTo(200);
    assertThat(ebay.tokenRequests("refresh_token")).isEqualTo(4);
  }

  @Test
  void refreshTokens_dieAfter18Months_orWhenTheUserWithdrawsConsent() throws IOException {
    String refresh = exchange(code()).text("refresh_token");
    clock.advance(Duration.ofSeconds(47_304_000 - 1));
    assertThat(
            token("grant_type", "refresh_token", "refresh_token", refresh, "scope", API_SCOPE)
                .status)
        .isEqualTo(200);
    clock.advance(Duration.ofSeconds(1));
    assertThat(
            token("grant_type", "refresh_token", "refresh_token", refresh, "scope", API_SCOPE)
                .text("error_description"))
        .isEqualTo(
            "the provided authorization refresh token is invalid or was issued to another client");

    String other = exchange(code()).text("refresh_token");
    ebay.withdrawConsent(other);
    assertThat(
            token("grant_type", "refresh_token", "refresh_token", other, "scope", API_SCOPE)
                .text("error"))
        .isEqualTo("invalid_grant");
  }

  @Test
  void clientCredentials_giveAnApplicationTokenWithoutRefreshToken_withinTheKeysetsScopes()
      throws IOException {
    Answer app = token("grant_type", "client_credentials", "scope", API_SCOPE);
    assertThat(app.status).isEqualTo(200);
    assertThat(app.text("token_type")).isEqualTo("Application Access Token");
    assertThat(app.json.path("expires_in").asLong()).isEqualTo(7200);
    assertThat(app.json.has("refresh_token")).isFalse();
    assertThat(ebay.isAccessTokenValid(app.text("access_token"))).isTrue();
    clock.advance(Duration.ofSeconds(7200));
    assertThat(ebay.isAccessTokenValid(app.text("access_token"))).isFalse();

    assertThat(
            token(
                    "grant_type",
                    "client_credentials",
                    "scope",
                    "https://api.ebay.com/oauth/api_scope/sell.finances")
                .text("error"))
        .isEqualTo("invalid_scope");
  }

  @Test
  void plainTokens_onRequest() throws IOException {
    ebay.ebayShapedTokens(false);
    assertThat(token("grant_type", "client_credentials", "scope", API_SCOPE).text("access_token"))
        .matches("[A-Za-z0-9]+");
  }
}
