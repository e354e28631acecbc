package dev.tokenbroker.spi;

import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import org.jspecify.annotations.Nullable;

/**
 * One OAuth client of one platform: its {@link OAuthEndpoint}, id and secret, and the {@link
 * TokenHttp} it sends with. Makes {@linkplain #tokenRequest token requests} with the client
 * authenticated as the endpoint says, and {@linkplain #authorizationUrl authorization URLs}.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows no secret.
 *
 * <pre>{@code
 * OAuthClient client = OAuthClient.builder(endpoint, "app", context.tokenHttp("acme"))
 *     .clientSecret(secret)
 *     .build();
 * TokenResponse r = client.tokenRequest("refresh_token")
 *     .param("refresh_token", refreshToken)
 *     .secret(refreshToken)
 *     .send(true);
 * }</pre>
 */
public final class OAuthClient {
  /** The default {@code Content-Type} of token requests. */
  public static final String FORM = "application/x-www-form-urlencoded";

  private final OAuthEndpoint endpoint;
  private final String clientId;
  private final @Nullable String clientSecret;
  private final @Nullable String basicCredentials;
  private final TokenHttp http;
  private final Map<String, String> tokenParams;
  private final MediaType formType;

  private OAuthClient(Builder b) {
    this.endpoint = b.endpoint;
    this.clientId = b.clientId;
    this.clientSecret = b.clientSecret;
    this.http = b.http;
    this.tokenParams = Map.copyOf(b.tokenParams);
    this.formType = MediaType.get(b.formType);
    ClientAuth auth = endpoint.clientAuth();
    if ((auth == ClientAuth.BASIC || auth == ClientAuth.BASIC_UNENCODED) && clientSecret == null) {
      throw new IllegalStateException(auth + " client authentication needs a client secret");
    }
    if (auth == ClientAuth.NONE && clientSecret != null) {
      throw new IllegalStateException("a public client (NONE) has no client secret");
    }
    if (auth == ClientAuth.BASIC) {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into Basic.
      this.basicCredentials =
          Credentials.basic(formEncode(clientId), formEncode(clientSecret), StandardCharsets.UTF_8);
    } else if (auth == ClientAuth.BASIC_UNENCODED) {
      this.basicCredentials = Credentials.basic(clientId, clientSecret, StandardCharsets.UTF_8);
    } else {
      this.basicCredentials = null;
    }
  }

  /**
   * A builder.
   *
   * @param endpoint where the platform's endpoints are and how the client authenticates
   * @param clientId the client id
   * @param http the token-endpoint HTTP client ({@link ProviderContext#tokenHttp})
   * @return a builder
   */
  public static Builder builder(OAuthEndpoint endpoint, String clientId, TokenHttp http) {
    return new Builder(endpoint, clientId, http);
  }

  /**
   * The endpoint.
   *
   * @return the endpoint
   */
  public OAuthEndpoint endpoint() {
    return endpoint;
  }

  /**
   * The client id.
   *
   * @return the client id
   */
  public String clientId() {
    return clientId;
  }

  /**
   * The HTTP client requests go out with.
   *
   * @return the token-endpoint HTTP client
   */
  public TokenHttp http() {
    return http;
  }

  /**
   * A request to the token endpoint with {@code grant_type}, the client authenticated, and the
   * configured extra token parameters (added last, before a form-body secret).
   *
   * @param grantType the {@code grant_type}, e.g. {@code refresh_token}
   * @return a request to fill and {@linkplain TokenRequest#send send}
   */
  public TokenRequest tokenRequest(String grantType) {
    return new TokenRequest(this, endpoint.tokenUrl(), tokenParams).param("grant_type", grantType);
  }

  /**
   * An authorization-code exchange (RFC 6749 §4.1.3): {@code redirect_uri}, {@code code} and, with
   * PKCE, {@code code_verifier} (RFC 7636 §4.5); the code and verifier are scrubbed from answers.
   *
   * @param code the code from the redirect
   * @param redirectUri the redirect URI the authorization used, or null if it named none
   * @param codeVerifier the PKCE verifier, or null without PKCE
   * @return a request to {@linkplain TokenRequest#send send}, not rotating anything
   */
  public TokenRequest codeRequest(
      String code, @Nullable String redirectUri, @Nullable String codeVerifier) {
    Objects.requireNonNull(code, "code");
    return tokenRequest("authorization_code")
        .param("redirect_uri", redirectUri)
        .param("code", code)
        .param("code_verifier", codeVerifier)
        .secret(code, codeVerifier);
  }

  /**
   * A refresh (RFC 6749 §6) with {@code current}'s refresh token; both of its tokens are scrubbed
   * from answers. Send it as one that may rotate where the platform may.
   *
   * @param current the set to renew
   * @param remedy what a person must do when there is no refresh token ({@code authorize again})
   * @return a request to fill and {@linkplain TokenRequest#send send}
   * @throws dev.tokenbroker.TokenEndpointException PERMANENT if {@code current} has no refresh
   *     token
   */
  public TokenRequest refreshRequest(TokenSet current, String remedy) {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) {
      throw TokenEndpointException.builder(http.provider())
          .kind(TokenEndpointException.Kind.PERMANENT)
          .reason("no refresh token stored: " + remedy)
          .build();
    }
    return tokenRequest("refresh_token")
        .param("refresh_token", refreshToken)
        .secret(refreshToken, current.accessToken());
  }

  /**
   * A request to another endpoint of the platform (revocation) with the client authenticated and no
   * extra parameters.
   *
   * @param url where to send it
   * @return a request to fill and {@linkplain TokenRequest#send send}
   */
  public TokenRequest request(HttpUrl url) {
    return new TokenRequest(this, url, Map.of());
  }

  /**
   * The authorization URL (RFC 6749 §4.1.1) with {@code response_type=code}, {@code client_id},
   * {@code state}, {@code redirect_uri}, {@code scope} and the PKCE S256 challenge (RFC 7636 §4.3),
   * in that order; add platform parameters to the builder returned.
   *
   * @param state the unguessable value the redirect must carry back
   * @param redirectUri the registered redirect URI (or eBay's RuName), or null to send none
   * @param scopes the scopes, empty to send none
   * @param separator what joins the scopes: RFC 6749 says a space, Cafe24 and Kakao use a comma
   * @param codeChallenge the S256 challenge, or null without PKCE
   * @return the URL, still open for more parameters
   * @throws IllegalStateException if the endpoint has no authorization URL
   */
  public HttpUrl.Builder authorizationUrl(
      String state,
      @Nullable String redirectUri,
      List<String> scopes,
      String separator,
      @Nullable String codeChallenge) {
    Objects.requireNonNull(state, "state");
    HttpUrl authorize = endpoint.authorizeUrl();
    if (authorize == null) {
      throw new IllegalStateException("no authorization URL is configured");
    }
    HttpUrl.Builder url =
        authorize
            .newBuilder()
            .addQueryParameter("response_type", "code")
            .addQueryParameter("client_id", clientId)
            .addQueryParameter("state", state);
    if (redirectUri != null) {
      url.addQueryParameter("redirect_uri", redirectUri);
    }
    if (!scopes.isEmpty()) {
      // Each scope is escaped on its own; a comma separator stays a literal comma (Cafe24's
      // documented form), any other separator is escaped too.
      String sep = ",".equals(separator) ? "," : queryEncode(separator);
      List<String> encoded = new ArrayList<>();
      scopes.forEach(s -> encoded.add(queryEncode(s)));
      url.addEncodedQueryParameter("scope", String.join(sep, encoded));
    }
    if (codeChallenge != null) {
      url.addQueryParameter("code_challenge", codeChallenge)
          .addQueryParameter("code_challenge_method", "S256");
    }
    return url;
  }

  /** The client secret and the Basic credential made from it: scrubbed from every answer kept. */
  List<String> secrets() {
    List<String> s = new ArrayList<>(2);
    if (clientSecret != null) {
      s.add(clientSecret);
    }
    if (basicCredentials != null) {
      s.add(basicCredentials.substring("Basic ".length()));
    }
    return s;
  }

  @Nullable String basicCredentials() {
    return basicCredentials;
  }

  @Nullable String clientSecret() {
    return clientSecret;
  }

  MediaType formType() {
    return formType;
  }

  static String formEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String queryEncode(String s) {
    return formEncode(s).replace("+", "%20");
  }

  @Override
  public String toString() {
    return "OAuthClient{"
        + endpoint
        + ", clientId="
        + clientId
        + ", secret="
        + (clientSecret == null ? "none" : "set")
        + (tokenParams.isEmpty() ? "" : ", tokenParams=" + tokenParams.keySet())
        + '}';
  }

  /** Builds an {@link OAuthClient}. Not thread-safe. */
  public static final class Builder {
    private final OAuthEndpoint endpoint;
    private final String clientId;
    private final TokenHttp http;
    private @Nullable String clientSecret;
    private Map<String, String> tokenParams = new LinkedHashMap<>();
    private String formType = FORM;

    private Builder(OAuthEndpoint endpoint, String clientId, TokenHttp http) {
      this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
      this.clientId = Objects.requireNonNull(clientId, "clientId");
      this.http = Objects.requireNonNull(http, "http");
    }

    /**
     * The client secret; required for Basic, optional for FORM (Kakao apps without one), refused
     * for NONE.
     *
     * @param clientSecret the secret, or null for none
     * @return this builder
     */
    public Builder clientSecret(@Nullable String clientSecret) {
      this.clientSecret = clientSecret;
      return this;
    }

    /**
     * Extra form parameters sent on every token request (not on revocation); their values are
     * scrubbed from answers like secrets.
     *
     * @param params name to value
     * @return this builder
     */
    public Builder tokenParams(Map<String, String> params) {
      this.tokenParams = new LinkedHashMap<>(params);
      return this;
    }

    /**
     * The {@code Content-Type} of request bodies, default {@value OAuthClient#FORM} (Kakao
     * documents {@code ;charset=utf-8}).
     *
     * @param contentType a form media type
     * @return this builder
     */
    public Builder formContentType(String contentType) {
      this.formType = Objects.requireNonNull(contentType, "contentType");
      return this;
    }

    /**
     * The client.
     *
     * @return the client
     * @throws IllegalStateException for Basic without a secret, or NONE with one
     */
    public OAuthClient build() {
      return new OAuthClient(this);
    }
  }
}
