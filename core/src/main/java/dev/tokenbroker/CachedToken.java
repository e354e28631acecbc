package dev.tokenbroker;

import dev.tokenbroker.spi.RenewalPolicy;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenSet} ready for the hot path: its renewal thresholds precomputed as epoch millis by
 * the connection's {@link RenewalPolicy} and its {@code Authorization} header value built once, so
 * that serving a FRESH token is two field reads and a clock read, with no allocation. Immutable;
 * created by the broker.
 */
public final class CachedToken {
  private final TokenSet tokenSet;
  private final String accessToken;
  private final long renewAtMillis;
  private final long expiredAtMillis;

  /**
   * {@code Bearer <token>}, built on first use: most connections of a large broker are only ever
   * asked for {@link #accessToken()}, and the header value would cost as much heap as the token.
   * Not volatile: a String is immutable, so a racing reader either sees it whole or builds an equal
   * one itself (the racy single-check idiom of {@link String#hashCode()}).
   */
  private @Nullable String authorization;

  CachedToken(TokenSet tokenSet, RenewalPolicy policy) {
    this.tokenSet = tokenSet;
    this.accessToken = tokenSet.accessToken();
    this.renewAtMillis = policy.renewAtMillis(tokenSet);
    this.expiredAtMillis = policy.expiredAtMillis(tokenSet);
  }

  /**
   * The cached token set.
   *
   * @return the token set
   */
  public TokenSet tokenSet() {
    return tokenSet;
  }

  /**
   * The token set's access token (a field read, no allocation).
   *
   * @return the access token
   */
  public String accessToken() {
    return accessToken;
  }

  /**
   * {@code Bearer <token>}: the {@code Authorization} header value. A secret.
   *
   * @return {@code Bearer <token>}: the {@code Authorization} header value
   */
  public String authorization() {
    String a = authorization;
    if (a == null) {
      a = tokenSet.tokenType() + " " + accessToken;
      authorization = a;
    }
    return a;
  }

  /**
   * From this epoch millis on the token is STALE: still served, renewed in the background.
   *
   * @return the epoch millis from which the token is stale: still served, renewed in the background
   */
  public long renewAtMillis() {
    return renewAtMillis;
  }

  /**
   * From this epoch millis on the token is EXPIRED: callers wait for a renewal.
   *
   * @return the epoch millis from which the token is expired: callers wait for a renewal
   */
  public long expiredAtMillis() {
    return expiredAtMillis;
  }

  @Override
  public String toString() {
    return "CachedToken{" + tokenSet + '}';
  }
}
