package dev.tokenbroker.spi;

import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Where a platform's OAuth endpoints are and how its client authenticates: golang/oauth2's {@code
 * Endpoint} plus its {@code AuthStyle}. A standard platform is described by one of these and
 * nothing else. Immutable.
 */
public final class OAuthEndpoint {
  private final HttpUrl tokenUrl;
  private final @Nullable HttpUrl authorizeUrl;
  private final @Nullable HttpUrl revocationUrl;
  private final ClientAuth clientAuth;

  private OAuthEndpoint(
      HttpUrl tokenUrl,
      @Nullable HttpUrl authorizeUrl,
      @Nullable HttpUrl revocationUrl,
      ClientAuth clientAuth) {
    this.tokenUrl = Objects.requireNonNull(tokenUrl, "tokenUrl");
    this.authorizeUrl = authorizeUrl;
    this.revocationUrl = revocationUrl;
    this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
  }

  /**
   * An endpoint with only a token URL (client credentials, or refresh only).
   *
   * @param tokenUrl the token endpoint (RFC 6749 §3.2)
   * @param clientAuth how the client authenticates there
   * @return the endpoint
   */
  public static OAuthEndpoint of(HttpUrl tokenUrl, ClientAuth clientAuth) {
    return new OAuthEndpoint(tokenUrl, null, null, clientAuth);
  }

  /**
   * This endpoint with an authorization endpoint (RFC 6749 §3.1).
   *
   * @param authorizeUrl where a person approves, or null for none
   * @return a new endpoint
   */
  public OAuthEndpoint withAuthorizeUrl(@Nullable HttpUrl authorizeUrl) {
    return new OAuthEndpoint(tokenUrl, authorizeUrl, revocationUrl, clientAuth);
  }

  /**
   * This endpoint with a revocation endpoint (RFC 7009, or a platform's own).
   *
   * @param revocationUrl where tokens are revoked, or null for none
   * @return a new endpoint
   */
  public OAuthEndpoint withRevocationUrl(@Nullable HttpUrl revocationUrl) {
    return new OAuthEndpoint(tokenUrl, authorizeUrl, revocationUrl, clientAuth);
  }

  /**
   * The token endpoint.
   *
   * @return the token endpoint
   */
  public HttpUrl tokenUrl() {
    return tokenUrl;
  }

  /**
   * The authorization endpoint, or null when the platform has none configured.
   *
   * @return the authorization endpoint, or null
   */
  public @Nullable HttpUrl authorizeUrl() {
    return authorizeUrl;
  }

  /**
   * The revocation endpoint, or null when the platform has none configured.
   *
   * @return the revocation endpoint, or null
   */
  public @Nullable HttpUrl revocationUrl() {
    return revocationUrl;
  }

  /**
   * How the client authenticates.
   *
   * @return how the client authenticates
   */
  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /**
   * {@code base} with {@code path} appended, a trailing {@code /} of the base not doubled: {@code
   * https://mall.example/} + {@code api/v2/oauth/token}.
   *
   * @param base a base URL
   * @param path segments to append, without a leading {@code /}
   * @return the URL
   */
  public static HttpUrl resolve(HttpUrl base, String path) {
    HttpUrl.Builder b = base.newBuilder();
    int last = base.pathSize() - 1;
    if (base.pathSegments().get(last).isEmpty()) {
      b.removePathSegment(last);
    }
    return b.addPathSegments(path).build();
  }

  @Override
  public String toString() {
    return "OAuthEndpoint{token="
        + tokenUrl
        + (authorizeUrl == null ? "" : ", authorize=" + authorizeUrl)
        + (revocationUrl == null ? "" : ", revocation=" + revocationUrl)
        + ", auth="
        + clientAuth
        + '}';
  }
}
