package dev.tokenbroker.testkit.cafe24;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Access;
import dev.tokenbroker.testkit.cafe24.Cafe24State.App;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Grant;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.HttpUrl;

/**
 * A local stand-in for Cafe24's OAuth endpoints and a piece of its Admin API, for any number of
 * malls, following the platform's rules strictly.
 *
 * <p><b>Addressing.</b> The real host is per mall ({@code https://{mall_id}.cafe24api.com}); here
 * the mall id is the first path segment instead: {@code http://127.0.0.1:PORT/{mall_id}/api/v2/…}.
 * Configure the provider's {@code base-url} with {@link #baseUrlTemplate()}, which is {@code
 * http://127.0.0.1:PORT/{mall_id}}. Paths for {@link #requests(String)} and {@link #inject} come
 * from {@link #tokenPath}, {@link #authorizePath}, {@link #revokePath} and {@link #productsPath}.
 *
 * <p><b>Behaviour.</b>
 *
 * <ul>
 *   <li>{@code GET /{mall}/api/v2/oauth/authorize} approves at once (as if the operator logged in
 *       and clicked "agree") and answers 302 to {@code {redirect_uri}?code=…&state=…}. The client
 *       must be registered ({@link #registerApp}), the {@code redirect_uri} must equal the
 *       registered one exactly, {@code scope} must be comma-separated Cafe24 scopes and {@code
 *       state} must be present. Approval also reinstalls the app on the mall.
 *   <li>{@code POST /{mall}/api/v2/oauth/token} requires {@code Authorization: Basic
 *       base64(client_id:client_secret)} (401 {@code Invalid client_secret} otherwise) and a form
 *       body. Codes work once and die after {@link #codeLifetime} (60 s); {@code redirect_uri} must
 *       be sent again, identical. Every refresh rotates: the old refresh token answers 401 {@code
 *       Invalid refresh_token} at once. Access tokens live 2 hours and refresh tokens 14 days
 *       unless set otherwise; each refresh restarts the 14 days.
 *   <li>Timestamps ({@code issued_at}, {@code expires_at}, {@code refresh_token_expires_at}) are
 *       local date-times without an offset, in Asia/Seoul by default ({@link #timestampZone}), with
 *       3 fraction digits by default ({@link #timestampFractionDigits}). There is no {@code
 *       expires_in}.
 *   <li>{@code POST /{mall}/api/v2/oauth/revoke} (Basic, {@code token}, optional {@code
 *       token_hint}) kills the grant the token belongs to: access and refresh token alike. Unknown
 *       tokens are answered 200 as well, as RFC 7009 asks.
 *   <li>{@code GET /{mall}/api/v2/admin/products} needs a live Bearer access token of that mall
 *       (401 otherwise) and the scope {@code mall.read_product} or {@code mall.write_product} (403
 *       otherwise); after {@link #uninstall} it answers 403 "app uninstalled" until the next
 *       approval or {@link #reinstall}.
 *   <li>{@link #launchQuery} and {@link #launchUrl} sign the query Cafe24 appends to an app's App
 *       URL when the operator opens it (HMAC-SHA256 with the client secret over the sorted, still
 *       percent-encoded parameters, as in Cafe24's sample code); {@link #tamper} and {@link
 *       #withoutParameter} spoil one.
 * </ul>
 *
 * <p>Undocumented platform behaviour has switches: the timestamps' zone, the status and {@code
 * error} code of an invalid refresh token ({@link #invalidRefreshTokenAnswer}), and whether the
 * previous access token survives a refresh ({@link #keepOldAccessTokenOnRefresh}; by default it
 * dies, the stricter reading). Everything runs on the injected {@link Clock}. Thread-safe.
 */
public final class Cafe24Emulator extends EmulatorServer {
  /** Where the mall id goes in {@link #baseUrlTemplate()}, as in the provider's base-url. */
  public static final String MALL_ID_PLACEHOLDER = "{mall_id}";

  /** Cafe24's access token lifetime: 2 hours. */
  public static final Duration DEFAULT_ACCESS_TOKEN_LIFETIME = Duration.ofHours(2);

  /** Cafe24's refresh token lifetime: 14 days. */
  public static final Duration DEFAULT_REFRESH_TOKEN_LIFETIME = Duration.ofDays(14);

  /** How long an authorization code can be exchanged: about a minute. */
  public static final Duration DEFAULT_CODE_LIFETIME = Duration.ofSeconds(60);

  /** The zone of Cafe24's offset-less timestamps. */
  public static final ZoneId SEOUL = ZoneId.of("Asia/Seoul");

  /** The scopes {@link #connect(String)} grants. */
  public static final List<String> DEFAULT_SCOPES = List.of("mall.read_product");

  private static final String OAUTH = "api/v2/oauth/";
  private static final String ADMIN = "api/v2/admin/";

  private final Object lock = new Object();
  // The platform's state and switches are guarded by lock; the parts run under it.
  private final Cafe24State platform = new Cafe24State();
  private final Cafe24Timestamps timestamps = new Cafe24Timestamps();
  private final Cafe24Counters counters = new Cafe24Counters();
  private final Cafe24OAuth oauth;
  private final Cafe24AdminApi adminApi;

  /**
   * An emulator on {@code clock}, with no app and no mall yet. Call {@link #start()}.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public Cafe24Emulator(Clock clock) {
    super(clock);
    this.oauth = new Cafe24OAuth(clock, platform, timestamps, counters);
    this.adminApi = new Cafe24AdminApi(clock, platform, counters.apiCalls);
  }

  // ---- set-up -----------------------------------------------------------------------------

  /**
   * Registers an app: its client id, secret and the one redirect URI it accepts.
   *
   * @param clientId the app's client id
   * @param clientSecret the app's client secret
   * @param redirectUri the one redirect URI the app accepts
   * @return this emulator
   */
  public Cafe24Emulator registerApp(String clientId, String clientSecret, String redirectUri) {
    synchronized (lock) {
      platform.apps.put(
          Objects.requireNonNull(clientId),
          new App(Objects.requireNonNull(clientSecret), Objects.requireNonNull(redirectUri)));
    }
    return this;
  }

  /**
   * Opens malls; requests for other mall ids answer 404.
   *
   * @param mallIds the malls
   * @return this emulator
   */
  public Cafe24Emulator addMall(String... mallIds) {
    synchronized (lock) {
      for (String id : mallIds) {
        platform.malls.putIfAbsent(Objects.requireNonNull(id), new Cafe24State.Mall());
      }
    }
    return this;
  }

  /**
   * Access-token lifetime for tokens issued from now on; default 2 hours.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public Cafe24Emulator accessTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      platform.accessLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * Refresh-token lifetime for tokens issued from now on; default 14 days.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public Cafe24Emulator refreshTokenLifetime(Duration lifetime) {
    synchronized (lock) {
      platform.refreshLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * How long an authorization code works; default 60 s.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public Cafe24Emulator codeLifetime(Duration lifetime) {
    synchronized (lock) {
      platform.codeLifetime = positive(lifetime);
    }
    return this;
  }

  /**
   * The zone of the offset-less timestamps ([open] on the platform): {@link #SEOUL} by default,
   * {@link ZoneOffset#UTC} for the other reading.
   *
   * @param zone the zone
   * @return this emulator
   */
  public Cafe24Emulator timestampZone(ZoneId zone) {
    synchronized (lock) {
      timestamps.zone(Objects.requireNonNull(zone));
    }
    return this;
  }

  /**
   * How many fraction digits timestamps carry, 0 to 9; default 3 ({@code …T14:00:00.000}).
   *
   * @param digits how many digits
   * @return this emulator
   */
  public Cafe24Emulator timestampFractionDigits(int digits) {
    if (digits < 0 || digits > 9) {
      throw new IllegalArgumentException("fraction digits must be 0 to 9, got " + digits);
    }
    synchronized (lock) {
      timestamps.fractionDigits(digits);
    }
    return this;
  }

  /**
   * How a dead refresh token is answered ([open]): status 401 (some reports say 400) and the {@code
   * error} code, default {@code invalid_grant}; the description is always {@code Invalid
   * refresh_token}.
   *
   * @param status the HTTP status
   * @param error the error code
   * @return this emulator
   */
  public Cafe24Emulator invalidRefreshTokenAnswer(int status, String error) {
    synchronized (lock) {
      oauth.invalidRefreshStatus = status;
      oauth.invalidRefreshError = Objects.requireNonNull(error);
    }
    return this;
  }

  /**
   * Whether the previous access token keeps working (until its expiry) after a refresh ([open]).
   * Default false: it dies with the rotation.
   *
   * @param keep whether to keep
   * @return this emulator
   */
  public Cafe24Emulator keepOldAccessTokenOnRefresh(boolean keep) {
    synchronized (lock) {
      oauth.keepOldAccessToken = keep;
    }
    return this;
  }

  /**
   * When true, the authorize endpoint redirects with {@code error=access_denied}.
   *
   * @param deny whether to deny
   * @return this emulator
   */
  public Cafe24Emulator denyAuthorizations(boolean deny) {
    synchronized (lock) {
      oauth.denyAuthorizations = deny;
    }
    return this;
  }

  /**
   * The operator removes the app from {@code mall}: Admin API calls answer 403 from now on.
   *
   * @param mallId the mall
   * @return this emulator
   */
  public Cafe24Emulator uninstall(String mallId) {
    synchronized (lock) {
      platform.mall(mallId).uninstalled = true;
    }
    return this;
  }

  /**
   * Undoes {@link #uninstall} (a new approval does so too).
   *
   * @param mallId the mall
   * @return this emulator
   */
  public Cafe24Emulator reinstall(String mallId) {
    synchronized (lock) {
      platform.mall(mallId).uninstalled = false;
    }
    return this;
  }

  // ---- app launches -----------------------------------------------------------------------

  /**
   * The query Cafe24 appends to the app's App URL when the operator of {@code mallId} opens the
   * app, signed now with {@code clientId}'s secret: {@code is_multi_shop}, {@code lang}, {@code
   * mall_id}, {@code nation}, {@code shop_no}, {@code timestamp} (Unix seconds), {@code user_id},
   * {@code user_name} (percent-encoded UTF-8, a space as {@code %20}), {@code user_type}, in that
   * (alphabetical) order, then {@code hmac}. The signature is Base64 of HMAC-SHA256, keyed with the
   * client secret, over the other parameters exactly as they appear (not decoded), sorted by name
   * and joined with {@code &}; it is sent percent-encoded ({@code +} as {@code %2B}). This follows
   * Cafe24's sample code; see the provider's README.
   *
   * @param clientId a registered app
   * @param mallId a mall added with {@link #addMall}
   * @return the query, without {@code ?}
   */
  public String launchQuery(String clientId, String mallId) {
    return launchQuery(clientId, mallId, clock.instant());
  }

  /**
   * {@link #launchQuery(String, String)} stamped at {@code timestamp} (an old one to test the
   * freshness window).
   *
   * @param clientId a registered app
   * @param mallId a mall added with {@link #addMall}
   * @param timestamp the launch time; only whole seconds are sent
   * @return the query, without {@code ?}
   */
  public String launchQuery(String clientId, String mallId, Instant timestamp) {
    String secret;
    synchronized (lock) {
      App app = platform.apps.get(clientId);
      if (app == null) {
        throw new IllegalArgumentException("no such app; call registerApp first");
      }
      platform.mall(mallId);
      secret = app.secret;
    }
    return Cafe24Launch.query(mallId, timestamp, secret);
  }

  /**
   * {@code appUrl?}{@link #launchQuery(String, String)}: the URL the operator's browser opens.
   *
   * @param appUrl the App URL registered for the app
   * @param clientId a registered app
   * @param mallId a mall added with {@link #addMall}
   * @return the signed launch URL
   */
  public String launchUrl(String appUrl, String clientId, String mallId) {
    return appUrl + (appUrl.contains("?") ? "&" : "?") + launchQuery(clientId, mallId);
  }

  /**
   * The HMAC this emulator signs launches with: Base64 of HMAC-SHA256 over {@code message}'s UTF-8
   * bytes, keyed with {@code secret}'s UTF-8 bytes (not percent-encoded).
   *
   * @param message the sorted, still-encoded parameters without {@code hmac}
   * @param secret the app's client secret
   * @return the signature in standard Base64
   */
  public static String launchSignature(String message, String secret) {
    return Cafe24Launch.signature(message, secret);
  }

  /**
   * {@code query} with the raw value of {@code parameter} replaced by {@code rawValue} and the
   * signature left as it was: a tampered launch.
   *
   * @param query a launch query
   * @param parameter the parameter to change (added at the end if absent)
   * @param rawValue the new value, already percent-encoded
   * @return the tampered query
   */
  public static String tamper(String query, String parameter, String rawValue) {
    return Cafe24Launch.tamper(query, parameter, rawValue);
  }

  /**
   * {@code query} without {@code parameter}.
   *
   * @param query a launch query
   * @param parameter the parameter to drop
   * @return the query without it
   */
  public static String withoutParameter(String query, String parameter) {
    return Cafe24Launch.withoutParameter(query, parameter);
  }

  // ---- addresses --------------------------------------------------------------------------

  /**
   * {@code http://127.0.0.1:PORT/{mall_id}}: the provider's {@code base-url} for this emulator.
   *
   * @return {@code http://127.0.0.1:PORT/{mall_id}}: the provider's {@code base-url} for this
   *     emulator
   */
  public String baseUrlTemplate() {
    return baseUrl() + "/" + MALL_ID_PLACEHOLDER;
  }

  /**
   * {@code http://127.0.0.1:PORT/{mallId}}.
   *
   * @param mallId the mall
   * @return {@code http://127.0.0.1:PORT/{mallId}}
   */
  public String mallBaseUrl(String mallId) {
    return baseUrl() + "/" + mallId;
  }

  /**
   * The authorize endpoint's path for a mall.
   *
   * @param mallId the mall
   * @return the path, for {@link #requests(String)} and {@link #inject}
   */
  public String authorizePath(String mallId) {
    return "/" + mallId + "/" + OAUTH + "authorize";
  }

  /**
   * The token endpoint's path for a mall.
   *
   * @param mallId the mall
   * @return the path, for {@link #requests(String)} and {@link #inject}
   */
  public String tokenPath(String mallId) {
    return "/" + mallId + "/" + OAUTH + "token";
  }

  /**
   * The revoke endpoint's path for a mall.
   *
   * @param mallId the mall
   * @return the path, for {@link #requests(String)} and {@link #inject}
   */
  public String revokePath(String mallId) {
    return "/" + mallId + "/" + OAUTH + "revoke";
  }

  /**
   * The Admin API products resource's path for a mall.
   *
   * @param mallId the mall
   * @return the path, for {@link #requests(String)} and {@link #inject}
   */
  public String productsPath(String mallId) {
    return "/" + mallId + "/" + ADMIN + "products";
  }

  // ---- helpers for tests ------------------------------------------------------------------

  /**
   * Plays the operator: opens {@code authorizationUrl} (as built by the provider) without following
   * the redirect and returns the URL the browser would be sent to, carrying {@code code} and {@code
   * state} (or {@code error}).
   *
   * @param authorizationUrl the URL the broker built
   * @return the URL the browser was redirected to, with {@code code} and {@code state}
   * @throws IllegalStateException if the emulator does not redirect (an unknown client or a
   *     redirect URI that is not the registered one); the message holds the emulator's answer
   */
  public String approve(URI authorizationUrl) {
    return redirectOf(authorizationUrl, "authorize");
  }

  /**
   * Connects {@code mallId} as if its operator had approved the only registered app and the code
   * had been exchanged; grants {@link #DEFAULT_SCOPES}.
   *
   * @param mallId the mall
   * @return the tokens issued
   * @throws IllegalStateException unless exactly one app is registered
   */
  public Issued connect(String mallId) {
    String clientId;
    synchronized (lock) {
      if (platform.apps.size() != 1) {
        throw new IllegalStateException(
            "connect(mall) needs exactly one registered app, found " + platform.apps.size());
      }
      clientId = platform.apps.keySet().iterator().next();
    }
    return connect(mallId, clientId, DEFAULT_SCOPES);
  }

  /**
   * Connects {@code mallId} to app {@code clientId} with {@code scopes}, without HTTP.
   *
   * @param mallId the mall
   * @param clientId the app's client id
   * @param scopes the scopes
   * @return the tokens issued
   */
  public Issued connect(String mallId, String clientId, List<String> scopes) {
    synchronized (lock) {
      platform.mall(mallId).uninstalled = false;
      if (!platform.apps.containsKey(clientId)) {
        throw new IllegalArgumentException("no app registered with that client id");
      }
      return platform.issue(new Grant(mallId, clientId, List.copyOf(scopes)), clock.instant());
    }
  }

  /**
   * Whether {@code token} is a live access token (not expired, rotated away or revoked).
   *
   * @param token the token
   * @return whether {@code token} is a live access token (not expired, rotated away or revoked)
   */
  public boolean isAccessTokenValid(String token) {
    synchronized (lock) {
      Access a = platform.accessTokens.get(token);
      return a != null && clock.instant().isBefore(a.expiresAt);
    }
  }

  /**
   * Whether {@code token} is the live refresh token of some grant.
   *
   * @param token the token
   * @return whether {@code token} is the live refresh token of some grant
   */
  public boolean isRefreshTokenValid(String token) {
    synchronized (lock) {
      Grant g = platform.refreshTokens.get(token);
      return g != null && clock.instant().isBefore(g.refreshExpiresAt);
    }
  }

  // ---- counters ---------------------------------------------------------------------------

  /**
   * Authorize requests that redirected with a code.
   *
   * @return authorize requests that redirected with a code
   */
  public int authorizations() {
    return counters.authorizations.get();
  }

  /**
   * Every request that reached the token endpoint's logic (injected replies not counted).
   *
   * @return every request that reached the token endpoint's logic (injected replies not counted)
   */
  public int tokenRequests() {
    return counters.tokenRequests.get();
  }

  /**
   * Codes successfully exchanged.
   *
   * @return how many codes were exchanged successfully
   */
  public int codeExchanges() {
    return counters.codeExchanges.get();
  }

  /**
   * Successful refreshes (each one a rotation).
   *
   * @return successful refreshes (each one a rotation)
   */
  public int refreshes() {
    return counters.refreshes.get();
  }

  /**
   * Refresh requests answered "Invalid refresh_token".
   *
   * @return refresh requests answered "Invalid refresh_token"
   */
  public int invalidRefreshAnswers() {
    return counters.invalidRefreshAnswers.get();
  }

  /**
   * Grants killed through the revoke endpoint.
   *
   * @return how many grants the revoke endpoint killed
   */
  public int revocations() {
    return counters.revocations.get();
  }

  /**
   * Every request that reached the Admin API's logic, whatever the answer.
   *
   * @return every request that reached the Admin API's logic, whatever the answer
   */
  public int apiCalls() {
    return counters.apiCalls.get();
  }

  // ---- the platform -----------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    HttpUrl url = Objects.requireNonNull(request.getRequestUrl());
    List<String> segments = url.pathSegments();
    String mallId = segments.get(0);
    String rest = String.join("/", segments.subList(1, segments.size()));
    synchronized (lock) {
      if (!platform.malls.containsKey(mallId)) {
        return Cafe24Answers.apiError(404, "404", "No mall with this id");
      }
      if (rest.startsWith(ADMIN)) {
        return adminApi.handle(request, mallId, rest.substring(ADMIN.length()));
      }
      switch (rest) {
        case OAUTH + "authorize":
          return "GET".equals(request.getMethod())
              ? oauth.authorize(url, mallId)
              : Cafe24Answers.notAllowed();
        case OAUTH + "token":
          counters.tokenRequests.incrementAndGet();
          return "POST".equals(request.getMethod())
              ? oauth.token(request, mallId)
              : Cafe24Answers.notAllowed();
        case OAUTH + "revoke":
          return "POST".equals(request.getMethod())
              ? oauth.revoke(request, mallId)
              : Cafe24Answers.notAllowed();
        default:
          return Cafe24Answers.apiError(404, "404", "No such resource");
      }
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

  private static Duration positive(Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("lifetime must be positive, got " + d);
    }
    return d;
  }

  // ---- values -----------------------------------------------------------------------------

  /**
   * Tokens the emulator issued, with the instants (by the emulator's clock) it computed: what a
   * test needs to seed a store with an already-connected mall. {@link #toString()} hides the
   * tokens.
   */
  public static final class Issued {
    private final String mallId;
    private final String accessToken;
    private final String refreshToken;
    private final Instant issuedAt;
    private final Instant expiresAt;
    private final Instant refreshExpiresAt;
    private final List<String> scopes;

    Issued(
        String mallId,
        String accessToken,
        String refreshToken,
        Instant issuedAt,
        Instant expiresAt,
        Instant refreshExpiresAt,
        List<String> scopes) {
      this.mallId = mallId;
      this.accessToken = accessToken;
      this.refreshToken = refreshToken;
      this.issuedAt = issuedAt;
      this.expiresAt = expiresAt;
      this.refreshExpiresAt = refreshExpiresAt;
      this.scopes = List.copyOf(scopes);
    }

    /**
     * @return the mall the tokens belong to
     */
    public String mallId() {
      return mallId;
    }

    /**
     * @return the access token
     */
    public String accessToken() {
      return accessToken;
    }

    /**
     * @return the refresh token
     */
    public String refreshToken() {
      return refreshToken;
    }

    /**
     * @return when the tokens were issued
     */
    public Instant issuedAt() {
      return issuedAt;
    }

    /**
     * @return when the access token expires
     */
    public Instant expiresAt() {
      return expiresAt;
    }

    /**
     * @return when the refresh token expires
     */
    public Instant refreshExpiresAt() {
      return refreshExpiresAt;
    }

    /**
     * @return the granted scopes
     */
    public List<String> scopes() {
      return scopes;
    }

    @Override
    public String toString() {
      return "Issued{mall="
          + mallId
          + ", expiresAt="
          + expiresAt
          + ", refreshExpiresAt="
          + refreshExpiresAt
          + '}';
    }
  }
}
