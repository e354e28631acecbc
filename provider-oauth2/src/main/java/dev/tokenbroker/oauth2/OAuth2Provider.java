package dev.tokenbroker.oauth2;

import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.oauth2.OAuth2Config.Expires;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthClient;
import dev.tokenbroker.spi.OAuthErrors;
import dev.tokenbroker.spi.OAuthErrors.Call;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenAnswer;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.net.URI;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A standard RFC 6749 platform for one connection, as its {@link OAuth2Config} describes it. Every
 * refresh is sent as one that may rotate the refresh token (a lost answer is OUTCOME_UNKNOWN): a
 * generic platform may rotate. Immutable and thread-safe; {@link #toString()} shows no secret.
 */
final class OAuth2Provider implements TokenProvider {
  /** The broker never treats more than this before expiry as expired. */
  static final Duration EXPIRY_SKEW = Duration.ofSeconds(30);

  private final OAuth2Config config;
  private final OAuthClient client;
  private final TokenAnswer answer;
  private final RenewalPolicy policy;
  private final String connection;

  OAuth2Provider(OAuth2Config config, ProviderContext context) {
    this.config = config;
    this.connection = context.connection().toString();
    this.client =
        OAuthClient.builder(config.endpoint(), config.clientId(), context.tokenHttp(name()))
            .clientSecret(config.clientSecret())
            .tokenParams(config.tokenParams())
            .build();
    String separators =
        config.scopeSeparator().isBlank()
            ? "\\s+"
            : "\\s+|" + Pattern.quote(config.scopeSeparator());
    this.answer =
        TokenAnswer.builder("oauth2", context.connection())
            .accessLifetime(this::accessLifetime)
            .refreshLifetime(
                TokenAnswer.optionalSeconds(
                    "refresh_token_expires_in",
                    Settings.MAX_DURATION,
                    config.refreshTokenLifetime()))
            .scopes(TokenAnswer.scopeList("scope", separators))
            .requestedScopes(config.scopes())
            .bearerOnly(true)
            .fixedTokenType(config.tokenType())
            .build();
    Duration renewBefore = config.renewBefore();
    RenewalPolicy p =
        RenewalPolicy.of(
            renewBefore, renewBefore.compareTo(EXPIRY_SKEW) < 0 ? renewBefore : EXPIRY_SKEW);
    this.policy =
        config.keepAliveBefore() == null ? p : p.withKeepAliveBefore(config.keepAliveBefore());
  }

  @Override
  public String name() {
    return OAuth2ProviderFactory.NAME;
  }

  @Override
  public GrantType grantType() {
    return config.grant();
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return policy;
  }

  @Override
  public boolean usesPkce() {
    return config.pkce();
  }

  @Override
  public URI authorizationUrl(String state, @Nullable String codeChallenge) {
    requireCodeGrant();
    if (config.pkce() && codeChallenge == null) {
      throw new IllegalArgumentException("PKCE is on for this connection: a challenge is required");
    }
    HttpUrl.Builder url =
        client.authorizationUrl(
            state,
            config.redirectUri(),
            config.scopes(),
            config.scopeSeparator(),
            config.pkce() ? codeChallenge : null);
    config.authorizeParams().forEach(url::addQueryParameter);
    return url.build().uri();
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    requireCodeGrant();
    if (config.pkce() && codeVerifier == null) {
      throw new IllegalArgumentException("PKCE is on for this connection: a verifier is required");
    }
    // A lost answer has spent the code, not a stored refresh token: TRANSIENT (mayRotate false).
    TokenResponse r =
        client
            .codeRequest(code, config.redirectUri(), config.pkce() ? codeVerifier : null)
            .send(false);
    return read(r, Call.CODE, null);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    requireCodeGrant();
    TokenResponse r =
        client
            .refreshRequest(current, "authorize again")
            .param("scope", config.refreshScope() ? scope() : null)
            .send(true);
    return read(r, Call.REFRESH, current);
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    if (config.grant() != GrantType.CLIENT_CREDENTIALS) {
      throw new UnsupportedOperationException(connection + " uses grant authorization_code");
    }
    TokenResponse r = client.tokenRequest("client_credentials").param("scope", scope()).send(false);
    return read(r, Call.CLIENT_CREDENTIALS, null);
  }

  /**
   * RFC 7009: revokes the refresh token when there is one (which ends the grant at most servers),
   * else the access token, with {@code token_type_hint}. Without a {@code revocation-url} this
   * throws {@link UnsupportedOperationException}, and the broker forgets the tokens locally only.
   */
  @Override
  public void revoke(TokenSet current, Revocation revocation) {
    HttpUrl url = config.endpoint().revocationUrl();
    if (url == null) {
      throw new UnsupportedOperationException(
          connection + " has no revocation-url: the tokens can only be forgotten locally");
    }
    String refreshToken = current.refreshToken();
    String token = refreshToken != null ? refreshToken : current.accessToken();
    TokenResponse r =
        client
            .request(url)
            .param("token", token)
            .param("token_type_hint", refreshToken != null ? "refresh_token" : "access_token")
            .secret(current.accessToken(), refreshToken)
            .send(false);
    if (!r.isSuccessful()) {
      throw OAuthErrors.classify(r, Call.REVOKE);
    }
  }

  private TokenSet read(TokenResponse r, Call call, @Nullable TokenSet current) {
    if (!r.isSuccessful()) {
      throw OAuthErrors.classify(r, call);
    }
    return answer.read(r, current);
  }

  /** {@code expires_in} or {@code expires_at}, as configured; else the configured lifetime. */
  private Duration accessLifetime(TokenResponse r) {
    String field = config.expires() == Expires.IN ? "expires_in" : "expires_at";
    if (!r.has(field) && config.accessTokenLifetime() != null) {
      return config.accessTokenLifetime();
    }
    if (config.expires() == Expires.IN) {
      return r.requireLifetime(field, Settings.MAX_DURATION);
    }
    Instant at = instant(r, field);
    Duration life = Duration.between(r.receivedAt(), at);
    if (life.isNegative() || life.isZero() || life.compareTo(Settings.MAX_DURATION) > 0) {
      throw r.malformed(
          "'" + field + "' is " + life.getSeconds() + " s from now, outside (0, 3650 days]");
    }
    return life;
  }

  /** Epoch seconds (a number or numeric text) or ISO-8601 with an offset. */
  private static Instant instant(TokenResponse r, String field) {
    String text = r.requireText(field);
    try {
      if (text.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return Instant.ofEpochSecond(r.requireNumber(field));
      }
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeException e) {
      throw r.malformed("'" + field + "' is neither epoch seconds nor ISO-8601 with an offset");
    }
  }

  private @Nullable String scope() {
    return config.scopes().isEmpty() ? null : String.join(config.scopeSeparator(), config.scopes());
  }

  private void requireCodeGrant() {
    if (config.grant() != GrantType.AUTHORIZATION_CODE) {
      throw new UnsupportedOperationException(connection + " uses grant client_credentials");
    }
  }

  @Override
  public String toString() {
    return "OAuth2Provider{" + connection + ", " + config + '}';
  }
}
