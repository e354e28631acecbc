package dev.tokenbroker.testkit.kakao;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoState.App;
import dev.tokenbroker.testkit.kakao.KakaoState.Grant;
import dev.tokenbroker.testkit.kakao.KakaoState.Issued;
import dev.tokenbroker.testkit.kakao.KakaoState.Link;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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

  private final Object lock = new Object();
  private final OkHttpClient browser = new OkHttpClient.Builder().followRedirects(false).build();

  // The platform's state and switches are guarded by lock; the parts take it.
  private final KakaoState platform;
  private final KakaoCounters counters = new KakaoCounters();
  private final KakaoAuth kauth;
  private final KakaoUserApi kapi;

  /**
   * @param clock the clock every token lifetime and code expiry is measured by
   */
  public KakaoEmulator(Clock clock) {
    super(clock);
    this.platform = new KakaoState(clock);
    this.kauth = new KakaoAuth(lock, clock, platform, counters);
    this.kapi = new KakaoUserApi(lock, clock, platform, counters);
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
      platform.apps.put(restApiKey, new App(restApiKey, appId, uris));
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
      platform.app(restApiKey).clientSecret = clientSecret;
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
      platform.app(restApiKey).adminKey = Objects.requireNonNull(adminKey, "adminKey");
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
      App app = platform.app(restApiKey);
      if (app.adminKey == null) {
        throw new IllegalStateException("set the app's adminKey first: Kakao sends it");
      }
      platform.expireTokens(app, userId);
      platform.links.remove(KakaoState.linkKey(app, userId));
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
      platform.currentUser = userId;
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
      kauth.deny = deny;
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
      kauth.declined = Set.of(scopes);
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
      kauth.defaultScopes = List.of(scopes);
    }
    return this;
  }

  /**
   * @param lifetime the access token lifetime of tokens issued from now on
   * @return this emulator
   */
  public KakaoEmulator accessTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      platform.accessLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * @param lifetime the refresh token lifetime of tokens issued from now on
   * @return this emulator
   */
  public KakaoEmulator refreshTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      platform.refreshLifetime = positive(lifetime);
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
      platform.rotationWindow = Objects.requireNonNull(window);
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
      platform.codeLifetime = positive(lifetime);
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
      kauth.idToken = on;
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
      platform.accessTokens.values().removeIf(g -> g.userId == userId);
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
      Link link = platform.links.get(KakaoState.linkKey(platform.app(restApiKey), userId));
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
      App app = platform.app(restApiKey);
      Link link = platform.link(app, platform.currentUser);
      link.scopes.addAll(List.of(scopes));
      Instant now = clock.instant();
      Issued issued = platform.issue(app, platform.currentUser, true);
      return TokenSet.builder()
          .accessToken(issued.access)
          .expiresAt(now.plus(platform.accessLifetime))
          .refreshToken(issued.refresh)
          .refreshExpiresAt(now.plus(platform.refreshLifetime))
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
      return platform.links.containsKey(KakaoState.linkKey(platform.app(restApiKey), userId));
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
      Link link = platform.links.get(KakaoState.linkKey(platform.app(restApiKey), userId));
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
      Grant g = platform.accessTokens.get(accessToken);
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
      Grant g = platform.refreshTokens.get(refreshToken);
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
    return counters.tokenRequests.get();
  }

  /**
   * Successful code exchanges.
   *
   * @return successful code exchanges
   */
  public int codeExchanges() {
    return counters.codeExchanges.get();
  }

  /**
   * Successful refreshes, rotating or not.
   *
   * @return successful refreshes, rotating or not
   */
  public int refreshes() {
    return counters.refreshes.get();
  }

  /**
   * Refreshes that handed out a new refresh token.
   *
   * @return how many refreshes handed out a new refresh token
   */
  public int rotations() {
    return counters.rotations.get();
  }

  /**
   * @return how many token info requests arrived
   */
  public int tokenInfoRequests() {
    return counters.tokenInfoRequests.get();
  }

  /**
   * @return how many logouts arrived
   */
  public int logouts() {
    return counters.logouts.get();
  }

  /**
   * @return how many unlinks arrived
   */
  public int unlinks() {
    return counters.unlinks.get();
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
        return kauth.authorize(request);
      case TOKEN_PATH:
        counters.tokenRequests.incrementAndGet();
        return kauth.token(request);
      case TOKEN_INFO_PATH:
        return kapi.tokenInfo(request);
      case LOGOUT_PATH:
        return kapi.logout(request, false);
      case UNLINK_PATH:
        return kapi.logout(request, true);
      case USER_ME_PATH:
        return kapi.userMe(request);
      case MEMO_PATH:
        return kapi.memo(request);
      default:
        return json(404, obj("msg", "not found", "code", -1));
    }
  }

  /** {@link EmulatorServer#json} for this package's parts, which do not extend it. */
  static MockResponse jsonAnswer(int status, Object body) {
    return json(status, body);
  }

  /** {@link EmulatorServer#obj} for this package's parts, which do not extend it. */
  static Map<String, Object> jsonObject(Object... keyValues) {
    return obj(keyValues);
  }

  /** {@code value} as JSON text. */
  static String write(Object value) {
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
}
