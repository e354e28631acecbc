package dev.tokenbroker.testkit;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.OAuth2Tokens.AccessToken;
import dev.tokenbroker.testkit.OAuth2Tokens.Grant;
import dev.tokenbroker.testkit.OAuth2Tokens.RefreshToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

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

  private final OAuth2Counters counters = new OAuth2Counters();
  private final OAuth2Clients clients = new OAuth2Clients(counters.invalidClientAnswers);
  private final OAuth2Tokens tokens = new OAuth2Tokens();
  private final OAuth2TokenEndpoint tokenEndpoint;
  private final OAuth2AuthorizeEndpoint authorizeEndpoint;
  private final OAuth2Revocation revocation;
  private final OAuth2Resource resource;
  private final OAuth2Routes routes = new OAuth2Routes();

  private volatile Duration tokenLatency = Duration.ZERO;

  /**
   * An emulator on {@code clock} with no clients: {@link #registerClient register} one.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public OAuth2Emulator(Clock clock) {
    super(clock);
    this.tokenEndpoint = new OAuth2TokenEndpoint(clock, clients, tokens, counters);
    this.authorizeEndpoint = new OAuth2AuthorizeEndpoint(clock, clients, tokens, counters);
    this.revocation = new OAuth2Revocation(clients, tokens, counters.revocations);
    this.resource = new OAuth2Resource(clock, tokens.accessTokens, counters);
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
    clients.register(clientId, clientSecret, redirectUris);
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
    tokenEndpoint.rotate = rotate;
    return this;
  }

  /**
   * Lifetime of access tokens issued from now on (default 1 h); sub-second values work.
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public OAuth2Emulator accessTokenLifetime(Duration lifetime) {
    tokens.accessLifetime = positive(lifetime, "access token lifetime");
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
    tokens.refreshLifetime = positive(lifetime, "refresh token lifetime");
    return this;
  }

  /**
   * How long an authorization code can be exchanged (default 60 s, on the injected clock).
   *
   * @param lifetime the lifetime
   * @return this emulator
   */
  public OAuth2Emulator codeLifetime(Duration lifetime) {
    authorizeEndpoint.codeLifetime = positive(lifetime, "code lifetime");
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
    tokens.defaultScope = Objects.requireNonNull(scope, "scope");
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
    clients.allowSecretPost = allow;
    return this;
  }

  /**
   * When true, {@code /api/resource} answers 401 {@code invalid_token} to every call.
   *
   * @param reject whether to reject
   * @return this emulator
   */
  public OAuth2Emulator rejectAllApiCalls(boolean reject) {
    resource.rejectAll = reject;
    return this;
  }

  /**
   * When true, {@code /oauth/authorize} redirects with {@code error=access_denied}.
   *
   * @param deny whether to deny
   * @return this emulator
   */
  public OAuth2Emulator denyAuthorization(boolean deny) {
    authorizeEndpoint.denyAuthorization = deny;
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
    clients.register(clientId, null, redirectUris);
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
    routes.set(token, authorize, revoke);
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
    tokenEndpoint.absoluteExpiry = absolute;
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
    clients.require(clientId);
    Grant grant = new Grant(clientId, tokens.defaultScope);
    return tokens.issue(grant, true, clock.millis()).toTokenSet();
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
    tokens.accessTokens.remove(Objects.requireNonNull(accessToken, "accessToken"));
  }

  /**
   * Ends one refresh token at once (its access tokens keep working until they expire).
   *
   * @param refreshToken the refresh token
   */
  public void revokeRefreshToken(String refreshToken) {
    tokens.refreshTokens.remove(Objects.requireNonNull(refreshToken, "refreshToken"));
  }

  /**
   * Whether {@code accessToken} would be accepted by {@code /api/resource} now.
   *
   * @param accessToken the access token
   * @return whether {@code accessToken} would be accepted by {@code /api/resource} now
   */
  public boolean isAccessTokenValid(String accessToken) {
    AccessToken t = tokens.accessTokens.get(accessToken);
    return t != null && t.isValid(clock.millis());
  }

  /**
   * Whether {@code refreshToken} would be accepted by a refresh now.
   *
   * @param refreshToken the refresh token
   * @return whether {@code refreshToken} would be accepted by a refresh now
   */
  public boolean isRefreshTokenValid(String refreshToken) {
    RefreshToken t = tokens.refreshTokens.get(refreshToken);
    return t != null && t.isValid(clock.millis());
  }

  // ---- counters -----------------------------------------------------------------------------

  /**
   * Token-endpoint requests processed, whatever their outcome.
   *
   * @return token-endpoint requests processed, whatever their outcome
   */
  public long tokenRequests() {
    return counters.tokenRequests.get();
  }

  /**
   * Token-endpoint requests processed with {@code grant_type} {@code grantType} (e.g. {@link
   * #REFRESH_TOKEN}); {@code ""} counts requests without one.
   *
   * @param grantType the {@code grant_type}
   * @return token-endpoint requests processed with {@code grant_type} {@code grantType} (e.g.
   *     {@link #REFRESH_TOKEN}); {@code ""} counts requests without one.
   */
  public long tokenRequests(String grantType) {
    return counters.tokenRequests(grantType);
  }

  /**
   * Access tokens issued over HTTP (seeded ones not included).
   *
   * @return how many access tokens were issued over HTTP
   */
  public long tokensIssued() {
    return counters.tokensIssued.get();
  }

  /**
   * Token-endpoint answers {@code invalid_grant}.
   *
   * @return token-endpoint answers {@code invalid_grant}
   */
  public long invalidGrantAnswers() {
    return counters.invalidGrantAnswers.get();
  }

  /**
   * Token- or revocation-endpoint answers {@code invalid_client}.
   *
   * @return token- or revocation-endpoint answers {@code invalid_client}
   */
  public long invalidClientAnswers() {
    return counters.invalidClientAnswers.get();
  }

  /**
   * Requests to {@code /oauth/authorize}.
   *
   * @return how many requests reached {@code /oauth/authorize}
   */
  public long authorizeRequests() {
    return counters.authorizeRequests.get();
  }

  /**
   * Requests to {@code /api/resource}.
   *
   * @return how many requests reached {@code /api/resource}
   */
  public long apiCalls() {
    return counters.apiCalls.get();
  }

  /**
   * {@code /api/resource} answers 401.
   *
   * @return {@code /api/resource} answers 401
   */
  public long apiRejections() {
    return counters.apiRejections.get();
  }

  /**
   * Successful requests to {@code /oauth/revoke}.
   *
   * @return successful requests to {@code /oauth/revoke}
   */
  public long revocations() {
    return counters.revocations.get();
  }

  /** Sets every counter to zero (tokens, codes and recorded requests are kept). */
  public void resetCounters() {
    counters.reset();
  }

  // ---- dispatch ------------------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    String path = pathOf(request);
    if (path.equals(METADATA_PATH)) {
      return routes.metadata(baseUrl(), this::url);
    }
    switch (routes.route(path)) {
      case TOKEN_PATH:
        MockResponse r = tokenEndpoint.handle(request);
        Duration latency = tokenLatency;
        return latency.isZero() ? r : r.setHeadersDelay(latency.toNanos(), TimeUnit.NANOSECONDS);
      case AUTHORIZE_PATH:
        return authorizeEndpoint.handle(request);
      case REVOKE_PATH:
        return revocation.handle(request);
      case API_PATH:
        return resource.handle(request);
      default:
        return json(404, obj("error", "not_found"));
    }
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

  @Override
  public String toString() {
    return "OAuth2Emulator{clients="
        + clients.ids()
        + ", rotate="
        + tokenEndpoint.rotate
        + ", accessLifetime="
        + tokens.accessLifetime
        + '}';
  }
}
