package dev.tokenbroker.testkit.kakao;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * Kakao Login on one local server: the authorization server ({@code kauth.kakao.com}: {@value
 * #AUTHORIZE_PATH}, {@value #TOKEN_PATH}) and the user API ({@code kapi.kakao.com}: token info,
 * logout, unlink, and two API calls to exercise an OkHttp interceptor), so one {@link #baseUrl()}
 * serves as both the auth and the API base URL.
 *
 * <p>What it enforces, as Kakao does:
 *
 * <ul>
 *   <li>Registered apps: a REST API key, an app id, registered redirect URIs, and optionally a
 *       client secret that every token request must then carry in its form body ({@code KOE010}
 *       otherwise; an unknown {@code client_id} is {@code KOE101}).
 *   <li>Authorize auto-approves as the {@linkplain #loginAs current user} and redirects (302) with
 *       {@code code} and {@code state}, or with {@code error=access_denied} when {@linkplain
 *       #denyAuthorization denying}. An unknown client or unregistered redirect URI gets an error
 *       page, no redirect ({@code KOE101}, {@code KOE006}).
 *   <li>Codes are single-use and expire ({@code KOE320}); the exchange must repeat the authorize
 *       request's {@code redirect_uri} ({@code KOE303}); a PKCE S256 challenge, when given, must be
 *       matched by {@code code_verifier}.
 *   <li>Access tokens live {@value #DEFAULT_ACCESS_TOKEN_SECONDS} s, refresh tokens {@value
 *       #DEFAULT_REFRESH_TOKEN_SECONDS} s (settable). A refresh answers without {@code
 *       refresh_token} unless the refresh token has less than the {@linkplain #rotationWindow
 *       rotation window} (30 days) left; then it answers with a new one and the old one is dead
 *       ({@code KOE322}). Old access tokens keep working until they expire.
 *   <li>The user API wants {@code Authorization: Bearer}; unknown or expired tokens get 401 {@code
 *       -401}; logout expires the user's tokens for the app, unlink also removes the link (and its
 *       consents); the memo API wants the {@code talk_message} consent ({@code -402} otherwise).
 *   <li>A user who unlinks outside the service ({@link #unlinkOutside}) loses their tokens and
 *       link, and Kakao's unlink callback is produced: {@code Authorization: KakaoAK {admin key}}
 *       with {@code app_id}, {@code user_id} and {@code referrer_type}, sent by {@link
 *       UnlinkNotice#send} to a loopback URL with GET or POST, as an app registers it.
 * </ul>
 *
 * <p>Time comes from the injected clock. Thread-safe: all state sits behind one lock. Faults and
 * gates come from {@link EmulatorServer}; {@link #kauthError} and {@link #kapiError} build faults
 * shaped like Kakao's errors.
 */
public final class KakaoEmulator extends EmulatorServer {
  /** kauth's authorization endpoint. */
  public static final String AUTHORIZE_PATH = "/oauth/authorize";

  /** kauth's token endpoint. */
  public static final String TOKEN_PATH = "/oauth/token";

  /** kapi's token info endpoint. */
  public static final String TOKEN_INFO_PATH = "/v1/user/access_token_info";

  /** kapi's logout endpoint. */
  public static final String LOGOUT_PATH = "/v1/user/logout";

  /** kapi's unlink endpoint. */
  public static final String UNLINK_PATH = "/v1/user/unlink";

  /** "Get user information": any valid token will do. */
  public static final String USER_ME_PATH = "/v2/user/me";

  /** "Send to me" (Kakao Talk memo): needs the {@code talk_message} consent. */
  public static final String MEMO_PATH = "/v2/api/talk/memo/default/send";

  /** Kakao's access token lifetime as {@code expires_in}: about 6 hours. */
  public static final long DEFAULT_ACCESS_TOKEN_SECONDS = 21_599;

  /** Kakao's refresh token lifetime as {@code refresh_token_expires_in}: about 60 days. */
  public static final long DEFAULT_REFRESH_TOKEN_SECONDS = 5_183_999;

  /** The user authorize approves as until {@link #loginAs} says otherwise. */
  public static final long DEFAULT_USER_ID = 3_141_592_653L;

  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9._~-]{43,128}");
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final Object lock = new Object();
  private final SecureRandom random = new SecureRandom();
  private final OkHttpClient browser = new OkHttpClient.Builder().followRedirects(false).build();

  // ---- state, guarded by lock ----
  private final Map<String, App> apps = new HashMap<>();
  private final Map<String, Link> links = new HashMap<>();
  private final Map<String, Code> codes = new HashMap<>();
  private final Map<String, Grant> accessTokens = new HashMap<>();
  private final Map<String, Grant> refreshTokens = new HashMap<>();
  private long currentUser = DEFAULT_USER_ID;
  private boolean deny;
  private Set<String> declined = Set.of();
  private List<String> defaultScopes = List.of("profile_nickname");
  private Duration accessLifetime = Duration.ofSeconds(DEFAULT_ACCESS_TOKEN_SECONDS);
  private Duration refreshLifetime = Duration.ofSeconds(DEFAULT_REFRESH_TOKEN_SECONDS);
  private Duration rotationWindow = Duration.ofDays(30);
  private Duration codeLifetime = Duration.ofMinutes(10);
  private boolean idToken;

  private final AtomicInteger tokenRequests = new AtomicInteger();
  private final AtomicInteger codeExchanges = new AtomicInteger();
  private final AtomicInteger refreshes = new AtomicInteger();
  private final AtomicInteger rotations = new AtomicInteger();
  private final AtomicInteger tokenInfoRequests = new AtomicInteger();
  private final AtomicInteger logouts = new AtomicInteger();
  private final AtomicInteger unlinks = new AtomicInteger();

  /**
   * @param clock the clock every token lifetime and code expiry is measured by
   */
  public KakaoEmulator(Clock clock) {
    super(clock);
  }

  // ---- configuration ---------------------------------------------------------------------

  /**
   * Registers an app: its REST API key (the {@code client_id}), its numeric app id (what token info
   * reports as {@code app_id}) and its redirect URIs, matched exactly.
   *
   * @param restApiKey the app's REST API key
   * @param appId the app's id
   * @param redirectUris the redirect URIs the app accepts
   * @return this emulator
   */
  public KakaoEmulator registerApp(String restApiKey, long appId, String... redirectUris) {
    Objects.requireNonNull(restApiKey, "restApiKey");
    Set<String> uris = new LinkedHashSet<>();
    for (String uri : redirectUris) {
      if (HttpUrl.parse(uri) == null) {
        throw new IllegalArgumentException("redirect URI must be an http(s) URL: " + uri);
      }
      uris.add(uri);
    }
    synchronized (lock) {
      apps.put(restApiKey, new App(restApiKey, appId, uris));
    }
    return this;
  }

  /**
   * Turns on the app's client secret: every token request for it must then send {@code
   * client_secret} in the form body. Null turns it off again.
   *
   * @param clientSecret the app's client secret
   * @param restApiKey the app's REST API key
   * @return this emulator
   */
  public KakaoEmulator clientSecret(String restApiKey, @Nullable String clientSecret) {
    synchronized (lock) {
      app(restApiKey).clientSecret = clientSecret;
    }
    return this;
  }

  /**
   * Sets the app's primary admin key, which Kakao sends in its unlink callbacks.
   *
   * @param restApiKey the app's REST API key
   * @param adminKey the admin key
   * @return this emulator
   */
  public KakaoEmulator adminKey(String restApiKey, String adminKey) {
    synchronized (lock) {
      app(restApiKey).adminKey = Objects.requireNonNull(adminKey, "adminKey");
    }
    return this;
  }

  /**
   * The user unlinks the app outside the service (Kakao account settings, account deletion,
   * customer service): every token of the user for the app dies, the link and its consents go, and
   * Kakao's unlink callback is returned, ready to {@linkplain UnlinkNotice#send send}.
   *
   * @param restApiKey the app's REST API key (the app needs an {@link #adminKey})
   * @param userId the user
   * @param referrerType why, e.g. {@code UNLINK_FROM_APPS}, {@code ACCOUNT_DELETE}
   * @return the callback Kakao sends
   */
  public UnlinkNotice unlinkOutside(String restApiKey, long userId, String referrerType) {
    synchronized (lock) {
      App app = app(restApiKey);
      if (app.adminKey == null) {
        throw new IllegalStateException("set the app's adminKey first: Kakao sends it");
      }
      expireTokens(app, userId);
      links.remove(linkKey(app, userId));
      Map<String, String> parameters = new LinkedHashMap<>();
      parameters.put("app_id", Long.toString(app.appId));
      parameters.put("user_id", Long.toString(userId));
      parameters.put("referrer_type", referrerType);
      return new UnlinkNotice("KakaoAK " + app.adminKey, parameters);
    }
  }

  /**
   * Whom authorize approves as from now on.
   *
   * @param userId the user
   * @return this emulator
   */
  public KakaoEmulator loginAs(long userId) {
    synchronized (lock) {
      currentUser = userId;
    }
    return this;
  }

  /**
   * When true, authorize redirects with {@code error=access_denied} (the user pressed cancel).
   *
   * @param deny whether to deny
   * @return this emulator
   */
  public KakaoEmulator denyAuthorization(boolean deny) {
    synchronized (lock) {
      this.deny = deny;
    }
    return this;
  }

  /**
   * Optional consent items the user unticks on the consent screen from now on.
   *
   * @param scopes the scopes
   * @return this emulator
   */
  public KakaoEmulator declineScopes(String... scopes) {
    synchronized (lock) {
      declined = Set.of(scopes);
    }
    return this;
  }

  /**
   * What a user consents to when authorize names no {@code scope} (the app's consent items).
   *
   * @param scopes the scopes
   * @return this emulator
   */
  public KakaoEmulator defaultScopes(String... scopes) {
    synchronized (lock) {
      defaultScopes = List.of(scopes);
    }
    return this;
  }

  /**
   * @param lifetime the access token lifetime of tokens issued from now on
   * @return this emulator
   */
  public KakaoEmulator accessTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      accessLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * @param lifetime the refresh token lifetime of tokens issued from now on
   * @return this emulator
   */
  public KakaoEmulator refreshTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      refreshLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * A refresh hands out a new refresh token (and kills the old one) only when the old one has less
   * than this left. Kakao says "about one month"; default 30 days.
   *
   * @param window the window
   * @return this emulator
   */
  public KakaoEmulator rotationWindow(Duration window) {
    synchronized (lock) {
      rotationWindow = Objects.requireNonNull(window);
    }
    return this;
  }

  /**
   * How long a code can be exchanged. Kakao does not document it [open]; default 10 minutes.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public KakaoEmulator codeLifetime(Duration lifetime) {
    synchronized (lock) {
      codeLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * When true, token responses carry an {@code id_token}, as with OpenID Connect enabled.
   *
   * @param on whether it is on
   * @return this emulator
   */
  public KakaoEmulator issueIdToken(boolean on) {
    synchronized (lock) {
      idToken = on;
    }
    return this;
  }

  // ---- things that happen outside the protocol -------------------------------------------

  /**
   * Expires every access token of {@code userId} at once, refresh tokens untouched.
   *
   * @param userId the user
   */
  public void expireAccessTokens(long userId) {
    synchronized (lock) {
      accessTokens.values().removeIf(g -> g.userId == userId);
    }
  }

  /**
   * The user withdraws one consent item for the app in their Kakao account settings.
   *
   * @param restApiKey the app's REST API key
   * @param userId the user
   * @param scope the scope
   */
  public void withdrawConsent(String restApiKey, long userId, String scope) {
    synchronized (lock) {
      Link link = links.get(linkKey(app(restApiKey), userId));
      if (link != null) {
        link.scopes.remove(scope);
      }
    }
  }

  /**
   * Issues tokens as if the {@linkplain #loginAs current user} had just authorized {@code
   * restApiKey} for {@code scopes}, without the browser step: what a token store would hold.
   *
   * @param restApiKey the app's REST API key
   * @param scopes the scopes
   * @return the new token set
   */
  public TokenSet issueTokens(String restApiKey, String... scopes) {
    synchronized (lock) {
      App app = app(restApiKey);
      Link link = link(app, currentUser);
      link.scopes.addAll(List.of(scopes));
      Instant now = clock.instant();
      Issued issued = issue(app, currentUser, true);
      return TokenSet.builder()
          .accessToken(issued.access)
          .expiresAt(now.plus(accessLifetime))
          .refreshToken(issued.refresh)
          .refreshExpiresAt(now.plus(refreshLifetime))
          .scopes(link.scopes)
          .issuedAt(now)
          .build();
    }
  }

  // ---- what a test can observe -----------------------------------------------------------

  /**
   * What a browser does with an authorization URL: opens it, the user approves (or denies, see
   * {@link #denyAuthorization}), and the browser lands on the returned redirect URL.
   *
   * @param authorizationUrl the URL the broker built
   * @return what a browser does with an authorization URL: opens it, the user approves (or denies,
   *     see {@link #denyAuthorization}), and the browser lands on the returned redirect URL
   * @throws IllegalStateException if authorize answers with an error page instead of a redirect
   */
  public String followAuthorization(URI authorizationUrl) {
    Request request = new Request.Builder().url(authorizationUrl.toString()).build();
    try (Response response = browser.newCall(request).execute()) {
      String location = response.header("Location");
      if (response.code() != 302 || location == null) {
        ResponseBody body = response.body();
        throw new IllegalStateException(
            "authorize answered HTTP "
                + response.code()
                + " instead of a redirect: "
                + (body == null ? "" : body.string()));
      }
      return location;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether the user is still linked to the app (not unlinked).
   *
   * @param restApiKey the app
   * @param userId the user
   * @return true while linked
   */
  public boolean isLinked(String restApiKey, long userId) {
    synchronized (lock) {
      return links.containsKey(linkKey(app(restApiKey), userId));
    }
  }

  /**
   * The consents of the link between the app and the user in order, empty when not linked.
   *
   * @param restApiKey the app's REST API key
   * @param userId the user
   * @return the consents of the link between the app and the user in order, empty when not linked
   */
  public List<String> consentedScopes(String restApiKey, long userId) {
    synchronized (lock) {
      Link link = links.get(linkKey(app(restApiKey), userId));
      return link == null ? List.of() : List.copyOf(link.scopes);
    }
  }

  /**
   * True while {@code accessToken} would be accepted by the user API.
   *
   * @param accessToken the access token
   * @return true while {@code accessToken} would be accepted by the user API
   */
  public boolean isAccessTokenLive(String accessToken) {
    synchronized (lock) {
      Grant g = accessTokens.get(accessToken);
      return g != null && clock.instant().isBefore(g.expiresAt);
    }
  }

  /**
   * When {@code refreshToken} expires, or null when it is unknown, spent or expired.
   *
   * @param refreshToken the refresh token
   * @return when {@code refreshToken} expires, or null when it is unknown, spent or expired
   */
  public @Nullable Instant refreshTokenExpiresAt(String refreshToken) {
    synchronized (lock) {
      Grant g = refreshTokens.get(refreshToken);
      return g == null || !clock.instant().isBefore(g.expiresAt) ? null : g.expiresAt;
    }
  }

  /**
   * Requests to {@value #TOKEN_PATH} the emulator processed, successful or not; requests a fault
   * answered instead are not counted (see {@link #requests(String)} for every request).
   *
   * @return how many token requests the emulator processed
   */
  public int tokenRequests() {
    return tokenRequests.get();
  }

  /**
   * Successful code exchanges.
   *
   * @return successful code exchanges
   */
  public int codeExchanges() {
    return codeExchanges.get();
  }

  /**
   * Successful refreshes, rotating or not.
   *
   * @return successful refreshes, rotating or not
   */
  public int refreshes() {
    return refreshes.get();
  }

  /**
   * Refreshes that handed out a new refresh token.
   *
   * @return how many refreshes handed out a new refresh token
   */
  public int rotations() {
    return rotations.get();
  }

  /**
   * @return how many token info requests arrived
   */
  public int tokenInfoRequests() {
    return tokenInfoRequests.get();
  }

  /**
   * @return how many logouts arrived
   */
  public int logouts() {
    return logouts.get();
  }

  /**
   * @return how many unlinks arrived
   */
  public int unlinks() {
    return unlinks.get();
  }

  // ---- faults shaped like Kakao's errors -------------------------------------------------

  /**
   * A kauth error: {@code {"error", "error_description", "error_code"}}.
   *
   * @param status the HTTP status
   * @param error the error code
   * @param description the {@code error_description}
   * @param errorCode the platform's error, or null
   * @return a kauth error: {@code {"error", "error_description", "error_code"}}
   */
  public static Fault kauthError(
      int status, String error, String description, @Nullable String errorCode) {
    return Fault.json(
        status,
        write(obj("error", error, "error_description", description, "error_code", errorCode)));
  }

  /**
   * A kapi error: {@code {"msg", "code"}}, e.g. {@code kapiError(400, -10, "quota exceeded")}.
   *
   * @param status the HTTP status
   * @param code the platform's error code, or null
   * @param msg the message
   * @return a kapi error: {@code {"msg", "code"}}, e.g. {@code kapiError(400, -10, "quota
   *     exceeded")}
   */
  public static Fault kapiError(int status, int code, String msg) {
    return Fault.json(status, write(obj("msg", msg, "code", code)));
  }

  @Override
  public void close() {
    super.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  // ---- the platform ------------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    switch (pathOf(request)) {
      case AUTHORIZE_PATH:
        return authorize(request);
      case TOKEN_PATH:
        tokenRequests.incrementAndGet();
        return token(request);
      case TOKEN_INFO_PATH:
        return tokenInfo(request);
      case LOGOUT_PATH:
        return logout(request, false);
      case UNLINK_PATH:
        return logout(request, true);
      case USER_ME_PATH:
        return userMe(request);
      case MEMO_PATH:
        return memo(request);
      default:
        return json(404, obj("msg", "not found", "code", -1));
    }
  }

  private MockResponse authorize(RecordedRequest request) {
    if (!"GET".equals(request.getMethod())) {
      return errorPage(405, "KOE002", "authorize takes GET");
    }
    Map<String, String> q = query(request);
    synchronized (lock) {
      App app = apps.get(q.get("client_id"));
      if (app == null) {
        return errorPage(400, "KOE101", "invalid client_id");
      }
      String redirect = q.get("redirect_uri");
      if (redirect == null || !app.redirectUris.contains(redirect)) {
        return errorPage(400, "KOE006", "redirect_uri is not registered for this app");
      }
      if (!"code".equals(q.get("response_type"))) {
        return errorPage(400, "KOE001", "response_type must be code");
      }
      String state = q.get("state");
      String challenge = q.get("code_challenge");
      if (challenge != null) {
        if (!"S256".equals(q.get("code_challenge_method"))) {
          return redirectError(redirect, state, "invalid_request", "code_challenge_method S256");
        }
        if (!CHALLENGE.matcher(challenge).matches()) {
          return redirectError(redirect, state, "invalid_request", "malformed code_challenge");
        }
      }
      if (deny) {
        return redirectError(redirect, state, "access_denied", "User denied access");
      }
      List<String> requested = defaultScopes;
      String scope = q.get("scope");
      if (scope != null) {
        requested = new ArrayList<>();
        // Kakao joins scopes with commas in the authorize URL.
        for (String s : scope.split(",")) {
          if (!s.isBlank()) {
            requested.add(s.trim());
          }
        }
      }
      Link link = link(app, currentUser);
      for (String s : requested) {
        if (!declined.contains(s)) {
          link.scopes.add(s);
        }
      }
      String code = randomToken(64);
      codes.put(
          code,
          new Code(app, currentUser, redirect, challenge, clock.instant().plus(codeLifetime)));
      HttpUrl.Builder to =
          Objects.requireNonNull(HttpUrl.parse(redirect))
              .newBuilder()
              .addQueryParameter("code", code);
      if (state != null) {
        to.addQueryParameter("state", state);
      }
      return new MockResponse().setResponseCode(302).setHeader("Location", to.build().toString());
    }
  }

  private MockResponse token(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return kauth(405, "invalid_request", "token requests are POST", "KOE002");
    }
    String type = request.getHeader("Content-Type");
    if (type == null
        || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return kauth(400, "invalid_request", "Content-Type must be a form", "KOE001");
    }
    Map<String, String> f = form(request);
    for (String name : f.keySet()) {
      if (formFieldCount(request, name) > 1) {
        return kauth(400, "invalid_request", "duplicate parameter " + name, "KOE001");
      }
    }
    synchronized (lock) {
      String clientId = f.get("client_id");
      App app = clientId == null ? null : apps.get(clientId);
      if (app == null) {
        return kauth(
            401,
            "invalid_client",
            "Not exist client_id [" + (clientId == null ? "" : clientId) + "]",
            "KOE101");
      }
      if (app.clientSecret != null && !app.clientSecret.equals(f.get("client_secret"))) {
        return kauth(401, "invalid_client", "Bad client credentials", "KOE010");
      }
      String grant = f.get("grant_type");
      if ("authorization_code".equals(grant)) {
        return exchange(app, f);
      }
      if ("refresh_token".equals(grant)) {
        return refresh(app, f);
      }
      return kauth(400, "unsupported_grant_type", "unsupported grant_type", null);
    }
  }

  // Called under lock.
  private MockResponse exchange(App app, Map<String, String> f) {
    String value = f.get("code");
    Code code = value == null ? null : codes.get(value);
    Instant now = clock.instant();
    if (code == null || code.app != app) {
      return kauth(
          400, "invalid_grant", "authorization code not found for code=" + value, "KOE320");
    }
    codes.remove(value); // single-use: spent by its first presentation, whatever follows
    if (!now.isBefore(code.expiresAt)) {
      return kauth(
          400, "invalid_grant", "authorization code not found for code=" + value, "KOE320");
    }
    if (!code.redirectUri.equals(f.get("redirect_uri"))) {
      return kauth(400, "invalid_grant", "Redirect URI mismatch.", "KOE303");
    }
    if (code.challenge != null) {
      String verifier = f.get("code_verifier");
      if (verifier == null
          || !VERIFIER.matcher(verifier).matches()
          || !code.challenge.equals(s256(verifier))) {
        // Kakao's KOE code for a PKCE mismatch is undocumented [open]: answer without one.
        return kauth(400, "invalid_grant", "PKCE verification failed", null);
      }
    }
    Link link = link(app, code.userId);
    Issued issued = issue(app, code.userId, true);
    codeExchanges.incrementAndGet();
    return json(
        200,
        obj(
            "token_type",
            "bearer",
            "access_token",
            issued.access,
            "expires_in",
            accessLifetime.getSeconds(),
            "refresh_token",
            issued.refresh,
            "refresh_token_expires_in",
            refreshLifetime.getSeconds(),
            "scope",
            link.scopes.isEmpty() ? null : String.join(" ", link.scopes),
            "id_token",
            idToken ? idToken(app, code.userId) : null));
  }

  // Called under lock.
  private MockResponse refresh(App app, Map<String, String> f) {
    String value = f.get("refresh_token");
    Grant grant = value == null ? null : refreshTokens.get(value);
    Instant now = clock.instant();
    if (grant != null && !now.isBefore(grant.expiresAt)) {
      refreshTokens.remove(value);
      grant = null;
    }
    if (grant == null || grant.app != app) {
      return kauth(400, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322");
    }
    boolean rotate = Duration.between(now, grant.expiresAt).compareTo(rotationWindow) < 0;
    if (rotate) {
      refreshTokens.remove(value);
      rotations.incrementAndGet();
    }
    Issued issued = issue(app, grant.userId, rotate);
    refreshes.incrementAndGet();
    return json(
        200,
        obj(
            "token_type",
            "bearer",
            "access_token",
            issued.access,
            "expires_in",
            accessLifetime.getSeconds(),
            "refresh_token",
            issued.refresh,
            "refresh_token_expires_in",
            rotate ? refreshLifetime.getSeconds() : null,
            "id_token",
            idToken ? idToken(app, grant.userId) : null));
  }

  private MockResponse tokenInfo(RecordedRequest request) {
    if (!"GET".equals(request.getMethod())) {
      return kapi(405, -2, "token info takes GET");
    }
    tokenInfoRequests.incrementAndGet();
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      long remaining = Duration.between(clock.instant(), g.expiresAt).getSeconds();
      return json(200, obj("id", g.userId, "expires_in", remaining, "app_id", g.app.appId));
    }
  }

  private MockResponse logout(RecordedRequest request, boolean unlink) {
    if (!"POST".equals(request.getMethod())) {
      return kapi(405, -2, (unlink ? "unlink" : "logout") + " takes POST");
    }
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      expireTokens(g.app, g.userId);
      if (unlink) {
        links.remove(linkKey(g.app, g.userId));
        unlinks.incrementAndGet();
      } else {
        logouts.incrementAndGet();
      }
      return json(200, obj("id", g.userId));
    }
  }

  private MockResponse userMe(RecordedRequest request) {
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      return json(200, obj("id", g.userId, "properties", obj("nickname", "user" + g.userId)));
    }
  }

  private MockResponse memo(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return kapi(405, -2, "memo takes POST");
    }
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      Link link = links.get(linkKey(g.app, g.userId));
      if (link == null) {
        return kapi(400, -101, "not registered user");
      }
      if (!link.scopes.contains("talk_message")) {
        return json(
            403,
            obj(
                "msg",
                "[kakao.openapi] insufficient scopes.",
                "code",
                -402,
                "api_type",
                "TALK_MEMO_DEFAULT_SEND",
                "required_scopes",
                List.of("talk_message"),
                "allowed_scopes",
                List.copyOf(link.scopes)));
      }
      return json(200, obj("result_code", 0));
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The token's grant, or the 401 Kakao answers. Called under lock. */
  private Object authenticate(RecordedRequest request) {
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return kapi(401, -401, "this access token does not exist");
    }
    String token = header.substring(7).trim();
    Grant g = accessTokens.get(token);
    if (g == null) {
      return kapi(401, -401, "this access token does not exist");
    }
    if (!clock.instant().isBefore(g.expiresAt)) {
      accessTokens.remove(token);
      return kapi(401, -401, "this access token is already expired");
    }
    return g;
  }

  // Called under lock.
  private Issued issue(App app, long userId, boolean withRefresh) {
    Instant now = clock.instant();
    String access = randomToken(40);
    accessTokens.put(access, new Grant(app, userId, now.plus(accessLifetime)));
    String refresh = null;
    if (withRefresh) {
      refresh = randomToken(40);
      refreshTokens.put(refresh, new Grant(app, userId, now.plus(refreshLifetime)));
    }
    return new Issued(access, refresh);
  }

  // Called under lock: logout and unlink end every token of the user for the app.
  private void expireTokens(App app, long userId) {
    for (Map<String, Grant> tokens : List.of(accessTokens, refreshTokens)) {
      for (Iterator<Grant> it = tokens.values().iterator(); it.hasNext(); ) {
        Grant g = it.next();
        if (g.app == app && g.userId == userId) {
          it.remove();
        }
      }
    }
  }

  // Called under lock.
  private Link link(App app, long userId) {
    return links.computeIfAbsent(linkKey(app, userId), k -> new Link());
  }

  private App app(String restApiKey) {
    App app = apps.get(restApiKey);
    if (app == null) {
      throw new IllegalArgumentException("no app registered with that REST API key");
    }
    return app;
  }

  private static String linkKey(App app, long userId) {
    return app.restApiKey + '/' + userId;
  }

  private String idToken(App app, long userId) {
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", "https://kauth.kakao.com");
    claims.put("aud", app.restApiKey);
    claims.put("sub", Long.toString(userId));
    claims.put("iat", now);
    claims.put("exp", now + accessLifetime.getSeconds());
    return B64URL.encodeToString(
            "{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
        + '.'
        + B64URL.encodeToString(write(claims).getBytes(StandardCharsets.UTF_8))
        + '.'
        + randomToken(64);
  }

  private String randomToken(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return B64URL.encodeToString(b);
  }

  private static String s256(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.UTF_8));
      return B64URL.encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MockResponse kauth(
      int status, String error, String description, @Nullable String errorCode) {
    return json(
        status, obj("error", error, "error_description", description, "error_code", errorCode));
  }

  private static MockResponse kapi(int status, int code, String msg) {
    return json(status, obj("msg", msg, "code", code));
  }

  private static MockResponse errorPage(int status, String koe, String what) {
    return new MockResponse()
        .setResponseCode(status)
        .setHeader("Content-Type", "text/html;charset=utf-8")
        .setBody("<html><body><h1>Kakao</h1><p>" + koe + ": " + what + "</p></body></html>");
  }

  private static MockResponse redirectError(
      String redirect, @Nullable String state, String error, String description) {
    HttpUrl.Builder to =
        Objects.requireNonNull(HttpUrl.parse(redirect))
            .newBuilder()
            .addQueryParameter("error", error)
            .addQueryParameter("error_description", description);
    if (state != null) {
      to.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", to.build().toString());
  }

  private static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Duration positive(Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("lifetime must be positive: " + d);
    }
    return d;
  }

  /**
   * The unlink callback Kakao sends to the URL an app registers: header {@code Authorization:
   * KakaoAK {admin key}}, parameters {@code app_id}, {@code user_id}, {@code referrer_type} (in the
   * query for GET, as a form body for POST). Immutable.
   */
  public static final class UnlinkNotice {
    private final String authorization;
    private final Map<String, String> parameters;

    UnlinkNotice(String authorization, Map<String, String> parameters) {
      this.authorization = authorization;
      this.parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /**
     * The {@code Authorization} header: {@code KakaoAK} and the admin key.
     *
     * @return the header's value
     */
    public String authorization() {
      return authorization;
    }

    /**
     * The headers Kakao sends that matter: {@code Authorization}.
     *
     * @return header name to value
     */
    public Map<String, String> headers() {
      return Map.of("Authorization", authorization);
    }

    /**
     * {@code app_id}, {@code user_id}, {@code referrer_type}, decoded.
     *
     * @return the parameters, unmodifiable
     */
    public Map<String, String> parameters() {
      return parameters;
    }

    /**
     * The parameters URL-encoded, as a GET query or a POST body carries them.
     *
     * @return {@code app_id=…&user_id=…&referrer_type=…}
     */
    public String encodedParameters() {
      StringBuilder b = new StringBuilder();
      parameters.forEach(
          (k, v) -> {
            if (b.length() > 0) {
              b.append('&');
            }
            b.append(k).append('=').append(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8));
          });
      return b.toString();
    }

    /**
     * Sends the callback as Kakao does and returns the HTTP status the service answered.
     *
     * @param url the registered callback URL; loopback hosts only (this is a test tool)
     * @param method {@code GET} or {@code POST}, as registered
     * @return the answer's status code
     * @throws IllegalArgumentException for a non-loopback URL or another method
     */
    public int send(String url, String method) {
      HttpUrl target = HttpUrl.parse(url);
      if (target == null || !dev.tokenbroker.spi.Settings.isLoopback(target.host())) {
        throw new IllegalArgumentException("the emulator sends callbacks to loopback URLs only");
      }
      Request.Builder request = new Request.Builder().header("Authorization", authorization);
      if (method.equals("GET")) {
        HttpUrl.Builder u = target.newBuilder();
        parameters.forEach(u::addQueryParameter);
        request.url(u.build()).get();
      } else if (method.equals("POST")) {
        request
            .url(target)
            .post(
                okhttp3.RequestBody.create(
                    encodedParameters(),
                    okhttp3.MediaType.get("application/x-www-form-urlencoded;charset=utf-8")));
      } else {
        throw new IllegalArgumentException("Kakao sends unlink callbacks with GET or POST");
      }
      OkHttpClient client =
          new OkHttpClient.Builder()
              .followRedirects(false) // Kakao's callbacks do not follow redirects
              .callTimeout(java.time.Duration.ofSeconds(3)) // Kakao waits 3 seconds
              .build();
      try (Response response = client.newCall(request.build()).execute()) {
        return response.code();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
      }
    }

    @Override
    public String toString() {
      return "UnlinkNotice{" + parameters + '}'; // never the admin key
    }
  }

  private static final class App {
    final String restApiKey;
    final long appId;
    final Set<String> redirectUris;
    @Nullable String clientSecret;
    @Nullable String adminKey;

    App(String restApiKey, long appId, Set<String> redirectUris) {
      this.restApiKey = restApiKey;
      this.appId = appId;
      this.redirectUris = redirectUris;
    }
  }

  /** The link between an app and a user, holding the user's consents. */
  private static final class Link {
    final Set<String> scopes = new LinkedHashSet<>();
  }

  private static final class Code {
    final App app;
    final long userId;
    final String redirectUri;
    final @Nullable String challenge;
    final Instant expiresAt;

    Code(App app, long userId, String redirectUri, @Nullable String challenge, Instant expiresAt) {
      this.app = app;
      this.userId = userId;
      this.redirectUri = redirectUri;
      this.challenge = challenge;
      this.expiresAt = expiresAt;
    }
  }

  private static final class Grant {
    final App app;
    final long userId;
    final Instant expiresAt;

    Grant(App app, long userId, Instant expiresAt) {
      this.app = app;
      this.userId = userId;
      this.expiresAt = expiresAt;
    }
  }

  private static final class Issued {
    final String access;
    final @Nullable String refresh;

    Issued(String access, @Nullable String refresh) {
      this.access = access;
      this.refresh = refresh;
    }
  }
}
