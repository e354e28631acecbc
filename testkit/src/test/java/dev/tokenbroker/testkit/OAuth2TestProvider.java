package dev.tokenbroker.testkit;

import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * A plain RFC 6749 {@link TokenProvider} for the {@link OAuth2Emulator} (or any server speaking the
 * same dialect at {@code /oauth/token}, {@code /oauth/authorize} and {@code /oauth/revoke}): the
 * authorization-code grant (optionally with PKCE S256) renewed by refresh tokens, or the
 * client-credentials grant. The client authenticates with HTTP Basic.
 *
 * <p>Lifetimes: {@code expires_in_ms} (the emulator's millisecond extension) is preferred when
 * present, else {@code expires_in}, both anchored at the moment the answer arrived by the injected
 * clock. A refresh answer without {@code refresh_token} keeps the old refresh token and its expiry;
 * one without {@code scope} keeps the old scopes. Errors are classified by {@link
 * TokenResponse#standardError()}.
 *
 * <p>Test code only: it lives in the testkit's test jar ({@code tokenbroker-testkit}, type {@code
 * test-jar}), which modules add at test scope, so it never reaches an application or the CLI.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows no secret.
 *
 * <pre>{@code
 * OAuth2TestProvider provider = OAuth2TestProvider.builder()
 *     .baseUrl(emulator.baseUrl())
 *     .client("app", "s3cret")
 *     .redirectUri("http://127.0.0.1/callback")
 *     .pkce(true)
 *     .clock(clock)
 *     .build();
 * }</pre>
 */
public final class OAuth2TestProvider implements TokenProvider {
  /**
   * The default provider name, also the name of {@link OAuth2TestProviderFactory}: not {@code
   * oauth2}, which is the production generic provider's (module {@code provider-oauth2}).
   */
  public static final String DEFAULT_NAME = "oauth2-test";

  /** Renew 60 s before expiry, treat the last 5 s as expired (clamped for short lifetimes). */
  public static final Duration DEFAULT_RENEW_BEFORE = Duration.ofSeconds(60);

  /** Treat the last 5 s before expiry as expired (clamped for short lifetimes). */
  public static final Duration DEFAULT_EXPIRY_SKEW = Duration.ofSeconds(5);

  private static final Duration MAX_LIFETIME = Duration.ofDays(400);
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");

  private final String name;
  private final HttpUrl baseUrl;
  private final String clientId;
  private final String clientSecret;
  private final String basicAuth;
  private final @Nullable String redirectUri;
  private final GrantType grantType;
  private final boolean pkce;
  private final boolean rotating;
  private final List<String> scopes;
  private final RenewalPolicy policy;
  private final TokenHttp http;

  private OAuth2TestProvider(Builder b) {
    this.name = b.name;
    this.baseUrl = Objects.requireNonNull(b.baseUrl, "baseUrl is required");
    this.clientId = Objects.requireNonNull(b.clientId, "client id is required");
    this.clientSecret = Objects.requireNonNull(b.clientSecret, "client secret is required");
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into Basic.
    this.basicAuth =
        Credentials.basic(formEncode(clientId), formEncode(clientSecret), StandardCharsets.UTF_8);
    this.redirectUri = b.redirectUri;
    this.grantType = b.grantType;
    this.pkce = b.pkce;
    this.rotating = b.rotating;
    this.scopes = List.copyOf(b.scopes);
    this.policy = b.policy;
    Clock clock = Objects.requireNonNull(b.clock, "clock is required: pass the broker's clock");
    OkHttpClient client = b.httpClient != null ? b.httpClient : TokenHttp.defaultClient();
    this.http = new TokenHttp(client, clock, name);
    if (grantType == GrantType.AUTHORIZATION_CODE && redirectUri == null) {
      throw new IllegalStateException("the authorization-code grant needs a redirect URI");
    }
    if (grantType == GrantType.CLIENT_CREDENTIALS && pkce) {
      throw new IllegalStateException("PKCE applies only to the authorization-code grant");
    }
  }

  /**
   * A builder: authorization code, no PKCE, rotating refresh tokens, name {@code oauth2}.
   *
   * @return a builder: authorization code, no PKCE, rotating refresh tokens, name {@code oauth2}
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public GrantType grantType() {
    return grantType;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return policy;
  }

  @Override
  public boolean usesPkce() {
    return pkce;
  }

  @Override
  public URI authorizationUrl(String state, @Nullable String codeChallenge) {
    checkAuthorizationCode();
    HttpUrl.Builder url =
        endpoint(OAuth2Emulator.AUTHORIZE_PATH)
            .newBuilder()
            .addQueryParameter("response_type", "code")
            .addQueryParameter("client_id", clientId)
            .addQueryParameter("redirect_uri", redirectUri)
            .addQueryParameter("state", state);
    if (!scopes.isEmpty()) {
      url.addQueryParameter("scope", String.join(" ", scopes));
    }
    if (codeChallenge != null) {
      url.addQueryParameter("code_challenge", codeChallenge)
          .addQueryParameter("code_challenge_method", "S256");
    }
    return url.build().uri();
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    checkAuthorizationCode();
    FormBody.Builder form =
        new FormBody.Builder()
            .add("grant_type", "authorization_code")
            .add("code", code)
            .add("redirect_uri", Objects.requireNonNull(redirectUri));
    if (codeVerifier != null) {
      form.add("code_verifier", codeVerifier);
    }
    // A lost answer has spent the code but no refresh token: nothing stored can die, so TRANSIENT.
    TokenResponse r = http.send(tokenRequest(form), false, code, codeVerifier, clientSecret);
    return parse(r, null);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) {
      throw TokenEndpointException.builder(name)
          .kind(TokenEndpointException.Kind.PERMANENT)
          .reason("no refresh token stored: authorize again")
          .build();
    }
    FormBody.Builder form =
        new FormBody.Builder()
            .add("grant_type", "refresh_token")
            .add("refresh_token", refreshToken);
    TokenResponse r = http.send(tokenRequest(form), rotating, refreshToken, clientSecret);
    return parse(r, current);
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    if (grantType != GrantType.CLIENT_CREDENTIALS) {
      throw new UnsupportedOperationException(name + " is configured for the authorization code");
    }
    FormBody.Builder form = new FormBody.Builder().add("grant_type", "client_credentials");
    if (!scopes.isEmpty()) {
      form.add("scope", String.join(" ", scopes));
    }
    return parse(http.send(tokenRequest(form), false, clientSecret), null);
  }

  /**
   * Revokes (RFC 7009) the refresh token when there is one — which ends the whole grant — else the
   * access token. Both revocation kinds do the same here: the emulator has no "unlink".
   */
  @Override
  public void revoke(TokenSet current, Revocation revocation) {
    String refreshToken = current.refreshToken();
    String token = refreshToken != null ? refreshToken : current.accessToken();
    FormBody.Builder form =
        new FormBody.Builder()
            .add("token", token)
            .add("token_type_hint", refreshToken != null ? "refresh_token" : "access_token");
    Request request =
        new Request.Builder()
            .url(endpoint(OAuth2Emulator.REVOKE_PATH))
            .header("Authorization", basicAuth)
            .header("Accept", "application/json")
            .post(form.build())
            .build();
    TokenResponse r = http.send(request, false, current.accessToken(), refreshToken, clientSecret);
    if (!r.isSuccessful()) {
      throw r.standardError();
    }
  }

  private Request tokenRequest(FormBody.Builder form) {
    return new Request.Builder()
        .url(endpoint(OAuth2Emulator.TOKEN_PATH))
        .header("Authorization", basicAuth)
        .header("Accept", "application/json")
        .post(form.build())
        .build();
  }

  private TokenSet parse(TokenResponse r, @Nullable TokenSet previous) {
    if (!r.isSuccessful()) {
      throw r.standardError();
    }
    String type = r.requireText("token_type");
    if (!type.equalsIgnoreCase("bearer")) {
      throw r.malformed("token_type '" + type + "' is not Bearer");
    }
    Instant now = r.receivedAt();
    TokenSet.Builder b =
        TokenSet.builder()
            .accessToken(r.requireText("access_token"))
            .tokenType(type)
            .issuedAt(now)
            .expiresAt(now.plus(lifetime(r, "expires_in", true)));
    String refreshToken = r.text("refresh_token");
    if (refreshToken != null) {
      Duration refreshLife = lifetime(r, "refresh_token_expires_in", false);
      b.refreshToken(refreshToken)
          .refreshExpiresAt(refreshLife == null ? null : now.plus(refreshLife));
    } else if (previous != null) {
      // Servers that do not rotate (and Google) omit refresh_token on refresh: keep ours.
      b.refreshToken(previous.refreshToken()).refreshExpiresAt(previous.refreshExpiresAt());
    }
    String scope = r.text("scope");
    if (scope != null) {
      b.scopes(splitScope(scope));
    } else if (previous != null) {
      b.scopes(previous.scopes());
    } else {
      b.scopes(scopes);
    }
    return b.build();
  }

  /**
   * {@code field_ms} when the server sent it (the emulator's millisecond extension), else {@code
   * field} in seconds. Null only when neither is present and {@code required} is false.
   */
  private static @Nullable Duration lifetime(TokenResponse r, String field, boolean required) {
    Long millis = r.number(field + "_ms");
    if (millis != null) {
      if (millis <= 0 || millis > MAX_LIFETIME.toMillis()) {
        throw r.malformed(
            "'" + field + "_ms' of " + millis + " ms is outside (0, " + MAX_LIFETIME + "]");
      }
      return Duration.ofMillis(millis);
    }
    if (!required && r.number(field) == null) {
      return null;
    }
    return r.requireLifetime(field, MAX_LIFETIME);
  }

  private static List<String> splitScope(String scope) {
    List<String> out = new ArrayList<>();
    for (String s : scope.trim().split("\\s+")) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  private HttpUrl endpoint(String path) {
    return baseUrl.newBuilder().encodedPath(path).build();
  }

  private void checkAuthorizationCode() {
    if (grantType != GrantType.AUTHORIZATION_CODE) {
      throw new UnsupportedOperationException(name + " is configured for client credentials");
    }
  }

  private static String formEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "OAuth2TestProvider{"
        + name
        + ", "
        + baseUrl.host()
        + ":"
        + baseUrl.port()
        + ", client="
        + clientId
        + ", "
        + grantType
        + (pkce ? ", pkce" : "")
        + (rotating ? ", rotating" : "")
        + '}';
  }

  /** Builds an {@link OAuth2TestProvider}. Not thread-safe. */
  public static final class Builder {
    private String name = DEFAULT_NAME;
    private @Nullable HttpUrl baseUrl;
    private @Nullable String clientId;
    private @Nullable String clientSecret;
    private @Nullable String redirectUri;
    private GrantType grantType = GrantType.AUTHORIZATION_CODE;
    private boolean pkce;
    private boolean rotating = true;
    private List<String> scopes = List.of();
    private RenewalPolicy policy = RenewalPolicy.of(DEFAULT_RENEW_BEFORE, DEFAULT_EXPIRY_SKEW);
    private @Nullable Clock clock;
    private @Nullable OkHttpClient httpClient;

    private Builder() {}

    /**
     * The provider name (default {@code oauth2}); connections must use it as their provider.
     *
     * @param name the variable's name
     * @return this builder
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "provider name must match [a-z][a-z0-9-]* (at most 32 characters), got '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /**
     * The server's base URL, e.g. {@link OAuth2Emulator#baseUrl()}: https, or http on a loopback
     * address.
     *
     * @param baseUrl the base URL
     * @return this builder
     */
    public Builder baseUrl(String baseUrl) {
      Objects.requireNonNull(baseUrl, "baseUrl");
      HttpUrl url = HttpUrl.parse(baseUrl);
      if (url == null) {
        throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL");
      }
      return baseUrl(url);
    }

    /**
     * @param baseUrl where the token, authorize and revoke endpoints live; https, or http on
     *     loopback
     * @return this builder
     */
    public Builder baseUrl(HttpUrl baseUrl) {
      Objects.requireNonNull(baseUrl, "baseUrl");
      if (!baseUrl.isHttps() && !Settings.isLoopback(baseUrl.host())) {
        throw new IllegalArgumentException(
            "baseUrl must use https (plain http only for localhost and 127.0.0.1)");
      }
      this.baseUrl = baseUrl;
      return this;
    }

    /**
     * The client's id and secret, sent with HTTP Basic.
     *
     * @param clientId the app's client id
     * @param clientSecret the app's client secret
     * @return this builder
     */
    public Builder client(String clientId, String clientSecret) {
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(clientSecret, "clientSecret");
      if (clientId.isBlank() || clientSecret.isBlank()) {
        throw new IllegalArgumentException("client id and secret must not be blank");
      }
      this.clientId = clientId;
      this.clientSecret = clientSecret;
      return this;
    }

    /**
     * Where the server redirects after approval; required for the authorization code.
     *
     * @param redirectUri the one redirect URI the app accepts
     * @return this builder
     */
    public Builder redirectUri(String redirectUri) {
      this.redirectUri = Objects.requireNonNull(redirectUri, "redirectUri");
      return this;
    }

    /**
     * {@link GrantType#AUTHORIZATION_CODE} (default) or {@link GrantType#CLIENT_CREDENTIALS}.
     *
     * @param grantType the {@code grant_type}
     * @return this builder
     */
    public Builder grantType(GrantType grantType) {
      this.grantType = Objects.requireNonNull(grantType, "grantType");
      return this;
    }

    /**
     * Whether the authorization-code flow uses PKCE S256 (default false).
     *
     * @param pkce whether PKCE S256 is required
     * @return this builder
     */
    public Builder pkce(boolean pkce) {
      this.pkce = pkce;
      return this;
    }

    /**
     * Whether the server rotates refresh tokens (default true). When true, a refresh whose answer
     * was lost is reported as {@link TokenEndpointException.Kind#OUTCOME_UNKNOWN}: the refresh
     * token may already be spent.
     *
     * @param rotating whether refresh tokens rotate
     * @return this builder
     */
    public Builder rotatingRefreshTokens(boolean rotating) {
      this.rotating = rotating;
      return this;
    }

    /**
     * Scopes to request (default none: the server's default).
     *
     * @param scopes the scopes
     * @return this builder
     */
    public Builder scopes(List<String> scopes) {
      this.scopes = List.copyOf(scopes);
      return this;
    }

    /**
     * When to renew (default: 60 s before expiry, last 5 s expired).
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder renewalPolicy(RenewalPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The clock: must be the broker's. Required.
     *
     * @param clock the clock every expiry and lease is measured by
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The HTTP client (default {@link TokenHttp#defaultClient()}); reconfigured never to retry or
     * follow redirects.
     *
     * @param httpClient the client every connection's client derives from
     * @return this builder
     */
    public Builder httpClient(OkHttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /**
     * Takes the clock and HTTP client from a broker's {@link ProviderContext}.
     *
     * @param context the connection, the broker's clock, HTTP client and randomness
     * @return this builder
     */
    public Builder context(ProviderContext context) {
      Objects.requireNonNull(context, "context");
      this.clock = context.clock();
      this.httpClient = context.httpClient();
      return this;
    }

    /**
     * @return the provider
     * @throws NullPointerException if the base URL, client or clock is missing
     * @throws IllegalStateException for the authorization code without a redirect URI, or PKCE with
     *     client credentials
     */
    public OAuth2TestProvider build() {
      return new OAuth2TestProvider(this);
    }
  }
}
