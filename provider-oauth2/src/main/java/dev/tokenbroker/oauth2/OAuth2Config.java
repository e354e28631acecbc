package dev.tokenbroker.oauth2;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One connection's checked settings. Immutable; {@link #toString()} shows no secret or value. */
record OAuth2Config(
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
    @Nullable Duration keepAliveBefore,
    @Nullable String tokenType) {
  /** How the answer states the access token's expiry ({@code expires:}). */
  enum Expires {
    /** {@code expires_in}, seconds from now (RFC 6749 §5.1). */
    IN,
    /** {@code expires_at}, an instant: epoch seconds or ISO-8601 with an offset. */
    AT
  }

  OAuth2Config {
    scopes = List.copyOf(scopes);
    authorizeParams = Map.copyOf(authorizeParams);
    tokenParams = Map.copyOf(tokenParams);
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
