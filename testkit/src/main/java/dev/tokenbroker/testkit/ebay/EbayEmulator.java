package dev.tokenbroker.testkit.ebay;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * eBay's OAuth endpoints, as eBay documents them (developer.ebay.com/api-docs/static/oauth-*.html)
 * and, where it does not, as {@code docs/providers.md} says we assume:
 *
 * <ul>
 *   <li>{@code POST /identity/v1/oauth2/token}, form-encoded, the client authenticated by HTTP
 *       Basic only (credentials in the body are refused);
 *   <li>{@code GET /oauth2/authorize} (eBay serves it on {@code auth.ebay.com}; here on the same
 *       port): {@code redirect_uri} is the app's <em>RuName</em>, an opaque name, and the browser
 *       goes to the "accept URL" registered for it with {@code code}, {@code state} and {@code
 *       expires_in=299};
 *   <li>codes single-use, bound to client and RuName, 299 s;
 *   <li>user tokens: access 7200 s, refresh 47,304,000 s (18 months), {@code token_type "User
 *       Access Token"}; a refresh needs {@code scope}, a subset of the consented scopes, and does
 *       <em>not</em> rotate: the answer has no {@code refresh_token} and the old one keeps working
 *       until its own expiry;
 *   <li>application tokens by client credentials ({@code token_type "Application Access Token"}),
 *       no refresh token, scopes within the keyset's;
 *   <li>errors as RFC 6749 JSON, {@code {"error", "error_description"}}, with eBay's wording;
 *   <li>no revocation endpoint: a user withdraws consent on eBay's site ({@link #withdrawConsent}).
 * </ul>
 *
 * <p>Tokens look like eBay's documented samples ({@code v^1.1#i^1#…}) unless {@link
 * #ebayShapedTokens(boolean) told otherwise}. Thread-safe; time from the clock given.
 */
public final class EbayEmulator extends EmulatorServer {
  /** The token endpoint's path (api.ebay.com and api.sandbox.ebay.com). */
  public static final String TOKEN_PATH = "/identity/v1/oauth2/token";

  /** The consent endpoint's path (auth.ebay.com and auth.sandbox.ebay.com). */
  public static final String AUTHORIZE_PATH = "/oauth2/authorize";

  /** The scope every keyset has, and the only one application tokens usually need. */
  public static final String API_SCOPE = "https://api.ebay.com/oauth/api_scope";

  /** User and application access tokens: two hours. */
  public static final Duration ACCESS_TOKEN_LIFETIME = Duration.ofSeconds(7200);

  /** User refresh tokens: 18 months, {@code refresh_token_expires_in: 47304000}. */
  public static final Duration REFRESH_TOKEN_LIFETIME = Duration.ofSeconds(47_304_000);

  /** Authorization codes: {@code expires_in=299} on the redirect. */
  public static final Duration CODE_LIFETIME = Duration.ofSeconds(299);

  private static final String INVALID_GRANT_CODE =
      "the provided authorization grant code is invalid or was issued to another client";
  private static final String INVALID_GRANT_REFRESH =
      "the provided authorization refresh token is invalid or was issued to another client";
  private static final String INVALID_SCOPE =
      "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the"
          + " client";

  private final SecureRandom random = new SecureRandom();
  private final Map<String, App> apps = new ConcurrentHashMap<>();
  private final Map<String, Code> codes = new ConcurrentHashMap<>();
  private final Map<String, Grant> refreshTokens = new ConcurrentHashMap<>();
  private final Map<String, Long> accessTokens = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> grantCounts = new ConcurrentHashMap<>();
  private volatile boolean ebayShaped = true;

  private record App(
      String clientId, String secret, String ruName, String acceptUrl, Set<String> scopes) {}

  private record Code(String clientId, String ruName, Set<String> scopes, long expiresAt) {}

  private record Grant(String clientId, Set<String> scopes, long expiresAt) {}

  /**
   * @param clock the clock every lifetime is measured by
   */
  public EbayEmulator(Clock clock) {
    super(clock);
  }

  /**
   * Registers a keyset and one RuName of it.
   *
   * @param clientId the App ID (client id)
   * @param clientSecret the Cert ID (client secret)
   * @param ruName the RuName, sent as {@code redirect_uri}
   * @param acceptUrl where eBay sends the browser after consent (the RuName's "auth accepted URL")
   * @param scopes the scopes granted to the keyset; {@link #API_SCOPE} is always among them
   * @return this
   */
  public EbayEmulator registerApp(
      String clientId, String clientSecret, String ruName, String acceptUrl, String... scopes) {
    Set<String> granted = new LinkedHashSet<>(List.of(API_SCOPE));
    granted.addAll(Arrays.asList(scopes));
    apps.put(clientId, new App(clientId, clientSecret, ruName, acceptUrl, Set.copyOf(granted)));
    return this;
  }

  /**
   * Whether tokens look like eBay's ({@code v^1.1#i^1#…}, the default) or are letters and digits
   * only. eBay's carry {@code ^} and {@code #}, which are outside RFC 6750's {@code b64token}: a
   * client that insists on that syntax refuses real eBay tokens, and the default shows it.
   *
   * @param ebayShaped false for letters-and-digits tokens
   * @return this
   */
  public EbayEmulator ebayShapedTokens(boolean ebayShaped) {
    this.ebayShaped = ebayShaped;
    return this;
  }

  /**
   * Plays the eBay user: opens the consent URL the client built, consents, and returns the URL eBay
   * sends the browser to (the accept URL with {@code code}, {@code state}, {@code expires_in}).
   *
   * @param authorizationUrl the consent URL
   * @return the accept URL with the code
   * @throws IllegalStateException if eBay would show an error page instead (the message says why)
   */
  public String approve(URI authorizationUrl) {
    return redirectOf(authorizationUrl, "consent page");
  }

  /**
   * The user withdraws the app's access on eBay's site: the refresh token and the access tokens
   * issued with it stop working. eBay documents no API for this.
   *
   * @param refreshToken the user's refresh token
   */
  public void withdrawConsent(String refreshToken) {
    refreshTokens.remove(refreshToken);
  }

  /**
   * Whether an access token is one this emulator issued and has not expired.
   *
   * @param accessToken the access token
   * @return true while it would be accepted
   */
  public boolean isAccessTokenValid(String accessToken) {
    Long expiresAt = accessTokens.get(accessToken);
    return expiresAt != null && clock.millis() < expiresAt;
  }

  /**
   * Whether a refresh token would still be accepted.
   *
   * @param refreshToken the refresh token
   * @return true while it would be accepted
   */
  public boolean isRefreshTokenValid(String refreshToken) {
    Grant g = refreshTokens.get(refreshToken);
    return g != null && clock.millis() < g.expiresAt;
  }

  /**
   * How many token requests carried {@code grant_type} (successful or not).
   *
   * @param grantType {@code authorization_code}, {@code refresh_token} or {@code
   *     client_credentials}
   * @return the count
   */
  public long tokenRequests(String grantType) {
    AtomicLong n = grantCounts.get(grantType);
    return n == null ? 0 : n.get();
  }

  @Override
  protected MockResponse handle(RecordedRequest request) {
    switch (pathOf(request)) {
      case TOKEN_PATH:
        return "POST".equals(request.getMethod())
            ? token(request)
            : error(405, "invalid_request", "method not allowed");
      case AUTHORIZE_PATH:
        return consent(request);
      default:
        return json(404, obj("errors", List.of(obj("errorId", 2002, "message", "Not found"))));
    }
  }

  private MockResponse consent(RecordedRequest request) {
    Map<String, String> q = query(request);
    App app = apps.get(String.valueOf(q.get("client_id")));
    if (app == null || !app.ruName.equals(q.get("redirect_uri"))) {
      // eBay shows its own error page: it never redirects to an unverified place.
      return new MockResponse()
          .setResponseCode(400)
          .setHeader("Content-Type", "text/html")
          .setBody("<html><body>unauthorized_client or unknown RuName</body></html>");
    }
    HttpUrl.Builder to = Objects.requireNonNull(HttpUrl.parse(app.acceptUrl)).newBuilder();
    String state = q.get("state");
    Set<String> scopes = scopes(q.get("scope"));
    if (!"code".equals(q.get("response_type"))) {
      to.addQueryParameter("error", "unsupported_response_type");
    } else if (scopes.isEmpty() || !app.scopes.containsAll(scopes)) {
      to.addQueryParameter("error", "invalid_scope");
    } else {
      String code = token("v^1.1#i^1#r^1#f^0#p^3#I^3#t^", "code");
      long expiresAt = clock.millis() + CODE_LIFETIME.toMillis();
      codes.put(code, new Code(app.clientId, app.ruName, scopes, expiresAt));
      to.addQueryParameter("code", code).addQueryParameter("expires_in", "299");
    }
    if (state != null) {
      to.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", to.build());
  }

  private MockResponse token(RecordedRequest request) {
    Map<String, String> form = form(request);
    String grant = String.valueOf(form.get("grant_type"));
    grantCounts.computeIfAbsent(grant, g -> new AtomicLong()).incrementAndGet();
    String type = request.getHeader("Content-Type");
    if (type == null || !type.startsWith("application/x-www-form-urlencoded")) {
      return error(400, "invalid_request", "request is missing a required parameter or malformed");
    }
    String clientId = basicClient(request);
    if (clientId == null || form.containsKey("client_secret")) {
      return error(401, "invalid_client", "client authentication failed");
    }
    App app = Objects.requireNonNull(apps.get(clientId));
    long now = clock.millis();
    switch (grant) {
      case "authorization_code":
        Code code = codes.remove(String.valueOf(form.get("code"))); // single use, even on failure
        if (code == null
            || now >= code.expiresAt
            || !code.clientId.equals(clientId)
            || !code.ruName.equals(form.get("redirect_uri"))) {
          return error(400, "invalid_grant", INVALID_GRANT_CODE);
        }
        String refresh = token("v^1.1#i^1#p^3#r^1#I^3#f^0#t^", "refresh");
        refreshTokens.put(
            refresh, new Grant(clientId, code.scopes, now + REFRESH_TOKEN_LIFETIME.toMillis()));
        return json(
            200,
            obj(
                "access_token", access(now),
                "expires_in", ACCESS_TOKEN_LIFETIME.toSeconds(),
                "refresh_token", refresh,
                "refresh_token_expires_in", REFRESH_TOKEN_LIFETIME.toSeconds(),
                "token_type", "User Access Token"));
      case "refresh_token":
        Grant g = refreshTokens.get(String.valueOf(form.get("refresh_token")));
        if (g == null || now >= g.expiresAt || !g.clientId.equals(clientId)) {
          return error(400, "invalid_grant", INVALID_GRANT_REFRESH);
        }
        Set<String> asked = scopes(form.get("scope"));
        if (asked.isEmpty()) { // eBay: "you must always supply a valid list of scopes"
          return error(400, "invalid_request", "request is missing a required parameter: scope");
        }
        if (!g.scopes.containsAll(asked)) {
          return error(400, "invalid_scope", INVALID_SCOPE);
        }
        // No rotation: no refresh_token in the answer, the old one lives on until its expiry.
        return json(
            200,
            obj(
                "access_token", access(now),
                "expires_in", ACCESS_TOKEN_LIFETIME.toSeconds(),
                "token_type", "User Access Token"));
      case "client_credentials":
        Set<String> wanted = scopes(form.get("scope"));
        if (wanted.isEmpty() || !app.scopes.containsAll(wanted)) {
          return error(400, "invalid_scope", INVALID_SCOPE);
        }
        return json(
            200,
            obj(
                "access_token", access(now),
                "expires_in", ACCESS_TOKEN_LIFETIME.toSeconds(),
                "token_type", "Application Access Token"));
      default:
        return error(400, "unsupported_grant_type", "grant type in request is not supported");
    }
  }

  /** The client id of a valid {@code Authorization: Basic} header, or null. */
  private @Nullable String basicClient(RecordedRequest request) {
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    App app = colon < 0 ? null : apps.get(decoded.substring(0, colon));
    return app != null && app.secret.equals(decoded.substring(colon + 1))
        ? decoded.substring(0, colon)
        : null;
  }

  private String access(long now) {
    String t = token("v^1.1#i^1#p^3#I^3#r^0#f^0#t^", "access");
    accessTokens.put(t, now + ACCESS_TOKEN_LIFETIME.toMillis());
    return t;
  }

  private String token(String ebayPrefix, String plainPrefix) {
    byte[] b = new byte[24];
    random.nextBytes(b);
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(b).replace('-', 'x');
    return ebayShaped ? ebayPrefix + body.replace('_', 'y') : plainPrefix + body.replace('_', 'y');
  }

  private static Set<String> scopes(@Nullable String text) {
    Set<String> out = new LinkedHashSet<>();
    if (text != null) {
      for (String s : text.trim().split("\\s+")) {
        if (!s.isEmpty()) {
          out.add(s);
        }
      }
    }
    return out;
  }

  private static MockResponse error(int status, String error, String description) {
    return json(status, obj("error", error, "error_description", description));
  }
}
