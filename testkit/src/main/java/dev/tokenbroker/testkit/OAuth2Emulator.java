package dev.tokenbroker.testkit;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStore;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A generic, strict OAuth 2.0 authorization server (RFC 6749, RFC 7636 PKCE, RFC 7009 revocation,
 * RFC 6750 bearer resource) on a local port, for tests and benchmarks that need no platform quirks.
 *
 * <h2>Endpoints</h2>
 *
 * <ul>
 *   <li>{@code POST /oauth/token} — form body ({@code application/x-www-form-urlencoded}), client
 *       authenticated with HTTP Basic ({@code client_secret_basic}: id and secret form-urlencoded,
 *       then Base64, RFC 6749 §2.3.1). Anything else is {@code 401 invalid_client}, unless {@link
 *       #allowClientSecretPost(boolean)} also admits {@code client_id}/{@code client_secret} in the
 *       body (some peer libraries only send those). Grants:
 *       <ul>
 *         <li>{@code refresh_token} — rotating by default: the presented refresh token dies at once
 *             and a replay answers {@code 400 invalid_grant}. With {@link
 *             #rotateRefreshTokens(boolean) rotateRefreshTokens(false)} it stays valid until it
 *             expires, and the response carries no {@code refresh_token} (the client keeps its own,
 *             as with Google).
 *         <li>{@code client_credentials} — an access token, no refresh token (RFC 6749 §4.4.3).
 *         <li>{@code authorization_code} — codes from {@code /oauth/authorize}: single use (a
 *             second use answers {@code invalid_grant} and revokes every token the first use
 *             issued, RFC 6749 §4.1.2), dead after {@link #codeLifetime(Duration)} (60 s) on the
 *             injected clock, issued to one client, {@code redirect_uri} identical to the one
 *             authorized, and with PKCE: when a challenge was given, {@code code_verifier} must
 *             hash to it (S256); when none was, a {@code code_verifier} is refused (no PKCE
 *             downgrade).
 *       </ul>
 *       Success is RFC 6749 §5.1 JSON with {@code Cache-Control: no-store}: {@code access_token},
 *       {@code token_type} ({@code Bearer}), {@code expires_in}, {@code refresh_token}, {@code
 *       refresh_token_expires_in}, {@code scope}. {@code expires_in} is whole seconds (rounded
 *       down, at least 1), so for sub-second lifetimes (benchmarks with 1-second tokens) the
 *       response also carries the extension members {@code expires_in_ms} and {@code
 *       refresh_token_expires_in_ms}, the exact lifetimes in milliseconds. Clients that do not know
 *       them ignore them, as RFC 6749 §5.1 asks.
 *   <li>{@code GET /oauth/authorize?response_type=code&client_id&redirect_uri&state[&scope]
 *       [&code_challenge&code_challenge_method=S256]} — approves at once (no person involved) and
 *       answers {@code 302} to {@code redirect_uri} with {@code code} and {@code state}; with
 *       {@link #denyAuthorization(boolean)} it redirects with {@code error=access_denied} instead.
 *       An unknown client or a redirect URI the client did not register is a {@code 400} page,
 *       never a redirect (RFC 6749 §4.1.2.1).
 *   <li>{@code POST /oauth/revoke} — RFC 7009: {@code token} (and an optional {@code
 *       token_type_hint}), Basic client authentication. Revoking a refresh token ends its whole
 *       grant, access tokens included; revoking an access token ends only that token. Unknown
 *       tokens answer 200, as the RFC says.
 *   <li>{@code GET /api/resource} — a protected resource: a valid, unexpired, unrevoked {@code
 *       Authorization: Bearer} token gets {@code 200}; anything else {@code 401
 *       {"error":"invalid_token"}} with {@code WWW-Authenticate: Bearer error="invalid_token"} (RFC
 *       6750 §3.1).
 * </ul>
 *
 * <h2>For tests</h2>
 *
 * Counters of what the emulator <em>processed</em> ({@link #tokenRequests(String)}, {@link
 * #invalidGrantAnswers()}, {@link #apiCalls()}, {@link #apiRejections()} …): a request answered by
 * an injected {@link Fault} that skips processing (such as {@link Fault#json}) is not counted,
 * while one dropped after processing is; {@link #requests(String)} lists everything that arrived.
 * {@link #issueTokens(String)} and {@link #seed} mint tokens without HTTP, for tests that start
 * "already connected". {@link #revokeAccessToken(String)} and {@link #rejectAllApiCalls(boolean)}
 * make the resource refuse tokens. {@link #tokenLatency(Duration)} adds real-time latency to token
 * answers (benchmarks).
 *
 * <p>Thread-safe: requests arrive concurrently and every switch may be flipped while it runs. All
 * expiry decisions use the injected {@link Clock}, so a test with a {@link FakeClock} jumps days in
 * a line.
 */
public final class OAuth2Emulator extends EmulatorServer {
  /** The token endpoint's path. */
  public static final String TOKEN_PATH = "/oauth/token";

  /** The authorization endpoint's path. */
  public static final String AUTHORIZE_PATH = "/oauth/authorize";

  /** The revocation endpoint's path (RFC 7009). */
  public static final String REVOKE_PATH = "/oauth/revoke";

  /** RFC 8414 authorization server metadata for the issuer {@link #baseUrl()}. */
  public static final String METADATA_PATH = "/.well-known/oauth-authorization-server";

  /** A Bearer-protected resource: 200 with a valid access token, 401 otherwise. */
  public static final String API_PATH = "/api/resource";

  /** The grant types this emulator knows, as sent in {@code grant_type}. */
  public static final String REFRESH_TOKEN = "refresh_token";

  /** The {@code grant_type} of client credentials. */
  public static final String CLIENT_CREDENTIALS = "client_credentials";

  /** The {@code grant_type} of a code exchange. */
  public static final String AUTHORIZATION_CODE = "authorization_code";

  private static final String VERIFIER_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  private static final int SWEEP_EVERY = 4096;

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final Map<String, AccessToken> accessTokens = new ConcurrentHashMap<>();
  private final Map<String, RefreshToken> refreshTokens = new ConcurrentHashMap<>();
  private final Map<String, Code> codes = new ConcurrentHashMap<>();

  private volatile boolean rotate = true;
  private volatile Duration accessLifetime = Duration.ofHours(1);
  private volatile Duration refreshLifetime = Duration.ofDays(14);
  private volatile Duration codeLifetime = Duration.ofSeconds(60);
  private volatile Duration tokenLatency = Duration.ZERO;
  private volatile String defaultScope = "api";
  private volatile boolean allowSecretPost;
  private volatile boolean rejectAllApiCalls;
  private volatile boolean denyAuthorization;
  private volatile boolean absoluteExpiry;
  private volatile String tokenPath = TOKEN_PATH;
  private volatile String authorizePath = AUTHORIZE_PATH;
  private volatile String revokePath = REVOKE_PATH;

  private final Map<String, AtomicLong> tokenRequestsByGrant = new ConcurrentHashMap<>();
  private final AtomicLong tokenRequests = new AtomicLong();
  private final AtomicLong tokensIssued = new AtomicLong();
  private final AtomicLong invalidGrantAnswers = new AtomicLong();
  private final AtomicLong invalidClientAnswers = new AtomicLong();
  private final AtomicLong authorizeRequests = new AtomicLong();
  private final AtomicLong apiCalls = new AtomicLong();
  private final AtomicLong apiRejections = new AtomicLong();
  private final AtomicLong revocations = new AtomicLong();
  private final AtomicLong issueCount = new AtomicLong();

  /**
   * An emulator on {@code clock} with no clients: {@link #registerClient register} one.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public OAuth2Emulator(Clock clock) {
    super(clock);
  }

  // ---- configuration ---------------------------------------------------------------------

  /**
   * Registers a client. With no {@code redirectUris}, any http(s) redirect URI is accepted at
   * {@code /oauth/authorize}; otherwise only those, compared exactly. Returns this.
   *
   * @param clientId the app's client id
   * @param clientSecret the app's client secret
   * @param redirectUris the redirect URIs the app accepts
   * @return this emulator
   */
  public OAuth2Emulator registerClient(
      String clientId, String clientSecret, String... redirectUris) {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    if (clientId.isEmpty() || clientSecret.isEmpty()) {
      throw new IllegalArgumentException("client id and secret must not be empty");
    }
    clients.put(clientId, new Client(clientId, clientSecret, Set.of(redirectUris)));
    return this;
  }

  /**
   * Whether a refresh spends the refresh token (default true). When false, the same refresh token
   * keeps working until it expires and refresh responses carry no {@code refresh_token}.
   *
   * @param rotate whether to rotate
   * @return this emulator
   */
  public OAuth2Emulator rotateRefreshTokens(boolean rotate) {
    this.rotate = rotate;
    return this;
  }

  /**
   * Lifetime of access tokens issued from now on (default 1 h); sub-second values work.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public OAuth2Emulator accessTokenLifetime(Duration lifetime) {
    this.accessLifetime = positive(lifetime, "access token lifetime");
    return this;
  }

  /**
   * Lifetime of refresh tokens issued from now on (default 14 days). A rotated refresh token gets a
   * full new lifetime.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public OAuth2Emulator refreshTokenLifetime(Duration lifetime) {
    this.refreshLifetime = positive(lifetime, "refresh token lifetime");
    return this;
  }

  /**
   * How long an authorization code can be exchanged (default 60 s, on the injected clock).
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public OAuth2Emulator codeLifetime(Duration lifetime) {
    this.codeLifetime = positive(lifetime, "code lifetime");
    return this;
  }

  /**
   * Real-time delay before every token-endpoint answer (default none), e.g. 20 ms to make a refresh
   * stampede observable in a benchmark. The injected clock does not move.
   *
   * @param latency the added latency
   * @return this emulator
   */
  public OAuth2Emulator tokenLatency(Duration latency) {
    Objects.requireNonNull(latency, "latency");
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative");
    }
    this.tokenLatency = latency;
    return this;
  }

  /**
   * The scope granted when a request names none (default {@code api}).
   *
   * @param scope the scope
   * @return this emulator
   */
  public OAuth2Emulator defaultScope(String scope) {
    this.defaultScope = Objects.requireNonNull(scope, "scope");
    return this;
  }

  /**
   * Also accept {@code client_id} and {@code client_secret} in the form body when no {@code
   * Authorization} header is sent (RFC 6749 §2.3.1 {@code client_secret_post}). Default false:
   * strictly Basic. Using both methods at once is always refused.
   *
   * @param allow whether to allow
   * @return this emulator
   */
  public OAuth2Emulator allowClientSecretPost(boolean allow) {
    this.allowSecretPost = allow;
    return this;
  }

  /**
   * When true, {@code /api/resource} answers 401 {@code invalid_token} to every call.
   *
   * @param reject whether to reject
   * @return this emulator
   */
  public OAuth2Emulator rejectAllApiCalls(boolean reject) {
    this.rejectAllApiCalls = reject;
    return this;
  }

  /**
   * When true, {@code /oauth/authorize} redirects with {@code error=access_denied}.
   *
   * @param deny whether to deny
   * @return this emulator
   */
  public OAuth2Emulator denyAuthorization(boolean deny) {
    this.denyAuthorization = deny;
    return this;
  }

  /**
   * Registers a public client (RFC 6749 §2.1, {@code client-auth none}): it authenticates with
   * {@code client_id} in the form body alone; a secret or a Basic header from it is refused.
   *
   * @param clientId the app's client id
   * @param redirectUris the redirect URIs the app accepts (none: any)
   * @return this emulator
   */
  public OAuth2Emulator registerPublicClient(String clientId, String... redirectUris) {
    Objects.requireNonNull(clientId, "clientId");
    clients.put(clientId, new Client(clientId, null, Set.of(redirectUris)));
    return this;
  }

  /**
   * Serves the token, authorization and revocation endpoints at other paths (the defaults then
   * answer 404), as platforms name them differently; {@link #METADATA_PATH} lists the paths in use.
   *
   * @param token the token endpoint's path, e.g. {@code /identity/v1/oauth2/token}
   * @param authorize the authorization endpoint's path
   * @param revoke the revocation endpoint's path
   * @return this emulator
   */
  public OAuth2Emulator paths(String token, String authorize, String revoke) {
    this.tokenPath = Objects.requireNonNull(token, "token");
    this.authorizePath = Objects.requireNonNull(authorize, "authorize");
    this.revokePath = Objects.requireNonNull(revoke, "revoke");
    return this;
  }

  /**
   * When true, token answers state the access token's expiry as an instant, {@code expires_at} in
   * epoch seconds, instead of {@code expires_in} (some platforms do). Default false.
   *
   * @param absolute whether to answer with {@code expires_at}
   * @return this emulator
   */
  public OAuth2Emulator absoluteExpiry(boolean absolute) {
    this.absoluteExpiry = absolute;
    return this;
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero() || d.toMillis() == 0) {
      throw new IllegalArgumentException(what + " must be at least 1 ms, got " + d);
    }
    return d;
  }

  // ---- seeding and server-side actions ----------------------------------------------------

  /**
   * Mints a fresh access and refresh token for {@code clientId} as if an authorization had just
   * completed, without HTTP and without touching the counters. The returned set is anchored at the
   * injected clock's now and has store version 0.
   *
   * @param clientId the app's client id
   * @return the new token set
   * @throws IllegalArgumentException if the client is not registered
   */
  public TokenSet issueTokens(String clientId) {
    requireClient(clientId);
    Grant grant = newGrant(clientId, defaultScope);
    Issued issued = issue(grant, true, clock.millis());
    return issued.toTokenSet();
  }

  /**
   * {@link #issueTokens Issues} a token set for {@code clientId} and saves it in {@code store} for
   * {@code connection} (over whatever is stored), returning the saved set.
   *
   * @param store the store
   * @param connection the connection
   * @param clientId the app's client id
   * @return the token set, as saved in the store
   */
  public TokenSet seed(TokenStore store, ConnectionId connection, String clientId) {
    return store.put(connection, issueTokens(clientId));
  }

  /**
   * Ends one access token at once, as a server-side revocation would.
   *
   * @param accessToken the access token
   */
  public void revokeAccessToken(String accessToken) {
    accessTokens.remove(Objects.requireNonNull(accessToken, "accessToken"));
  }

  /**
   * Ends one refresh token at once (its access tokens keep working until they expire).
   *
   * @param refreshToken the refresh token
   */
  public void revokeRefreshToken(String refreshToken) {
    refreshTokens.remove(Objects.requireNonNull(refreshToken, "refreshToken"));
  }

  /**
   * Whether {@code accessToken} would be accepted by {@code /api/resource} now.
   *
   * @param accessToken the access token
   * @return whether {@code accessToken} would be accepted by {@code /api/resource} now
   */
  public boolean isAccessTokenValid(String accessToken) {
    AccessToken t = accessTokens.get(accessToken);
    return t != null && t.isValid(clock.millis());
  }

  /**
   * Whether {@code refreshToken} would be accepted by a refresh now.
   *
   * @param refreshToken the refresh token
   * @return whether {@code refreshToken} would be accepted by a refresh now
   */
  public boolean isRefreshTokenValid(String refreshToken) {
    RefreshToken t = refreshTokens.get(refreshToken);
    return t != null && t.isValid(clock.millis());
  }

  // ---- counters -----------------------------------------------------------------------------

  /**
   * Token-endpoint requests processed, whatever their outcome.
   *
   * @return token-endpoint requests processed, whatever their outcome
   */
  public long tokenRequests() {
    return tokenRequests.get();
  }

  /**
   * Token-endpoint requests processed with {@code grant_type} {@code grantType} (e.g. {@link
   * #REFRESH_TOKEN}); {@code ""} counts requests without one.
   *
   * @param grantType the {@code grant_type}
   * @return token-endpoint requests processed with {@code grant_type} {@code grantType} (e.g.
   *     {@link #REFRESH_TOKEN}); {@code ""} counts requests without one. /
   */
  public long tokenRequests(String grantType) {
    AtomicLong n = tokenRequestsByGrant.get(grantType);
    return n == null ? 0 : n.get();
  }

  /**
   * Access tokens issued over HTTP (seeded ones not included).
   *
   * @return how many access tokens were issued over HTTP
   */
  public long tokensIssued() {
    return tokensIssued.get();
  }

  /**
   * Token-endpoint answers {@code invalid_grant}.
   *
   * @return token-endpoint answers {@code invalid_grant}
   */
  public long invalidGrantAnswers() {
    return invalidGrantAnswers.get();
  }

  /**
   * Token- or revocation-endpoint answers {@code invalid_client}.
   *
   * @return token- or revocation-endpoint answers {@code invalid_client}
   */
  public long invalidClientAnswers() {
    return invalidClientAnswers.get();
  }

  /**
   * Requests to {@code /oauth/authorize}.
   *
   * @return how many requests reached {@code /oauth/authorize}
   */
  public long authorizeRequests() {
    return authorizeRequests.get();
  }

  /**
   * Requests to {@code /api/resource}.
   *
   * @return how many requests reached {@code /api/resource}
   */
  public long apiCalls() {
    return apiCalls.get();
  }

  /**
   * {@code /api/resource} answers 401.
   *
   * @return {@code /api/resource} answers 401
   */
  public long apiRejections() {
    return apiRejections.get();
  }

  /**
   * Successful requests to {@code /oauth/revoke}.
   *
   * @return successful requests to {@code /oauth/revoke}
   */
  public long revocations() {
    return revocations.get();
  }

  /** Sets every counter to zero (tokens, codes and recorded requests are kept). */
  public void resetCounters() {
    tokenRequestsByGrant.clear();
    for (AtomicLong n :
        List.of(
            tokenRequests,
            tokensIssued,
            invalidGrantAnswers,
            invalidClientAnswers,
            authorizeRequests,
            apiCalls,
            apiRejections,
            revocations)) {
      n.set(0);
    }
  }

  // ---- dispatch ------------------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    String path = pathOf(request);
    if (path.equals(METADATA_PATH)) {
      return metadata();
    }
    // Configured paths stand for the default ones; a default path no longer configured is 404.
    String route =
        path.equals(tokenPath)
            ? TOKEN_PATH
            : path.equals(authorizePath)
                ? AUTHORIZE_PATH
                : path.equals(revokePath)
                    ? REVOKE_PATH
                    : List.of(TOKEN_PATH, AUTHORIZE_PATH, REVOKE_PATH).contains(path) ? "" : path;
    switch (route) {
      case TOKEN_PATH:
        MockResponse r = token(request);
        Duration latency = tokenLatency;
        return latency.isZero() ? r : r.setHeadersDelay(latency.toNanos(), TimeUnit.NANOSECONDS);
      case AUTHORIZE_PATH:
        return authorize(request);
      case REVOKE_PATH:
        return revoke(request);
      case API_PATH:
        return api(request);
      default:
        return json(404, obj("error", "not_found"));
    }
  }

  // ---- /.well-known/oauth-authorization-server ----------------------------------------------

  private MockResponse metadata() {
    return json(
        200,
        obj(
            "issuer",
            baseUrl(),
            "token_endpoint",
            url(tokenPath).toString(),
            "authorization_endpoint",
            url(authorizePath).toString(),
            "revocation_endpoint",
            url(revokePath).toString(),
            "response_types_supported",
            List.of("code"),
            "grant_types_supported",
            List.of(AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS),
            "token_endpoint_auth_methods_supported",
            List.of("client_secret_basic", "client_secret_post", "none"),
            "code_challenge_methods_supported",
            List.of("S256")));
  }

  // ---- /oauth/token --------------------------------------------------------------------------

  private MockResponse token(RecordedRequest request) {
    tokenRequests.incrementAndGet();
    Map<String, String> form = strictForm(request);
    String grantType = form == null ? "" : form.getOrDefault("grant_type", "");
    tokenRequestsByGrant.computeIfAbsent(grantType, g -> new AtomicLong()).incrementAndGet();
    if (!"POST".equals(request.getMethod())) {
      return oauthError(405, "invalid_request", "the token endpoint accepts POST only");
    }
    if (form == null) {
      return oauthError(
          400,
          "invalid_request",
          "the body must be application/x-www-form-urlencoded with no repeated parameter");
    }
    Client client;
    try {
      client = authenticate(request, form);
    } catch (ClientAuthFailure e) {
      return e.response;
    }
    if (grantType.isEmpty()) {
      return oauthError(400, "invalid_request", "grant_type is required");
    }
    long now = clock.millis();
    switch (grantType) {
      case REFRESH_TOKEN:
        return refreshGrant(client, form, now);
      case CLIENT_CREDENTIALS:
        return clientCredentialsGrant(client, form, now);
      case AUTHORIZATION_CODE:
        return codeGrant(client, form, now);
      default:
        return oauthError(400, "unsupported_grant_type", "grant_type is not supported");
    }
  }

  private MockResponse refreshGrant(Client client, Map<String, String> form, long now) {
    String presented = form.get("refresh_token");
    if (presented == null || presented.isEmpty()) {
      return oauthError(400, "invalid_request", "refresh_token is required");
    }
    RefreshToken rt = refreshTokens.get(presented);
    if (rt == null || !rt.isValid(now)) {
      if (rt != null) {
        refreshTokens.remove(presented, rt);
      }
      return invalidGrant("the refresh token is invalid, expired, revoked or already used");
    }
    if (!rt.grant.clientId.equals(client.id)) {
      // RFC 6749 §6: bound to the client it was issued to; another client may not spend it.
      return invalidGrant("the refresh token was issued to another client");
    }
    boolean rotating = rotate;
    // remove(key, value) is the single atomic step that decides which of two concurrent refreshes
    // with the same token wins; the loser sees a spent token, as on a real rotating server.
    if (rotating && !refreshTokens.remove(presented, rt)) {
      return invalidGrant("the refresh token is invalid, expired, revoked or already used");
    }
    String scope = form.get("scope");
    if (scope != null && !isSubset(scope, rt.grant.scope)) {
      return oauthError(400, "invalid_scope", "a refresh cannot widen the granted scope");
    }
    Issued issued = issue(rt.grant, rotating, now);
    return tokenResponse(issued);
  }

  private MockResponse clientCredentialsGrant(Client client, Map<String, String> form, long now) {
    String scope = form.get("scope");
    Grant grant = newGrant(client.id, scope == null || scope.isBlank() ? defaultScope : scope);
    return tokenResponse(issue(grant, false, now));
  }

  private MockResponse codeGrant(Client client, Map<String, String> form, long now) {
    String value = form.get("code");
    if (value == null || value.isEmpty()) {
      return oauthError(400, "invalid_request", "code is required");
    }
    String redirectUri = form.get("redirect_uri");
    if (redirectUri == null) {
      return oauthError(400, "invalid_request", "redirect_uri is required");
    }
    Code code = codes.get(value);
    if (code == null) {
      return invalidGrant("the authorization code is invalid");
    }
    if (!code.used.compareAndSet(false, true)) {
      // RFC 6749 §4.1.2: a reused code is an attack signal: revoke what its first use issued.
      Grant issuedFrom = code.grant;
      if (issuedFrom != null) {
        issuedFrom.revoked = true;
      }
      return invalidGrant("the authorization code was already used");
    }
    // Every attempt spends the code, as real servers do: a wrong verifier cannot be retried.
    if (now >= code.expiresAtMillis) {
      return invalidGrant("the authorization code expired");
    }
    if (!code.clientId.equals(client.id)) {
      return invalidGrant("the authorization code was issued to another client");
    }
    if (!code.redirectUri.equals(redirectUri)) {
      return invalidGrant("redirect_uri does not match the one authorized");
    }
    String verifier = form.get("code_verifier");
    if (code.challenge == null) {
      if (verifier != null) {
        return invalidGrant("code_verifier sent but no code_challenge was authorized");
      }
    } else {
      if (verifier == null) {
        return invalidGrant("code_verifier is required: a code_challenge was authorized");
      }
      if (!isValidVerifier(verifier)) {
        return oauthError(400, "invalid_request", "code_verifier is malformed (RFC 7636 §4.1)");
      }
      if (!MessageDigest.isEqual(
          s256(verifier).getBytes(StandardCharsets.US_ASCII),
          code.challenge.getBytes(StandardCharsets.US_ASCII))) {
        return invalidGrant("code_verifier does not match the code_challenge");
      }
    }
    Grant grant = newGrant(client.id, code.scope);
    // Recorded before issuing, so a concurrent reuse always finds (and revokes) this grant.
    code.grant = grant;
    return tokenResponse(issue(grant, true, now));
  }

  // ---- /oauth/authorize ----------------------------------------------------------------------

  private MockResponse authorize(RecordedRequest request) {
    authorizeRequests.incrementAndGet();
    if (!"GET".equals(request.getMethod())) {
      return page(405, "the authorization endpoint accepts GET only");
    }
    HttpUrl url = Objects.requireNonNull(request.getRequestUrl());
    for (String name : url.queryParameterNames()) {
      if (url.queryParameterValues(name).size() > 1) {
        return page(400, "parameter '" + name + "' is repeated");
      }
    }
    Client client = clients.get(String.valueOf(url.queryParameter("client_id")));
    if (client == null) {
      return page(400, "unknown client_id");
    }
    String redirectUri = url.queryParameter("redirect_uri");
    HttpUrl redirect = redirectUri == null ? null : HttpUrl.parse(redirectUri);
    if (redirect == null
        || (!client.redirectUris.isEmpty() && !client.redirectUris.contains(redirectUri))) {
      // RFC 6749 §4.1.2.1: never redirect to an unverified URI.
      return page(400, "redirect_uri is missing, malformed or not registered for this client");
    }
    String state = url.queryParameter("state");
    if (!"code".equals(url.queryParameter("response_type"))) {
      return redirectError(redirect, state, "unsupported_response_type");
    }
    String challenge = url.queryParameter("code_challenge");
    String method = url.queryParameter("code_challenge_method");
    if (challenge != null || method != null) {
      // RFC 7636: without a method the server assumes "plain", which this emulator refuses.
      if (challenge == null || !"S256".equals(method) || !isValidChallenge(challenge)) {
        return redirectError(redirect, state, "invalid_request");
      }
    }
    if (denyAuthorization) {
      return redirectError(redirect, state, "access_denied");
    }
    String scope = url.queryParameter("scope");
    String value = randomToken("code_", 24);
    codes.put(
        value,
        new Code(
            client.id,
            Objects.requireNonNull(redirectUri),
            challenge,
            scope == null || scope.isBlank() ? defaultScope : scope,
            clock.millis() + codeLifetime.toMillis()));
    HttpUrl.Builder location = redirect.newBuilder().addQueryParameter("code", value);
    if (state != null) {
      location.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.build());
  }

  private static MockResponse redirectError(HttpUrl redirect, @Nullable String state, String e) {
    HttpUrl.Builder location = redirect.newBuilder().addQueryParameter("error", e);
    if (state != null) {
      location.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.build());
  }

  private static MockResponse page(int status, String message) {
    return new MockResponse()
        .setResponseCode(status)
        .setHeader("Content-Type", "text/html;charset=UTF-8")
        .setBody("<html><body><h1>Authorization error</h1><p>" + message + "</p></body></html>");
  }

  // ---- /oauth/revoke -------------------------------------------------------------------------

  private MockResponse revoke(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return oauthError(405, "invalid_request", "the revocation endpoint accepts POST only");
    }
    Map<String, String> form = strictForm(request);
    if (form == null) {
      return oauthError(400, "invalid_request", "malformed form body");
    }
    Client client;
    try {
      client = authenticate(request, form);
    } catch (ClientAuthFailure e) {
      return e.response;
    }
    String token = form.get("token");
    if (token == null || token.isEmpty()) {
      return oauthError(400, "invalid_request", "token is required");
    }
    RefreshToken rt = refreshTokens.get(token);
    AccessToken at = accessTokens.get(token);
    Grant grant = rt != null ? rt.grant : at != null ? at.grant : null;
    if (grant != null && !grant.clientId.equals(client.id)) {
      return oauthError(400, "unauthorized_client", "the token was issued to another client");
    }
    if (rt != null) {
      rt.grant.revoked = true; // RFC 7009 §2.1: the grant's access tokens go too
      refreshTokens.remove(token, rt);
    } else if (at != null) {
      accessTokens.remove(token, at);
    }
    revocations.incrementAndGet();
    return new MockResponse().setResponseCode(200).setHeader("Cache-Control", "no-store");
  }

  // ---- /api/resource -------------------------------------------------------------------------

  private MockResponse api(RecordedRequest request) {
    apiCalls.incrementAndGet();
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      apiRejections.incrementAndGet();
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      return json(401, obj("error", "invalid_request"))
          .setHeader("WWW-Authenticate", "Bearer realm=\"oauth2-emulator\"");
    }
    String token = header.substring(7).trim();
    AccessToken t = accessTokens.get(token);
    if (rejectAllApiCalls || t == null || !t.isValid(clock.millis())) {
      apiRejections.incrementAndGet();
      return json(
              401,
              obj(
                  "error",
                  "invalid_token",
                  "error_description",
                  "the access token is invalid, expired or revoked"))
          .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    return json(200, obj("ok", true, "client_id", t.grant.clientId, "scope", t.grant.scope));
  }

  // ---- issuing -------------------------------------------------------------------------------

  private Grant newGrant(String clientId, String scope) {
    return new Grant(clientId, scope);
  }

  /** Issues an access token (and a refresh token when {@code withRefresh}) for {@code grant}. */
  private Issued issue(Grant grant, boolean withRefresh, long now) {
    maybeSweep(now);
    Duration access = accessLifetime;
    Duration refresh = refreshLifetime;
    String accessToken = randomToken("at_", 32);
    accessTokens.put(accessToken, new AccessToken(grant, now + access.toMillis()));
    String refreshToken = null;
    if (withRefresh) {
      refreshToken = randomToken("rt_", 32);
      refreshTokens.put(refreshToken, new RefreshToken(grant, now + refresh.toMillis()));
    }
    return new Issued(accessToken, refreshToken, grant.scope, now, access, refresh);
  }

  private MockResponse tokenResponse(Issued issued) {
    tokensIssued.incrementAndGet();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", issued.accessToken);
    body.put("token_type", "Bearer");
    if (absoluteExpiry) {
      body.put("expires_at", (issued.issuedAtMillis + issued.accessLifetime.toMillis()) / 1000);
    } else {
      body.put("expires_in", wholeSeconds(issued.accessLifetime));
      body.put("expires_in_ms", issued.accessLifetime.toMillis());
    }
    if (issued.refreshToken != null) {
      body.put("refresh_token", issued.refreshToken);
      body.put("refresh_token_expires_in", wholeSeconds(issued.refreshLifetime));
      body.put("refresh_token_expires_in_ms", issued.refreshLifetime.toMillis());
    }
    body.put("scope", issued.scope);
    return noStore(json(200, body));
  }

  /** Whole seconds, rounded down but at least 1: a 0 would read as "already expired". */
  private static long wholeSeconds(Duration d) {
    return Math.max(1, d.getSeconds());
  }

  private void maybeSweep(long now) {
    if (issueCount.incrementAndGet() % SWEEP_EVERY != 0) {
      return;
    }
    // Long benchmarks issue many tokens; forget the dead ones. Removal during iteration is safe
    // on ConcurrentHashMap, and a concurrent issue is never touched (it is not expired).
    accessTokens.values().removeIf(t -> !t.isValid(now));
    refreshTokens.values().removeIf(t -> !t.isValid(now));
    long keepCodesUntil = now - Duration.ofMinutes(10).toMillis();
    codes.values().removeIf(c -> c.expiresAtMillis < keepCodesUntil);
  }

  // ---- request checks ------------------------------------------------------------------------

  /**
   * The form body, or null when it is not {@code application/x-www-form-urlencoded}, is not
   * decodable, or repeats a parameter (RFC 6749 §3.2: parameters MUST NOT be included more than
   * once).
   */
  private static @Nullable Map<String, String> strictForm(RecordedRequest request) {
    String type = request.getHeader("Content-Type");
    if (type == null
        || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return null;
    }
    String body = request.getBody().clone().readUtf8();
    Map<String, String> out = new LinkedHashMap<>();
    if (body.isEmpty()) {
      return out;
    }
    try {
      for (String pair : body.split("&", -1)) {
        int eq = pair.indexOf('=');
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        if (out.put(name, value) != null) {
          return null;
        }
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return out;
  }

  /** The authenticated client, or a failure carrying the 401/400 answer. */
  private Client authenticate(RecordedRequest request, Map<String, String> form)
      throws ClientAuthFailure {
    String header = request.getHeader("Authorization");
    String bodyId = form.get("client_id");
    String bodySecret = form.get("client_secret");
    if (header != null) {
      if (bodySecret != null) {
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        throw new ClientAuthFailure(
            oauthError(
                400, "invalid_request", "client authenticated with both Basic and client_secret"));
      }
      String[] idSecret = parseBasic(header);
      if (idSecret == null) {
        throw invalidClient("malformed Basic credentials");
      }
      Client client = clients.get(idSecret[0]);
      if (client == null || !client.secretMatches(idSecret[1])) {
        throw invalidClient("client authentication failed");
      }
      if (bodyId != null && !bodyId.equals(client.id)) {
        throw invalidClient("client_id in the body differs from the authenticated client");
      }
      return client;
    }
    Client publicClient = bodyId == null ? null : clients.get(bodyId);
    if (publicClient != null && publicClient.isPublic() && bodySecret == null) {
      return publicClient; // RFC 6749 §2.1: a public client identifies itself, nothing more
    }
    if (allowSecretPost && bodyId != null && bodySecret != null) {
      Client client = clients.get(bodyId);
      if (client == null || !client.secretMatches(bodySecret)) {
        throw invalidClient("client authentication failed");
      }
      return client;
    }
    throw invalidClient("client authentication required (HTTP Basic)");
  }

  private ClientAuthFailure invalidClient(String description) {
    invalidClientAnswers.incrementAndGet();
    MockResponse r = oauthError(401, "invalid_client", description);
    // RFC 6749 §5.2: 401 with the scheme the client used (or should use).
    r.setHeader("WWW-Authenticate", "Basic realm=\"oauth2-emulator\"");
    return new ClientAuthFailure(r);
  }

  /** {@code [id, secret]} from {@code Basic base64(urlencode(id):urlencode(secret))}, or null. */
  private static String @Nullable [] parseBasic(String header) {
    if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    try {
      String decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return null;
      }
      return new String[] {
        URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
        URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)
      };
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Client requireClient(String clientId) {
    Client c = clients.get(Objects.requireNonNull(clientId, "clientId"));
    if (c == null) {
      throw new IllegalArgumentException("client '" + clientId + "' is not registered");
    }
    return c;
  }

  private MockResponse invalidGrant(String description) {
    invalidGrantAnswers.incrementAndGet();
    return oauthError(400, "invalid_grant", description);
  }

  private static MockResponse oauthError(int status, String error, String description) {
    return noStore(json(status, obj("error", error, "error_description", description)));
  }

  private static MockResponse noStore(MockResponse r) {
    return r.setHeader("Cache-Control", "no-store").setHeader("Pragma", "no-cache");
  }

  private static boolean isSubset(String requested, String granted) {
    List<String> have = Arrays.asList(granted.split(" "));
    for (String s : requested.trim().split("\\s+")) {
      if (!s.isEmpty() && !have.contains(s)) {
        return false;
      }
    }
    return true;
  }

  /** RFC 7636 §4.1: 43 to 128 characters of {@code [A-Z] [a-z] [0-9] - . _ ~}. */
  private static boolean isValidVerifier(String v) {
    if (v.length() < 43 || v.length() > 128) {
      return false;
    }
    for (int i = 0; i < v.length(); i++) {
      if (VERIFIER_CHARS.indexOf(v.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /** An S256 challenge is 43 characters of unpadded base64url. */
  private static boolean isValidChallenge(String c) {
    return c.length() == 43 && isValidVerifier(c);
  }

  /**
   * {@code BASE64URL(SHA256(ASCII(verifier)))}, RFC 7636 §4.2.
   *
   * @param verifier the PKCE verifier
   * @return {@code BASE64URL(SHA256(ASCII(verifier)))}, RFC 7636 §4.2
   */
  public static String s256(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  private String randomToken(String prefix, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  @Override
  public String toString() {
    return "OAuth2Emulator{clients="
        + clients.keySet()
        + ", rotate="
        + rotate
        + ", accessLifetime="
        + accessLifetime
        + '}';
  }

  // ---- state ---------------------------------------------------------------------------------

  private static final class Client {
    final String id;
    private final byte @Nullable [] secret;
    final Set<String> redirectUris;

    Client(String id, @Nullable String secret, Set<String> redirectUris) {
      this.id = id;
      this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
      this.redirectUris = redirectUris;
    }

    boolean isPublic() {
      return secret == null;
    }

    boolean secretMatches(String presented) {
      return secret != null
          && MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** One authorization (or client-credentials grant): what its tokens share. */
  private static final class Grant {
    final String clientId;
    final String scope;
    volatile boolean revoked;

    Grant(String clientId, String scope) {
      this.clientId = clientId;
      this.scope = scope;
    }
  }

  private static final class AccessToken {
    final Grant grant;
    final long expiresAtMillis;

    AccessToken(Grant grant, long expiresAtMillis) {
      this.grant = grant;
      this.expiresAtMillis = expiresAtMillis;
    }

    boolean isValid(long now) {
      return now < expiresAtMillis && !grant.revoked;
    }
  }

  private static final class RefreshToken {
    final Grant grant;
    final long expiresAtMillis;

    RefreshToken(Grant grant, long expiresAtMillis) {
      this.grant = grant;
      this.expiresAtMillis = expiresAtMillis;
    }

    boolean isValid(long now) {
      return now < expiresAtMillis && !grant.revoked;
    }
  }

  private static final class Code {
    final String clientId;
    final String redirectUri;
    final @Nullable String challenge;
    final String scope;
    final long expiresAtMillis;
    final AtomicBoolean used = new AtomicBoolean();
    volatile @Nullable Grant grant;

    Code(
        String clientId,
        String redirectUri,
        @Nullable String challenge,
        String scope,
        long expiresAtMillis) {
      this.clientId = clientId;
      this.redirectUri = redirectUri;
      this.challenge = challenge;
      this.scope = scope;
      this.expiresAtMillis = expiresAtMillis;
    }
  }

  private static final class Issued {
    final String accessToken;
    final @Nullable String refreshToken;
    final String scope;
    final long issuedAtMillis;
    final Duration accessLifetime;
    final Duration refreshLifetime;

    Issued(
        String accessToken,
        @Nullable String refreshToken,
        String scope,
        long issuedAtMillis,
        Duration accessLifetime,
        Duration refreshLifetime) {
      this.accessToken = accessToken;
      this.refreshToken = refreshToken;
      this.scope = scope;
      this.issuedAtMillis = issuedAtMillis;
      this.accessLifetime = accessLifetime;
      this.refreshLifetime = refreshLifetime;
    }

    TokenSet toTokenSet() {
      Instant at = Instant.ofEpochMilli(issuedAtMillis);
      return TokenSet.builder()
          .accessToken(accessToken)
          .tokenType("Bearer")
          .issuedAt(at)
          .expiresAt(at.plus(accessLifetime))
          .refreshToken(refreshToken)
          .refreshExpiresAt(refreshToken == null ? null : at.plus(refreshLifetime))
          .scopes(List.of(scope.split(" ")))
          .build();
    }
  }

  /** Carries a client-authentication failure's answer out of {@link #authenticate}. */
  private static final class ClientAuthFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient MockResponse response;

    ClientAuthFailure(MockResponse response) {
      super(null, null, false, false);
      this.response = response;
    }
  }
}
