package dev.tokenbroker.testkit.cafe24;

import static java.time.temporal.ChronoField.NANO_OF_SECOND;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

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
  private static final Pattern SCOPE = Pattern.compile("mall\\.(read|write)_[a-z_]+");
  private static final String FORM = "application/x-www-form-urlencoded";
  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final SecureRandom random = new SecureRandom();
  private final Object lock = new Object();
  // All below guarded by lock.
  private final Map<String, App> apps = new LinkedHashMap<>();
  private final Map<String, Mall> malls = new HashMap<>();
  private final Map<String, Code> codes = new HashMap<>();
  private final Map<String, Access> accessTokens = new HashMap<>();
  private final Map<String, Grant> refreshTokens = new HashMap<>();
  private Duration accessLifetime = DEFAULT_ACCESS_TOKEN_LIFETIME;
  private Duration refreshLifetime = DEFAULT_REFRESH_TOKEN_LIFETIME;
  private Duration codeLifetime = DEFAULT_CODE_LIFETIME;
  private ZoneId zone = SEOUL;
  private DateTimeFormatter timestampFormat = timestampFormat(3);
  private int invalidRefreshStatus = 401;
  private String invalidRefreshError = "invalid_grant";
  private boolean keepOldAccessToken;
  private boolean denyAuthorizations;

  private final AtomicInteger authorizations = new AtomicInteger();
  private final AtomicInteger tokenRequests = new AtomicInteger();
  private final AtomicInteger codeExchanges = new AtomicInteger();
  private final AtomicInteger refreshes = new AtomicInteger();
  private final AtomicInteger invalidRefreshAnswers = new AtomicInteger();
  private final AtomicInteger revocations = new AtomicInteger();
  private final AtomicInteger apiCalls = new AtomicInteger();

  /**
   * An emulator on {@code clock}, with no app and no mall yet. Call {@link #start()}.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public Cafe24Emulator(Clock clock) {
    super(clock);
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
      apps.put(
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
        malls.putIfAbsent(Objects.requireNonNull(id), new Mall());
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
      accessLifetime = positive(lifetime);
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
      refreshLifetime = positive(lifetime);
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
      codeLifetime = positive(lifetime);
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
      this.zone = Objects.requireNonNull(zone);
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
      timestampFormat = timestampFormat(digits);
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
      invalidRefreshStatus = status;
      invalidRefreshError = Objects.requireNonNull(error);
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
      keepOldAccessToken = keep;
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
      denyAuthorizations = deny;
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
      mall(mallId).uninstalled = true;
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
      mall(mallId).uninstalled = false;
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
      App app = apps.get(clientId);
      if (app == null) {
        throw new IllegalArgumentException("no such app; call registerApp first");
      }
      mall(mallId);
      secret = app.secret;
    }
    Map<String, String> raw = new java.util.TreeMap<>();
    raw.put("is_multi_shop", "T");
    raw.put("lang", "ko_KR");
    raw.put("mall_id", mallId);
    raw.put("nation", "KR");
    raw.put("shop_no", "1");
    raw.put("timestamp", Long.toString(timestamp.getEpochSecond()));
    raw.put("user_id", mallId);
    raw.put("user_name", percentEncode("대표 운영자"));
    raw.put("user_type", "P");
    StringBuilder query = new StringBuilder();
    raw.forEach(
        (k, v) -> {
          if (query.length() > 0) {
            query.append('&');
          }
          query.append(k).append('=').append(v);
        });
    // Signed before "&hmac=" is appended: the signature covers the other parameters only.
    String signature = launchSignature(query.toString(), secret);
    return query + "&hmac=" + percentEncode(signature);
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
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder()
          .encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
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
    StringBuilder out = new StringBuilder();
    boolean replaced = false;
    for (String part : query.split("&", -1)) {
      String key = part.contains("=") ? part.substring(0, part.indexOf('=')) : part;
      if (out.length() > 0) {
        out.append('&');
      }
      if (key.equals(parameter)) {
        out.append(key).append('=').append(rawValue);
        replaced = true;
      } else {
        out.append(part);
      }
    }
    if (!replaced) {
      out.append('&').append(parameter).append('=').append(rawValue);
    }
    return out.toString();
  }

  /**
   * {@code query} without {@code parameter}.
   *
   * @param query a launch query
   * @param parameter the parameter to drop
   * @return the query without it
   */
  public static String withoutParameter(String query, String parameter) {
    StringBuilder out = new StringBuilder();
    for (String part : query.split("&", -1)) {
      String key = part.contains("=") ? part.substring(0, part.indexOf('=')) : part;
      if (!key.equals(parameter)) {
        if (out.length() > 0) {
          out.append('&');
        }
        out.append(part);
      }
    }
    return out.toString();
  }

  /** Percent-encodes as Cafe24's App URLs do: a space is {@code %20}, not {@code +}. */
  private static String percentEncode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
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
      if (apps.size() != 1) {
        throw new IllegalStateException(
            "connect(mall) needs exactly one registered app, found " + apps.size());
      }
      clientId = apps.keySet().iterator().next();
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
      mall(mallId).uninstalled = false;
      if (!apps.containsKey(clientId)) {
        throw new IllegalArgumentException("no app registered with that client id");
      }
      return issue(new Grant(mallId, clientId, List.copyOf(scopes)), clock.instant());
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
      Access a = accessTokens.get(token);
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
      Grant g = refreshTokens.get(token);
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
    return authorizations.get();
  }

  /**
   * Every request that reached the token endpoint's logic (injected replies not counted).
   *
   * @return every request that reached the token endpoint's logic (injected replies not counted)
   */
  public int tokenRequests() {
    return tokenRequests.get();
  }

  /**
   * Codes successfully exchanged.
   *
   * @return how many codes were exchanged successfully
   */
  public int codeExchanges() {
    return codeExchanges.get();
  }

  /**
   * Successful refreshes (each one a rotation).
   *
   * @return successful refreshes (each one a rotation)
   */
  public int refreshes() {
    return refreshes.get();
  }

  /**
   * Refresh requests answered "Invalid refresh_token".
   *
   * @return refresh requests answered "Invalid refresh_token"
   */
  public int invalidRefreshAnswers() {
    return invalidRefreshAnswers.get();
  }

  /**
   * Grants killed through the revoke endpoint.
   *
   * @return how many grants the revoke endpoint killed
   */
  public int revocations() {
    return revocations.get();
  }

  /**
   * Every request that reached the Admin API's logic, whatever the answer.
   *
   * @return every request that reached the Admin API's logic, whatever the answer
   */
  public int apiCalls() {
    return apiCalls.get();
  }

  // ---- the platform -----------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    HttpUrl url = Objects.requireNonNull(request.getRequestUrl());
    List<String> segments = url.pathSegments();
    String mallId = segments.get(0);
    String rest = String.join("/", segments.subList(1, segments.size()));
    synchronized (lock) {
      if (!malls.containsKey(mallId)) {
        return apiError(404, "404", "No mall with this id");
      }
      if (rest.startsWith(ADMIN)) {
        return admin(request, mallId, rest.substring(ADMIN.length()));
      }
      switch (rest) {
        case OAUTH + "authorize":
          return "GET".equals(request.getMethod()) ? authorize(url, mallId) : notAllowed();
        case OAUTH + "token":
          tokenRequests.incrementAndGet();
          return "POST".equals(request.getMethod()) ? token(request, mallId) : notAllowed();
        case OAUTH + "revoke":
          return "POST".equals(request.getMethod()) ? revoke(request, mallId) : notAllowed();
        default:
          return apiError(404, "404", "No such resource");
      }
    }
  }

  private MockResponse authorize(HttpUrl url, String mallId) {
    String clientId = url.queryParameter("client_id");
    App app = clientId == null ? null : apps.get(clientId);
    if (app == null) {
      return oauthError(400, "invalid_client", "Invalid client_id");
    }
    String redirectUri = url.queryParameter("redirect_uri");
    if (!app.redirectUri.equals(redirectUri)) {
      // Never redirect to a URI that is not the registered one: answer with an error page.
      return oauthError(400, "invalid_request", "redirect_uri does not match the registered one");
    }
    String state = url.queryParameter("state");
    if (!"code".equals(url.queryParameter("response_type"))) {
      return redirect(redirectUri, "error", "unsupported_response_type", state);
    }
    String scope = url.queryParameter("scope");
    List<String> scopes = scope == null ? List.of() : List.of(scope.split(",", -1));
    if (scopes.isEmpty() || !scopes.stream().allMatch(s -> SCOPE.matcher(s).matches())) {
      return redirect(redirectUri, "error", "invalid_scope", state);
    }
    if (state == null || state.isEmpty()) {
      return redirect(redirectUri, "error", "invalid_request", null);
    }
    if (denyAuthorizations) {
      return redirect(redirectUri, "error", "access_denied", state);
    }
    String code = randomToken(22);
    codes.put(code, new Code(mallId, clientId, redirectUri, scopes, clock.instant()));
    mall(mallId).uninstalled = false; // approving installs the app
    authorizations.incrementAndGet();
    return redirect(redirectUri, "code", code, state);
  }

  private MockResponse token(RecordedRequest request, String mallId) {
    if (!isForm(request)) {
      return oauthError(
          400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    String clientId = authenticate(request);
    if (clientId == null) {
      return clientError(request);
    }
    Map<String, String> form = form(request);
    String grantType = form.get("grant_type");
    if ("authorization_code".equals(grantType)) {
      return exchange(form, mallId, clientId);
    }
    if ("refresh_token".equals(grantType)) {
      return refresh(form, mallId, clientId);
    }
    return oauthError(400, "unsupported_grant_type", "Invalid grant_type");
  }

  private MockResponse exchange(Map<String, String> form, String mallId, String clientId) {
    String value = form.get("code");
    if (value == null) {
      return oauthError(400, "invalid_request", "code is required");
    }
    // The first presentation spends the code, whatever happens next.
    Code code = codes.remove(value);
    if (code == null || !code.mallId.equals(mallId) || !code.clientId.equals(clientId)) {
      return oauthError(400, "invalid_grant", "Invalid authorization_code");
    }
    Instant now = clock.instant();
    if (now.isAfter(code.issuedAt.plus(codeLifetime))) {
      return oauthError(400, "invalid_grant", "Expired authorization_code");
    }
    if (!code.redirectUri.equals(form.get("redirect_uri"))) {
      return oauthError(400, "invalid_request", "Invalid redirect_uri");
    }
    codeExchanges.incrementAndGet();
    Grant grant = new Grant(mallId, clientId, code.scopes);
    issue(grant, now);
    return tokenAnswer(grant);
  }

  private MockResponse refresh(Map<String, String> form, String mallId, String clientId) {
    String value = form.get("refresh_token");
    if (value == null) {
      return oauthError(400, "invalid_request", "refresh_token is required");
    }
    Instant now = clock.instant();
    Grant grant = refreshTokens.get(value);
    if (grant == null
        || !grant.mallId.equals(mallId)
        || !grant.clientId.equals(clientId)
        || !now.isBefore(grant.refreshExpiresAt)) {
      invalidRefreshAnswers.incrementAndGet();
      return oauthError(invalidRefreshStatus, invalidRefreshError, "Invalid refresh_token");
    }
    // Rotation: the presented refresh token dies now, no grace.
    refreshTokens.remove(value);
    if (!keepOldAccessToken) {
      accessTokens.remove(grant.accessToken);
    }
    refreshes.incrementAndGet();
    issue(grant, now);
    return tokenAnswer(grant);
  }

  private MockResponse revoke(RecordedRequest request, String mallId) {
    if (!isForm(request)) {
      return oauthError(
          400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    String clientId = authenticate(request);
    if (clientId == null) {
      return clientError(request);
    }
    String token = form(request).get("token");
    if (token == null) {
      return oauthError(400, "invalid_request", "token is required");
    }
    Access access = accessTokens.get(token);
    Grant grant = access != null ? access.grant : refreshTokens.get(token);
    if (grant != null && grant.mallId.equals(mallId) && grant.clientId.equals(clientId)) {
      accessTokens.values().removeIf(a -> a.grant == grant);
      refreshTokens.values().removeIf(g -> g == grant);
      revocations.incrementAndGet();
    }
    return new MockResponse().setResponseCode(200);
  }

  private MockResponse admin(RecordedRequest request, String mallId, String resource) {
    apiCalls.incrementAndGet();
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return apiError(401, "401", "access_token is required");
    }
    Access access = accessTokens.get(authorization.substring("Bearer ".length()));
    if (access == null
        || !access.grant.mallId.equals(mallId)
        || !clock.instant().isBefore(access.expiresAt)) {
      return apiError(401, "401", "Invalid access_token");
    }
    if (mall(mallId).uninstalled) {
      return apiError(403, "403", "The app has been uninstalled from this mall (app removed)");
    }
    if (!"products".equals(resource)) {
      return apiError(404, "404", "No such resource");
    }
    if (!"GET".equals(request.getMethod())) {
      return apiError(405, "405", "Method not allowed");
    }
    if (!access.grant.scopes.contains("mall.read_product")
        && !access.grant.scopes.contains("mall.write_product")) {
      return apiError(403, "403", "Insufficient scope: mall.read_product is required");
    }
    Map<String, Object> product =
        obj("shop_no", 1, "product_no", 1, "product_name", "Emulated product", "price", "1000.00");
    return json(200, obj("products", List.of(product))).setHeader("X-Api-Call-Limit", "1/40");
  }

  // ---- state ------------------------------------------------------------------------------

  /** Issues a fresh access and refresh token for {@code grant}. Caller holds the lock. */
  private Issued issue(Grant grant, Instant now) {
    grant.accessToken = randomToken(22);
    grant.refreshToken = randomToken(22);
    grant.issuedAt = now;
    grant.accessExpiresAt = now.plus(accessLifetime);
    grant.refreshExpiresAt = now.plus(refreshLifetime);
    accessTokens.put(grant.accessToken, new Access(grant, grant.accessExpiresAt));
    refreshTokens.put(grant.refreshToken, grant);
    return new Issued(
        grant.mallId,
        grant.accessToken,
        grant.refreshToken,
        now,
        grant.accessExpiresAt,
        grant.refreshExpiresAt,
        grant.scopes);
  }

  /** The documented answer of both grants. Caller holds the lock. */
  private MockResponse tokenAnswer(Grant grant) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", grant.accessToken);
    body.put("expires_at", stamp(grant.accessExpiresAt));
    body.put("refresh_token", grant.refreshToken);
    body.put("refresh_token_expires_at", stamp(grant.refreshExpiresAt));
    body.put("client_id", grant.clientId);
    body.put("mall_id", grant.mallId);
    body.put("user_id", "admin");
    body.put("scopes", grant.scopes);
    body.put("issued_at", stamp(grant.issuedAt));
    body.put("shop_no", "1");
    body.put("token_type", "Bearer");
    return json(200, body);
  }

  private String stamp(Instant instant) {
    return timestampFormat.format(LocalDateTime.ofInstant(instant, zone));
  }

  private static DateTimeFormatter timestampFormat(int fractionDigits) {
    DateTimeFormatterBuilder b =
        new DateTimeFormatterBuilder().appendPattern("uuuu-MM-dd'T'HH:mm:ss");
    if (fractionDigits > 0) {
      b.appendFraction(NANO_OF_SECOND, fractionDigits, fractionDigits, true);
    }
    return b.toFormatter(Locale.ROOT);
  }

  private Mall mall(String mallId) {
    Mall mall = malls.get(mallId);
    if (mall == null) {
      throw new IllegalArgumentException("no such mall; call addMall first");
    }
    return mall;
  }

  /** The client id of a request with a correct Basic header, or null. Caller holds the lock. */
  private @Nullable String authenticate(RecordedRequest request) {
    String[] credentials = basicCredentials(request);
    if (credentials == null) {
      return null;
    }
    App app = apps.get(credentials[0]);
    return app != null && app.secret.equals(credentials[1]) ? credentials[0] : null;
  }

  private MockResponse clientError(RecordedRequest request) {
    String[] credentials = basicCredentials(request);
    if (credentials == null) {
      return oauthError(401, "invalid_client", "Invalid client_id or client_secret");
    }
    if (!apps.containsKey(credentials[0])) {
      return oauthError(401, "invalid_client", "Invalid client_id");
    }
    return oauthError(401, "invalid_client", "Invalid client_secret");
  }

  private static String @Nullable [] basicCredentials(RecordedRequest request) {
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
    return colon < 0
        ? null
        : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
  }

  private static boolean isForm(RecordedRequest request) {
    String type = request.getHeader("Content-Type");
    return type != null && type.toLowerCase(Locale.ROOT).startsWith(FORM);
  }

  private String randomToken(int length) {
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(out);
  }

  private static MockResponse redirect(
      String redirectUri, String name, String value, @Nullable String state) {
    StringBuilder location = new StringBuilder(redirectUri);
    location
        .append(redirectUri.indexOf('?') < 0 ? '?' : '&')
        .append(name)
        .append('=')
        .append(encode(value));
    if (state != null) {
      location.append("&state=").append(encode(state));
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.toString());
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static MockResponse oauthError(int status, String error, String description) {
    return json(status, obj("error", error, "error_description", description));
  }

  private static MockResponse apiError(int status, String code, String message) {
    return json(status, obj("error", obj("code", code, "message", message, "more_info", Map.of())));
  }

  private static MockResponse notAllowed() {
    return oauthError(405, "invalid_request", "Method not allowed");
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

  private static final class App {
    final String secret;
    final String redirectUri;

    App(String secret, String redirectUri) {
      this.secret = secret;
      this.redirectUri = redirectUri;
    }
  }

  private static final class Mall {
    boolean uninstalled;
  }

  private static final class Code {
    final String mallId;
    final String clientId;
    final String redirectUri;
    final List<String> scopes;
    final Instant issuedAt;

    Code(
        String mallId, String clientId, String redirectUri, List<String> scopes, Instant issuedAt) {
      this.mallId = mallId;
      this.clientId = clientId;
      this.redirectUri = redirectUri;
      this.scopes = scopes;
      this.issuedAt = issuedAt;
    }
  }

  /** One operator approval: its current tokens change with every rotation. */
  private static final class Grant {
    final String mallId;
    final String clientId;
    final List<String> scopes;
    String accessToken = "";
    String refreshToken = "";
    Instant issuedAt = Instant.EPOCH;
    Instant accessExpiresAt = Instant.EPOCH;
    Instant refreshExpiresAt = Instant.EPOCH;

    Grant(String mallId, String clientId, List<String> scopes) {
      this.mallId = mallId;
      this.clientId = clientId;
      this.scopes = scopes;
    }
  }

  private static final class Access {
    final Grant grant;
    final Instant expiresAt;

    Access(Grant grant, Instant expiresAt) {
      this.grant = grant;
      this.expiresAt = expiresAt;
    }
  }
}
