package dev.tokenbroker.cafe24;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.Temporal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger LOG = LoggerFactory.getLogger(Cafe24Provider.class);

  /**
   * Keep-alive: Cafe24's refresh token dies after 14 days unused, and each refresh restarts the
   * window. Refreshing once 7 days are left keeps an idle mall connected with a week to spare for
   * outages.
   */
  static final Duration KEEP_ALIVE_BEFORE = Duration.ofDays(7);

  static final String API_VERSION_HEADER = "X-Cafe24-Api-Version";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_PEEK_BYTES = 16 * 1024;

  private final Cafe24Config config;
  private final TokenHttp http;
  private final ConnectionId connection;
  private final Clock clock;
  private final RenewalPolicy policy;
  private final String basicAuthorization;
  private final HttpUrl authorizeUrl;
  private final HttpUrl tokenUrl;
  private final HttpUrl revokeUrl;

  Cafe24Provider(Cafe24Config config, ProviderContext context) {
    this.config = Objects.requireNonNull(config);
    this.http = context.tokenHttp(Cafe24ProviderFactory.NAME);
    this.connection = context.connection();
    this.clock = context.clock();
    this.policy =
        RenewalPolicy.of(config.renewBefore(), Cafe24ProviderFactory.EXPIRY_SKEW)
            .withKeepAliveBefore(KEEP_ALIVE_BEFORE);
    // Cafe24 takes the client credentials in a Basic header only; a newer documentation page
    // shows them as form fields, which we do not trust.
    this.basicAuthorization =
        Credentials.basic(config.clientId(), config.clientSecret(), StandardCharsets.UTF_8);
    this.authorizeUrl = endpoint("api/v2/oauth/authorize");
    this.tokenUrl = endpoint("api/v2/oauth/token");
    this.revokeUrl = endpoint("api/v2/oauth/revoke");
  }

  private HttpUrl endpoint(String path) {
    HttpUrl.Builder b = config.baseUrl().newBuilder();
    List<String> segments = config.baseUrl().pathSegments();
    if (segments.get(segments.size() - 1).isEmpty()) {
      b.removePathSegment(segments.size() - 1); // a base URL ending in '/'
    }
    return b.addPathSegments(path).build();
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
    HttpUrl url =
        authorizeUrl
            .newBuilder()
            .addQueryParameter("response_type", "code")
            .addQueryParameter("client_id", config.clientId())
            .addQueryParameter("state", state)
            .addQueryParameter("redirect_uri", config.redirectUri())
            // Cafe24 joins scopes with commas, not spaces; scopes are validated to need no
            // escaping.
            .addEncodedQueryParameter("scope", String.join(",", config.scopes()))
            .build();
    return url.uri();
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    Objects.requireNonNull(code, "code");
    FormBody form =
        new FormBody.Builder()
            .add("grant_type", "authorization_code")
            .add("code", code)
            .add("redirect_uri", config.redirectUri())
            .build();
    TokenResponse response = http.send(post(tokenUrl, form), false, secrets(code));
    if (!response.isSuccessful()) {
      throw classify(response, Call.CODE, secrets(code));
    }
    return tokenSet(response, null);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) {
      throw TokenEndpointException.builder(name())
          .kind(Kind.PERMANENT)
          .reason("no refresh token stored: authorize the mall again")
          .build();
    }
    FormBody form =
        new FormBody.Builder()
            .add("grant_type", "refresh_token")
            .add("refresh_token", refreshToken)
            .build();
    String[] secrets = secrets(refreshToken, current.accessToken());
    // Every Cafe24 refresh rotates the refresh token: a lost answer may have spent it.
    TokenResponse response = http.send(post(tokenUrl, form), true, secrets);
    if (!response.isSuccessful()) {
      throw classify(response, Call.REFRESH, secrets);
    }
    return tokenSet(response, current);
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
    FormBody form =
        new FormBody.Builder()
            .add("token", token)
            // Cafe24 names it token_hint, not RFC 7009's token_type_hint.
            .add("token_hint", token.equals(refreshToken) ? "refresh_token" : "access_token")
            .build();
    String[] secrets = secrets(current.accessToken(), refreshToken);
    TokenResponse response = http.send(post(revokeUrl, form), false, secrets);
    if (!response.isSuccessful()) {
      throw classify(response, Call.REVOKE, secrets);
    }
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
    JsonNode error = apiError(response);
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

  // ---- requests ---------------------------------------------------------------------------

  private Request post(HttpUrl url, FormBody form) {
    return new Request.Builder()
        .url(url)
        .header("Authorization", basicAuthorization)
        .header("Accept", "application/json")
        .post(form)
        .build();
  }

  private String[] secrets(@Nullable String... more) {
    List<String> all = new ArrayList<>();
    all.add(config.clientSecret());
    all.add(basicAuthorization.substring("Basic ".length()));
    for (String s : more) {
      if (s != null) {
        all.add(s);
      }
    }
    return all.toArray(new String[0]);
  }

  // ---- responses --------------------------------------------------------------------------

  /**
   * The token set in a successful answer. Cafe24 sends no {@code expires_in}: lifetimes are the
   * differences {@code expires_at - issued_at} and {@code refresh_token_expires_at - issued_at},
   * anchored to the time the answer arrived, so no time zone is ever assumed.
   */
  private TokenSet tokenSet(TokenResponse response, @Nullable TokenSet current) {
    if (response.json() == null) {
      throw response.malformed("the answer is not a JSON object");
    }
    String mallId = response.text("mall_id");
    if (mallId != null && !mallId.equalsIgnoreCase(config.mallId())) {
      // A token for another mall (the operator logged in to the wrong one, or a copied chain):
      // never kept under this mall's connection.
      throw response
          .failure()
          .body(null)
          .kind(Kind.PERMANENT)
          .reason(
              "the token was issued for mall '"
                  + Secrets.scrub(mallId, List.of(), 64)
                  + "', but this connection is for mall '"
                  + config.mallId()
                  + "': authorize again, logged in to the right mall")
          .build();
    }
    String accessProblem = response.tokenProblem("access_token", true);
    if (accessProblem != null) {
      if (current != null
          && response.has("refresh_token")
          && response.tokenProblem("refresh_token", false) == null) {
        return keepNewRefreshToken(response, current, accessProblem);
      }
      throw response.malformed(accessProblem);
    }
    String accessToken = response.requireToken("access_token", true);
    String issuedRaw = response.requireText("issued_at");
    String expiresRaw = response.requireText("expires_at");
    Temporal issued = timestamp(response, "issued_at", issuedRaw);
    Duration accessLife = lifetime(response, "expires_at", expiresRaw, issued, MAX_ACCESS_LIFETIME);
    String tokenType = response.tokenType("token_type");
    Instant receivedAt = response.receivedAt();

    TokenSet.Builder b = TokenSet.builder();
    if (current != null) {
      // What this answer leaves out (user_id on some refreshes) stays as it was.
      b.extras(current.extras()).scopes(current.scopes());
    }
    b.accessToken(accessToken)
        .issuedAt(receivedAt)
        .expiresAt(receivedAt.plus(accessLife))
        .extra("issued_at_raw", issuedRaw)
        .extra("expires_at_raw", expiresRaw);

    if (response.has("refresh_token")) {
      // A bad one on a refresh: Cafe24 rotated and the stored one is dead, so the outcome is
      // unknown (malformed says so); the access token alone cannot keep the mall connected.
      String refreshToken = response.requireToken("refresh_token", false);
      String refreshRaw = response.requireText("refresh_token_expires_at");
      Duration refreshLife =
          lifetime(response, "refresh_token_expires_at", refreshRaw, issued, MAX_REFRESH_LIFETIME);
      b.refreshToken(refreshToken)
          .refreshExpiresAt(receivedAt.plus(refreshLife))
          .extra("refresh_token_expires_at_raw", refreshRaw);
    } else if (current != null && current.refreshToken() != null) {
      // Cafe24 documents a new refresh token on every refresh; should one be missing, keep the
      // old one with its expiry rather than lose the connection.
      b.refreshToken(current.refreshToken()).refreshExpiresAt(current.refreshExpiresAt());
    } else {
      throw response.malformed("no 'refresh_token' in the response");
    }

    if (tokenType != null) {
      b.tokenType(tokenType); // Cafe24 sometimes omits it; Bearer is the default
    }
    List<String> scopes = scopes(response);
    if (scopes != null) {
      b.scopes(scopes);
    }
    b.extra("mall_id", config.mallId());
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
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      // TokenSet's own checks; their messages name fields, never values.
      throw response.malformed(e.getMessage());
    }
  }

  /**
   * A refresh answer with a good refresh token and an unusable access token. Cafe24 has already
   * rotated: the old refresh token is dead, so throwing the answer away would strand the mall. The
   * new refresh token is kept (and saved by the broker) beside the access token renewed from, whose
   * expiry is unchanged, so the broker renews again — with the new refresh token — when it is due;
   * the bad access token is reported in the log.
   */
  private TokenSet keepNewRefreshToken(
      TokenResponse response, TokenSet current, String accessProblem) {
    String refreshToken = response.requireToken("refresh_token", false);
    // Its expiry must be readable as usual: an answer broken beyond the access token is unusable
    // as a whole (malformed: the outcome is unknown), not half kept.
    String refreshRaw = response.requireText("refresh_token_expires_at");
    Temporal issued = timestamp(response, "issued_at", response.requireText("issued_at"));
    Instant refreshExpiresAt =
        response
            .receivedAt()
            .plus(
                lifetime(
                    response,
                    "refresh_token_expires_at",
                    refreshRaw,
                    issued,
                    MAX_REFRESH_LIFETIME));
    LOG.warn(
        "connection {}: Cafe24 answered the refresh with an unusable access token ({}); kept the"
            + " new refresh token so the mall stays connected; the next renewal asks again",
        connection,
        accessProblem);
    try {
      return current.toBuilder()
          .refreshToken(refreshToken)
          .refreshExpiresAt(refreshExpiresAt)
          .extra("refresh_token_expires_at_raw", refreshRaw)
          .build();
    } catch (IllegalArgumentException e) {
      throw response.malformed(accessProblem);
    }
  }

  private static Temporal timestamp(TokenResponse response, String field, String raw) {
    Temporal t = Cafe24Timestamps.parse(raw);
    if (t == null) {
      throw response.malformed("'" + field + "' is not a date-time like 2021-03-01T14:00:00.000");
    }
    return t;
  }

  private static Duration lifetime(
      TokenResponse response, String field, String raw, Temporal issued, Duration max) {
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

  private static @Nullable List<String> scopes(TokenResponse response) {
    JsonNode json = Objects.requireNonNull(response.json());
    JsonNode node = json.get("scopes");
    if (node == null || node.isNull()) {
      return null;
    }
    List<String> scopes = new ArrayList<>();
    if (node.isArray()) {
      for (JsonNode s : node) {
        if (s.isTextual() && !s.asText().isBlank()) {
          scopes.add(s.asText().trim());
        }
      }
    } else if (node.isTextual()) {
      // Tolerated: a comma- or space-separated string, as in the authorize URL.
      for (String s : node.asText().split("[,\\s]+")) {
        if (!s.isEmpty()) {
          scopes.add(s);
        }
      }
    } else {
      throw response.malformed("'scopes' is neither a list nor text");
    }
    return scopes;
  }

  // ---- errors -----------------------------------------------------------------------------

  private enum Call {
    CODE,
    REFRESH,
    REVOKE
  }

  /**
   * Reads a failed token-endpoint answer. Cafe24's {@code error} codes are undocumented, so the
   * status and the words of {@code error}/{@code error_description} decide, defensively; whatever
   * is not recognized gets the RFC 6749 reading, under which 5xx, 429 and HTML are TRANSIENT.
   */
  private TokenEndpointException classify(TokenResponse response, Call call, String[] secrets) {
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
          .errorDescription(
              description == null ? null : Secrets.scrub(description, List.of(secrets), 200));
    }
    String said =
        ((error == null ? "" : error) + " " + (description == null ? "" : description))
            .toLowerCase(Locale.ROOT);
    String quoted = quote(description != null ? description : error, secrets);
    if (said.contains("client_secret") || said.contains("client secret")) {
      return b.kind(Kind.PERMANENT)
          .reason("client secret rejected" + quoted + ": check client-secret")
          .build();
    }
    if (said.contains("client_id") || said.contains("client id")) {
      return b.kind(Kind.PERMANENT)
          .reason("client id rejected" + quoted + ": check client-id")
          .build();
    }
    if (call == Call.REFRESH
        && (said.contains("refresh_token")
            || said.contains("refresh token")
            || "invalid_grant".equalsIgnoreCase(error))) {
      return b.kind(Kind.PERMANENT).reason(REFRESH_TOKEN_DEAD).build();
    }
    if (said.contains("redirect_uri") || said.contains("redirect uri")) {
      return b.kind(Kind.PERMANENT)
          .reason(
              "redirect URI rejected"
                  + quoted
                  + ": redirect-uri must equal the app's registered redirect URI exactly,"
                  + " trailing slash included")
          .build();
    }
    if (call == Call.CODE && (said.contains("code") || "invalid_grant".equalsIgnoreCase(error))) {
      return b.kind(Kind.PERMANENT).reason(CODE_DEAD).build();
    }
    if ("invalid_client".equalsIgnoreCase(error) || "unauthorized_client".equalsIgnoreCase(error)) {
      return b.kind(Kind.PERMANENT)
          .reason("client credentials rejected" + quoted + ": check client-id and client-secret")
          .build();
    }
    return standard;
  }

  private static String quote(@Nullable String said, String[] secrets) {
    if (said == null) {
      return "";
    }
    return " (" + Secrets.scrub(said, List.of(secrets), 80) + ")";
  }

  private static @Nullable String textOrNull(@Nullable JsonNode node) {
    return node == null || node.isNull() || node.isContainerNode() ? null : node.asText();
  }

  private static @Nullable JsonNode apiError(Response response) {
    try {
      String body = response.peekBody(MAX_PEEK_BYTES).string();
      JsonNode json = JSON.readTree(body);
      JsonNode error = json == null ? null : json.get("error");
      if (error != null && error.isObject()) {
        return error;
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return null; // not Cafe24's JSON (an HTML page): nothing to read
    }
  }

  /** Whether a 403's message says the app was removed from the mall (wording undocumented). */
  static boolean saysUninstalled(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("uninstall")
        || m.contains("not installed")
        || (m.contains("app") && (m.contains("removed") || m.contains("deleted")));
  }
}
