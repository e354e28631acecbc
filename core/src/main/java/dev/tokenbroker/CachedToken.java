package dev.tokenbroker;

/**
 * A {@link TokenSet} ready for the hot path: its renewal thresholds precomputed as epoch millis by
 * the connection's {@link RenewalPolicy} and its {@code Authorization} header value built once, so
 * that serving a FRESH token is two field reads and a clock read, with no allocation. Immutable;
 * created by the broker.
 */
public final class CachedToken {
  private final TokenSet tokenSet;
  private final String accessToken;
  private final String authorization;
  private final long renewAtMillis;
  private final long expiredAtMillis;

  CachedToken(TokenSet tokenSet, RenewalPolicy policy) {
    this.tokenSet = tokenSet;
    this.accessToken = tokenSet.accessToken();
    this.authorization = tokenSet.tokenType() + " " + tokenSet.accessToken();
    this.renewAtMillis = policy.renewAtMillis(tokenSet);
    this.expiredAtMillis = policy.expiredAtMillis(tokenSet);
  }

  public TokenSet tokenSet() {
    return tokenSet;
  }

  public String accessToken() {
    return accessToken;
  }

  /** {@code Bearer <token>}: the {@code Authorization} header value. A secret. */
  public String authorization() {
    return authorization;
  }

  /** From this epoch millis on the token is STALE: still served, renewed in the background. */
  public long renewAtMillis() {
    return renewAtMillis;
  }

  /** From this epoch millis on the token is EXPIRED: callers wait for a renewal. */
  public long expiredAtMillis() {
    return expiredAtMillis;
  }

  @Override
  public String toString() {
    return "CachedToken{" + tokenSet + '}';
  }
}
