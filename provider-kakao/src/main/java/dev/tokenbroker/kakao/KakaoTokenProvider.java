package dev.tokenbroker.kakao;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
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
import dev.tokenbroker.spi.TokenAnswer;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Kakao Login for one connection. Stateless apart from its configuration; thread-safe.
 *
 * <p>Token requests carry the credentials in the form body (Kakao takes no Basic header). A refresh
 * answers without a refresh token until the stored one has less than about a month left: the stored
 * refresh token, its expiry and the scopes are then kept.
 */
final class KakaoTokenProvider implements TokenProvider {
  /** Kakao's access tokens live 6 h (REST) or 12 h (native); a week means a broken answer. */
  static final Duration MAX_ACCESS_LIFETIME = Duration.ofDays(7);

  /** Kakao's refresh tokens live about 2 months; a year means a broken answer. */
  static final Duration MAX_REFRESH_LIFETIME = Duration.ofDays(366);

  /** The Health reason code of a user who unlinked the app ({@code -101} on an API call). */
  static final String UNLINKED = "unlinked";

  /** Token info may shorten a stored expiry, but not over clock noise. */
  private static final Duration EXPIRY_TOLERANCE = Duration.ofMinutes(1);

  private static final MediaType FORM =
      MediaType.get("application/x-www-form-urlencoded;charset=utf-8");

  private final KakaoConfig config;
  private final TokenHttp http;
  private final RenewalPolicy renewalPolicy;
  private final OAuthClient client;
  private final TokenAnswer answer;

  KakaoTokenProvider(KakaoConfig config, ProviderContext context) {
    this.config = config;
    this.http = context.tokenHttp(KakaoProviderFactory.NAME);
    this.renewalPolicy = config.renewal.withKeepAliveBefore(config.keepAliveBefore);
    // Kakao takes the credentials in the form body (no Basic header); the secret is optional.
    OAuthEndpoint endpoint =
        OAuthEndpoint.of(OAuthEndpoint.resolve(config.authBase, "oauth/token"), ClientAuth.FORM)
            .withAuthorizeUrl(OAuthEndpoint.resolve(config.authBase, "oauth/authorize"));
    this.client =
        OAuthClient.builder(endpoint, config.clientId, http)
            .clientSecret(config.clientSecret)
            .formContentType("application/x-www-form-urlencoded;charset=utf-8")
            .build();
    this.answer =
        TokenAnswer.builder("Kakao", context.connection())
            .accessLifetime(TokenAnswer.seconds("expires_in", MAX_ACCESS_LIFETIME))
            // Kakao sends a refresh token with its lifetime, and only in its last month on refresh.
            .refreshLifetime(TokenAnswer.seconds("refresh_token_expires_in", MAX_REFRESH_LIFETIME))
            // Kakao separates granted scopes with spaces; commas are tolerated as well.
            .scopes(TokenAnswer.scopeList("scope", "[\\s,]+"))
            .bearerOnly(true)
            .firstAnswerNeedsRefreshToken(true)
            .build();
    // An id_token (OpenID Connect) is ignored: this library keeps API access alive, not sign-in.
  }

  @Override
  public String name() {
    return KakaoProviderFactory.NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.AUTHORIZATION_CODE;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return renewalPolicy;
  }

  @Override
  public boolean usesPkce() {
    return config.pkce;
  }

  @Override
  public boolean validatesOnLoad() {
    return config.validateOnLoad;
  }

  @Override
  public URI authorizationUrl(String state, @Nullable String codeChallenge) {
    if (config.pkce && codeChallenge == null) {
      throw new IllegalArgumentException(
          "PKCE is on for this connection: a code challenge is required");
    }
    // Kakao joins scopes with commas in the authorize URL (and with spaces in token responses).
    String challenge = config.pkce ? codeChallenge : null;
    return client
        .authorizationUrl(state, config.redirectUri, config.scopes, ",", challenge)
        .build()
        .uri();
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    if (config.pkce && codeVerifier == null) {
      throw new IllegalArgumentException(
          "PKCE is on for this connection: a code verifier is required");
    }
    TokenResponse r =
        client
            .codeRequest(code, config.redirectUri, config.pkce ? codeVerifier : null)
            .sendOrThrow(false, (x, secrets) -> KakaoErrors.token(x, Call.CODE));
    return answer.read(r, null);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    TokenResponse r =
        client
            .refreshRequest(current, "the user must log in again")
            .sendOrThrow(true, (x, secrets) -> KakaoErrors.token(x, Call.REFRESH));
    return answer.read(r, current);
  }

  /**
   * The Kakao user id of a freshly issued set, for naming a {@code kakao:{user}} connection after
   * the code exchange: the {@code user_id} extra if {@link #validate} recorded it already, else
   * asked from token info ({@code GET /v1/user/access_token_info}, whose {@code id} is the user id)
   * through {@link #validate}, so a token minted for another app ({@code app-id}) is refused here
   * too.
   *
   * @throws TokenEndpointException if token info cannot be asked or refuses the token: without the
   *     user id the connection cannot be named
   */
  @Override
  public String subjectOf(TokenSet issued) {
    String known = issued.extras().get(KakaoProviderFactory.USER_ID);
    if (known != null) {
      return known;
    }
    // validate requires the user id: token info without one is malformed there
    return Objects.requireNonNull(validate(issued).extras().get(KakaoProviderFactory.USER_ID));
  }

  @Override
  public TokenSet validate(TokenSet current) {
    TokenResponse r = kapi("access_token_info", null, current.accessToken());
    if (!r.isSuccessful()) {
      throw KakaoErrors.api(r, "token info");
    }
    long userId = r.requireNumber("id");
    // The legacy token-info shape (older SDKs document it) names them appId and expiresInMillis.
    long appId =
        r.has("app_id") || !r.has("appId") ? r.requireNumber("app_id") : r.requireNumber("appId");
    if (config.appId != null && appId != config.appId) {
      throw Verdict.permanent(
              "token was issued for another app (app_id "
                  + appId
                  + ", this connection's app-id is "
                  + config.appId
                  + ")")
          .apply(r.failure());
    }
    if (config.subjectUserId != null && userId != config.subjectUserId) {
      // A kakao:{user} connection holding another user's token: a mix-up that must not be used.
      throw Verdict.permanent("token belongs to another Kakao user than this connection's")
          .apply(r.failure());
    }
    TokenSet.Builder b =
        current.toBuilder()
            .extra(KakaoProviderFactory.USER_ID, Long.toString(userId))
            .extra(KakaoProviderFactory.APP_ID, Long.toString(appId));
    Long remaining = r.number("expires_in");
    if (remaining == null) {
      Long millis = r.number("expiresInMillis");
      remaining = millis == null ? null : millis / 1000;
    }
    if (remaining != null && remaining > 0) {
      // Trust Kakao over a stored expiry that is later than what Kakao says (a copied token set).
      Instant reported = r.receivedAt().plusSeconds(remaining);
      if (reported.plus(EXPIRY_TOLERANCE).isBefore(current.expiresAt())
          && reported.isAfter(current.issuedAt())) {
        b.expiresAt(reported);
      }
    }
    return b.build();
  }

  /**
   * Logs out ({@link Revocation#TOKENS}) or unlinks ({@link Revocation#UNLINK}) the user with the
   * access token. Both end every token of the user for the app. If Kakao no longer accepts the
   * access token (expired), the refresh token may still be alive: it is renewed once and the call
   * repeated with the new access token, which ends the renewed set too, so it is not returned.
   */
  @Override
  public void revoke(TokenSet current, Revocation revocation) {
    boolean unlink = revocation == Revocation.UNLINK;
    String what = unlink ? "unlink" : "logout";
    TokenResponse r = kapi(what, RequestBody.create(new byte[0], FORM), current.accessToken());
    if (r.isSuccessful()) {
      return;
    }
    Integer code = KakaoErrors.kapiCode(r.json());
    if (r.json() != null && KakaoErrors.isTokenRejected(r.status(), code)) {
      // The access token is no longer accepted. Renewing it here would spend the refresh token
      // outside the broker's single flight, lease and save: report it, and the broker renews
      // through its normal path, saves, and calls again with the new token.
      throw TokenEndpointException.builder(KakaoProviderFactory.NAME)
          .httpStatus(r.status())
          .platformCode(code == null ? null : String.valueOf(code))
          .kind(Kind.TOKEN_REJECTED)
          .reason("the access token was not accepted for " + what)
          .build();
    }
    if (unlink && code != null && code == -101) {
      return; // already unlinked
    }
    throw KakaoErrors.api(r, what);
  }

  /**
   * A kapi call under {@code /v1/user/} with the access token: a GET, or a POST of {@code body}.
   */
  private TokenResponse kapi(String path, @Nullable RequestBody body, String accessToken) {
    Request request =
        new Request.Builder()
            .url(config.apiBase.newBuilder().addPathSegments("v1/user/" + path).build())
            .method(body == null ? "GET" : "POST", body)
            .header("Authorization", "Bearer " + accessToken)
            .header("Accept", "application/json")
            .build();
    return http.send(request, false, accessToken);
  }

  @Override
  public ApiVerdict classifyApiResponse(Response response) {
    JsonNode json = TokenHttp.peekJson(response);
    Integer code = KakaoErrors.kapiCode(json);
    if (KakaoErrors.isTokenRejected(response.code(), code)) {
      return ApiVerdict.tokenRejected();
    }
    if (code == null) {
      return ApiVerdict.ok();
    }
    if (code == -101) {
      // The Health reason code, as ApiVerdict.connectionDead asks: the user unlinked the app.
      // The platform ended the link: a user connected from a template is removed everywhere.
      return ApiVerdict.connectionEnded(UNLINKED, "-101");
    }
    if (code == -402) {
      List<String> required = new ArrayList<>();
      JsonNode scopes = json == null ? null : json.get("required_scopes");
      if (scopes != null && scopes.isArray()) {
        scopes.forEach(s -> required.add(s.asText()));
      }
      // A consent this connection is configured to hold is missing: the user declined or withdrew
      // it, and only a new authorization brings it back. A scope outside the configuration is the
      // calling code's business: the connection works for everything it was set up for.
      if (!required.isEmpty() && config.scopes.containsAll(required)) {
        return ApiVerdict.connectionDead(
            "consent missing for " + required + ": the user must authorize again", "-402");
      }
    }
    // -10 (quota), -9798 (maintenance), 5xx and the rest: not about the token.
    return ApiVerdict.ok();
  }

  @Override
  public String toString() {
    return "KakaoTokenProvider{" + config + '}';
  }
}
