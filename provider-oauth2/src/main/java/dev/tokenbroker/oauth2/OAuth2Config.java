package dev.tokenbroker.oauth2;

import dev.tokenbroker.spi.ClientAuth;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One connection's checked settings. Immutable; {@link #toString()} shows no secret or value. */
final class OAuth2Config {
  /** How the answer states the access token's expiry ({@code expires:}). */
  enum Expires {
    /** {@code expires_in}, seconds from now (RFC 6749 §5.1). */
    IN,
    /** {@code expires_at}, an instant: epoch seconds or ISO-8601 with an offset. */
    AT
  }

  final GrantType grant;
  final OAuthEndpoint endpoint;
  final String clientId;
  final @Nullable String clientSecret;
  final @Nullable String redirectUri;
  final boolean pkce;
  final List<String> scopes;
  final String scopeSeparator;
  final boolean refreshScope;
  final Map<String, String> authorizeParams;
  final Map<String, String> tokenParams;
  final Expires expires;
  final @Nullable Duration accessTokenLifetime;
  final @Nullable Duration refreshTokenLifetime;
  final Duration renewBefore;
  final @Nullable Duration keepAliveBefore;

  OAuth2Config(
      GrantType grant,
      OAuthEndpoint endpoint,
      String clientId,
      @Nullable String clientSecret,
      @Nullable String redirectUri,
      boolean pkce,
      List<String> scopes,
      String scopeSeparator,
      boolean refreshScope,
      Map<String, String> authorizeParams,
      Map<String, String> tokenParams,
      Expires expires,
      @Nullable Duration accessTokenLifetime,
      @Nullable Duration refreshTokenLifetime,
      Duration renewBefore,
      @Nullable Duration keepAliveBefore) {
    this.grant = grant;
    this.endpoint = endpoint;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.redirectUri = redirectUri;
    this.pkce = pkce;
    this.scopes = List.copyOf(scopes);
    this.scopeSeparator = scopeSeparator;
    this.refreshScope = refreshScope;
    this.authorizeParams = Map.copyOf(authorizeParams);
    this.tokenParams = Map.copyOf(tokenParams);
    this.expires = expires;
    this.accessTokenLifetime = accessTokenLifetime;
    this.refreshTokenLifetime = refreshTokenLifetime;
    this.renewBefore = renewBefore;
    this.keepAliveBefore = keepAliveBefore;
  }

  ClientAuth clientAuth() {
    return endpoint.clientAuth();
  }

  @Override
  public String toString() {
    return "OAuth2Config{"
        + grant
        + ", "
        + endpoint
        + ", clientId="
        + clientId
        + ", clientSecret="
        + (clientSecret == null ? "none" : "set")
        + (pkce ? ", pkce" : "")
        + ", scopes="
        + scopes
        + (tokenParams.isEmpty() ? "" : ", tokenParams=" + tokenParams.keySet())
        + (authorizeParams.isEmpty() ? "" : ", authorizeParams=" + authorizeParams.keySet())
        + '}';
  }
}
