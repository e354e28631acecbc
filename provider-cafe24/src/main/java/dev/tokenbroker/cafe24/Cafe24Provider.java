package dev.tokenbroker.cafe24;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.ClientAuth;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthClient;
import dev.tokenbroker.spi.OAuthEndpoint;
import dev.tokenbroker.spi.OAuthErrors.Call;
import dev.tokenbroker.spi.OAuthErrors.Verdict;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenAnswer;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.Temporal;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Cafe24's token protocol for one mall: authorization code with the client credentials in a Basic
 * header, a refresh token that rotates on every refresh, offset-less timestamps instead of {@code
 * expires_in}, and revocation. Immutable and thread-safe.
 */
final class Cafe24Provider implements TokenProvider {
  /** Health reason when Cafe24 answers "Invalid refresh_token": only a person can repair it. */
  static final String REFRESH_TOKEN_DEAD = "refresh token expired or already used";

  /**
   * The reason of the dead-connection verdict for an uninstalled app: the {@code uninstalled} code
   * of {@link dev.tokenbroker.Health#reasonCode()}, as {@link ApiVerdict#connectionDead} asks.
   */
  static final String APP_UNINSTALLED = "uninstalled";

  static final String CODE_DEAD =
      "authorization code invalid, expired or already used (Cafe24 codes work once, for about"
          + " a minute): authorize again and complete it at once";

  // Sanity bounds: Cafe24 issues 2 hours and 14 days; anything beyond these is garbage.
  static final Duration MAX_ACCESS_LIFETIME = Duration.ofDays(1);
  static final Duration MAX_REFRESH_LIFETIME = Duration.ofDays(90);

  /**
   * Keep-alive: Cafe24's refresh token dies after 14 days unused, and each refresh restarts the
   * window. Refreshing once 7 days are left keeps an idle mall connected with a week to spare for
   * outages.
   */
  static final Duration KEEP_ALIVE_BEFORE = Duration.ofDays(7);

  static final String API_VERSION_HEADER = "X-Cafe24-Api-Version";

  private final Cafe24Config config;
  private final Clock clock;
  private final RenewalPolicy policy;
  private final OAuthClient client;
  private final TokenAnswer answer;

  Cafe24Provider(Cafe24Config config, ProviderContext context) {
    this.config = Objects.requireNonNull(config);
    this.clock = context.clock();
    this.policy = config.renewal().withKeepAliveBefore(KEEP_ALIVE_BEFORE);
    HttpUrl base = config.baseUrl();
    // Cafe24 takes the client credentials in a Basic header only, as written (not form-encoded); a
    // newer documentation page shows them as form fields, which we do not trust.
    OAuthEndpoint endpoint =
        OAuthEndpoint.of(
                OAuthEndpoint.resolve(base, "api/v2/oauth/token"), ClientAuth.BASIC_UNENCODED)
            .withAuthorizeUrl(OAuthEndpoint.resolve(base, "api/v2/oauth/authorize"))
            .withRevocationUrl(OAuthEndpoint.resolve(base, "api/v2/oauth/revoke"));
    this.client =
        OAuthClient.builder(endpoint, config.clientId(), context.tokenHttp(name()))
            .clientSecret(config.clientSecret())
            .build();
    this.answer =
        TokenAnswer.builder("Cafe24", context.connection())
            .check(this::checkMall)
            // Cafe24 sends no expires_in: lifetimes are differences of its zone-less timestamps.
            .accessLifetime(r -> lifetime(r, "expires_at", MAX_ACCESS_LIFETIME))
            .refreshLifetime(r -> lifetime(r, "refresh_token_expires_at", MAX_REFRESH_LIFETIME))
            // Cafe24 lists granted scopes as a JSON array "scopes"; text is tolerated.
            .scopes(TokenAnswer.scopeList("scopes", "[,\\s]+"))
            .firstAnswerNeedsRefreshToken(true)
            .extras(this::extras)
            .refreshExtras(
                (r, b) ->
                    b.extra(
                        "refresh_token_expires_at_raw", r.requireText("refresh_token_expires_at")))
            .build();
  }

  @Override
  public String name() {
    return Cafe24ProviderFactory.NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.AUTHORIZATION_CODE;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return policy;
  }

  @Override
  public URI authorizationUrl(String state, @Nullable String codeChallenge) {
    Objects.requireNonNull(state, "state");
    if (codeChallenge != null) {
      throw new IllegalArgumentException("cafe24 does not use PKCE");
    }
    // Cafe24 joins scopes with commas, not spaces.
    return client
        .authorizationUrl(state, config.redirectUri(), config.scopes(), ",", null)
        .build()
        .uri();
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    TokenResponse response =
        client
            .codeRequest(code, config.redirectUri(), null)
            .sendOrThrow(false, (r, secrets) -> classify(r, Call.CODE, secrets));
    return answer.read(response, null);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    // Every Cafe24 refresh rotates the refresh token: a lost answer may have spent it.
    TokenResponse response =
        client
            .refreshRequest(current, "authorize the mall again")
            .sendOrThrow(true, (r, secrets) -> classify(r, Call.REFRESH, secrets));
    return answer.read(response, current);
  }

  /**
   * Revokes at Cafe24, which kills the access token and its refresh token together. The live access
   * token is sent; once it has expired, the refresh token is sent instead, since an expired access
   * token may no longer be known to the platform. {@link Revocation#UNLINK} is the same as {@link
   * Revocation#TOKENS}: Cafe24 has no separate unlink.
   */
  @Override
  public void revoke(TokenSet current, Revocation revocation) {
    String refreshToken = current.refreshToken();
    boolean accessAlive = clock.instant().isBefore(current.expiresAt());
    String token = accessAlive || refreshToken == null ? current.accessToken() : refreshToken;
    client
        .request(Objects.requireNonNull(client.endpoint().revocationUrl()))
        .param("token", token)
        // Cafe24 names it token_hint, not RFC 7009's token_type_hint.
        .param("token_hint", token.equals(refreshToken) ? "refresh_token" : "access_token")
        .secret(current.accessToken(), refreshToken)
        .sendOrThrow(false, (r, secrets) -> classify(r, Call.REVOKE, secrets));
  }

  /**
   * 401 is a rejected token (missing, invalid or expired). 403 is a dead connection only when
   * Cafe24 says the app was removed from the mall; a scope that was not granted is the caller's
   * problem, as is 429 (the caller must back off by {@code X-Cafe24-Call-Remain}).
   */
  @Override
  public ApiVerdict classifyApiResponse(Response response) {
    if (response.code() == 401) {
      return ApiVerdict.tokenRejected();
    }
    if (response.code() != 403) {
      return ApiVerdict.ok();
    }
    JsonNode json = TokenHttp.peekJson(response);
    JsonNode error = json == null || !json.path("error").isObject() ? null : json.get("error");
    String message = error == null ? "" : error.path("message").asText("");
    if (saysUninstalled(message)) {
      JsonNode code = error == null ? null : error.get("code");
      // the platform ended the link: a mall onboarded from a template is removed everywhere
      return ApiVerdict.connectionEnded(
          APP_UNINSTALLED, code == null || code.isNull() ? "403" : code.asText());
    }
    return ApiVerdict.ok();
  }

  /**
   * Adds {@code X-Cafe24-Api-Version} when {@code api-version} is configured, unless the request
   * already names a version of its own (one endpoint may need a newer one than the rest).
   */
  @Override
  public void decorateApiRequest(Request.Builder request, TokenSet current) {
    String version = config.apiVersion();
    if (version != null && request.build().header(API_VERSION_HEADER) == null) {
      request.header(API_VERSION_HEADER, version);
    }
  }

  @Override
  public String toString() {
    return "Cafe24Provider{" + config + '}';
  }

  // ---- responses --------------------------------------------------------------------------

  /**
   * A token for another mall (the operator logged in to the wrong one, or a copied chain) is never
   * kept under this mall's connection.
   */
  private void checkMall(TokenResponse response) {
    String mallId = response.text("mall_id");
    if (mallId != null && !mallId.equalsIgnoreCase(config.mallId())) {
      throw Verdict.permanent(
              "the token was issued for mall '"
                  + Secrets.scrub(mallId, List.of(), 64)
                  + "', but this connection is for mall '"
                  + config.mallId()
                  + "': authorize again, logged in to the right mall")
          .apply(response.failure().body(null));
    }
  }

  private void extras(TokenResponse response, @Nullable TokenSet current, TokenSet.Builder b) {
    // The raw timestamps are kept: which zone they are in is undocumented.
    b.extra("issued_at_raw", response.requireText("issued_at"))
        .extra("expires_at_raw", response.requireText("expires_at"))
        .extra("mall_id", config.mallId());
    String userId = response.text("user_id");
    if (userId != null) {
      b.extra("user_id", userId);
    }
    // shop_no is a string in the documentation; numbers are read as text too.
    String shopNo = response.text("shop_no");
    if (shopNo != null) {
      b.extra("shop_no", shopNo);
    } else if (config.shopNo() != null && current == null) {
      b.extra("shop_no", config.shopNo());
    }
  }

  private static Temporal timestamp(TokenResponse response, String field, String raw) {
    Temporal t = Cafe24Timestamps.parse(raw);
    if (t == null) {
      throw response.malformed("'" + field + "' is not a date-time like 2021-03-01T14:00:00.000");
    }
    return t;
  }

  /**
   * {@code field - issued_at}, anchored by the caller at the time the answer arrived, so no time
   * zone is ever assumed.
   */
  private static Duration lifetime(TokenResponse response, String field, Duration max) {
    String raw = response.requireText(field);
    Temporal issued = timestamp(response, "issued_at", response.requireText("issued_at"));
    Duration life = Cafe24Timestamps.between(issued, timestamp(response, field, raw));
    if (life == null) {
      throw response.malformed("'" + field + "' and 'issued_at' are not in the same form");
    }
    if (life.isNegative() || life.isZero() || life.compareTo(max) > 0) {
      throw response.malformed(
          "'"
              + field
              + "' is "
              + life.getSeconds()
              + " s after 'issued_at', outside (0, "
              + max.getSeconds()
              + "]");
    }
    return life;
  }

  // ---- errors -----------------------------------------------------------------------------

  /**
   * Reads a failed token-endpoint answer. Cafe24's {@code error} codes are undocumented, so the
   * status and the words of {@code error}/{@code error_description} decide, defensively; whatever
   * is not recognized gets the RFC 6749 reading, under which 5xx, 429 and HTML are TRANSIENT.
   */
  private TokenEndpointException classify(TokenResponse response, Call call, List<String> secrets) {
    TokenEndpointException standard = response.standardError();
    int status = response.status();
    JsonNode json = response.json();
    if (status >= 500 || status == 408 || status == 429 || json == null) {
      return standard;
    }
    String error = response.text("error");
    String description = response.text("error_description");
    TokenEndpointException.Builder b = standard.toBuilder();
    JsonNode nested = json.get("error");
    if (nested != null && nested.isObject()) {
      // Tolerated: Cafe24's Admin API error shape {"error":{"code","message"}} on this endpoint.
      error = textOrNull(nested.get("code"));
      description = textOrNull(nested.get("message"));
      b.platformCode(error)
          .errorDescription(description == null ? null : Secrets.scrub(description, secrets, 200));
    }
    String said =
        ((error == null ? "" : error) + " " + (description == null ? "" : description))
            .toLowerCase(Locale.ROOT);
    String quoted = quote(description != null ? description : error, secrets);
    if (said.contains("client_secret") || said.contains("client secret")) {
      return Verdict.permanent("client secret rejected" + quoted + ": check client-secret")
          .apply(b);
    }
    if (said.contains("client_id") || said.contains("client id")) {
      return Verdict.permanent("client id rejected" + quoted + ": check client-id").apply(b);
    }
    if (call == Call.REFRESH
        && (said.contains("refresh_token")
            || said.contains("refresh token")
            || "invalid_grant".equalsIgnoreCase(error))) {
      return Verdict.permanent(REFRESH_TOKEN_DEAD).apply(b);
    }
    if (said.contains("redirect_uri") || said.contains("redirect uri")) {
      return Verdict.permanent(
              "redirect URI rejected"
                  + quoted
                  + ": redirect-uri must equal the app's registered redirect URI exactly,"
                  + " trailing slash included")
          .apply(b);
    }
    if (call == Call.CODE && (said.contains("code") || "invalid_grant".equalsIgnoreCase(error))) {
      return Verdict.permanent(CODE_DEAD).apply(b);
    }
    if ("invalid_client".equalsIgnoreCase(error) || "unauthorized_client".equalsIgnoreCase(error)) {
      return Verdict.permanent(
              "client credentials rejected" + quoted + ": check client-id and client-secret")
          .apply(b);
    }
    return standard;
  }

  private static String quote(@Nullable String said, List<String> secrets) {
    if (said == null) {
      return "";
    }
    return " (" + Secrets.scrub(said, secrets, 80) + ")";
  }

  private static @Nullable String textOrNull(@Nullable JsonNode node) {
    return node == null || node.isNull() || node.isContainerNode() ? null : node.asText();
  }

  /** Whether a 403's message says the app was removed from the mall (wording undocumented). */
  static boolean saysUninstalled(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("uninstall")
        || m.contains("not installed")
        || (m.contains("app") && (m.contains("removed") || m.contains("deleted")));
  }
}
