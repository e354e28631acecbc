package dev.tokenbroker.spi;

import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * When a token set stops being FRESH (renew in the background, keep serving it), when it counts as
 * EXPIRED (callers wait for a renewal), and when its refresh token needs a keep-alive renewal.
 *
 * <p>For a token with lifetime {@code L = expiresAt - issuedAt}:
 *
 * <ul>
 *   <li>FRESH while {@code now < expiresAt - min(renewBefore, L/2)};
 *   <li>STALE from then while {@code now < expiresAt - min(expirySkew, L/4)};
 *   <li>EXPIRED from then on.
 * </ul>
 *
 * The clamps keep a margin from ever exceeding the lifetime: a 5-minute margin on a 1-second token
 * would otherwise renew on every call. Immutable.
 */
public final class RenewalPolicy {
  private final Duration renewBefore;
  private final Duration expirySkew;
  private final @Nullable Duration keepAliveBefore;

  private RenewalPolicy(Duration renewBefore, Duration expirySkew, @Nullable Duration keepAlive) {
    this.renewBefore = renewBefore;
    this.expirySkew = expirySkew;
    this.keepAliveBefore = keepAlive;
  }

  /**
   * A policy renewing {@code renewBefore} ahead of expiry, treating the last {@code expirySkew} as
   * expired, with no keep-alive.
   *
   * @param renewBefore how long before expiry a token stops being fresh
   * @param expirySkew how long before expiry a token is treated as expired
   * @return a policy renewing {@code renewBefore} ahead of expiry, treating the last {@code
   *     expirySkew} as expired, with no keep-alive
   * @throws IllegalArgumentException if a duration is negative or {@code expirySkew > renewBefore}
   */
  public static RenewalPolicy of(Duration renewBefore, Duration expirySkew) {
    Objects.requireNonNull(renewBefore, "renewBefore");
    Objects.requireNonNull(expirySkew, "expirySkew");
    if (renewBefore.isNegative() || expirySkew.isNegative()) {
      throw new IllegalArgumentException("renewal margins must not be negative");
    }
    if (expirySkew.compareTo(renewBefore) > 0) {
      throw new IllegalArgumentException(
          "expirySkew (" + expirySkew + ") must not exceed renewBefore (" + renewBefore + ")");
    }
    return new RenewalPolicy(renewBefore, expirySkew, null);
  }

  /**
   * This policy, also renewing when the refresh token has less than {@code keepAliveBefore} left
   * (Cafe24: its 14-day window; Kakao: the last month, when a new refresh token is handed out).
   *
   * @param keepAliveBefore how long before the refresh token expires keep-alive renews an idle
   *     connection
   * @return a policy that also keeps idle connections alive
   */
  public RenewalPolicy withKeepAliveBefore(Duration keepAliveBefore) {
    Objects.requireNonNull(keepAliveBefore, "keepAliveBefore");
    if (keepAliveBefore.isNegative() || keepAliveBefore.isZero()) {
      throw new IllegalArgumentException("keepAliveBefore must be positive");
    }
    return new RenewalPolicy(renewBefore, expirySkew, keepAliveBefore);
  }

  /**
   * How long before expiry a token stops being fresh (clamped to half its lifetime).
   *
   * @return the margin
   */
  public Duration renewBefore() {
    return renewBefore;
  }

  /**
   * How long before expiry a token is treated as expired (clamped to a quarter of its lifetime).
   *
   * @return the margin
   */
  public Duration expirySkew() {
    return expirySkew;
  }

  /**
   * How long before the refresh token expires keep-alive renews an idle connection, or null for
   * none.
   *
   * @return the margin, or null
   */
  public @Nullable Duration keepAliveBefore() {
    return keepAliveBefore;
  }

  /**
   * Epoch millis from which {@code tokens} is no longer FRESH.
   *
   * @param tokens the token set
   * @return epoch millis from which {@code tokens} is no longer FRESH
   */
  public long renewAtMillis(TokenSet tokens) {
    long expires = tokens.expiresAt().toEpochMilli();
    long lifetime = expires - tokens.issuedAt().toEpochMilli();
    return expires - Math.min(renewBefore.toMillis(), lifetime / 2);
  }

  /**
   * Epoch millis from which {@code tokens} counts as EXPIRED.
   *
   * @param tokens the token set
   * @return epoch millis from which {@code tokens} counts as EXPIRED
   */
  public long expiredAtMillis(TokenSet tokens) {
    long expires = tokens.expiresAt().toEpochMilli();
    long lifetime = expires - tokens.issuedAt().toEpochMilli();
    return expires - Math.min(expirySkew.toMillis(), lifetime / 4);
  }

  /**
   * When {@code tokens}' refresh token needs a keep-alive renewal, or null when there is no refresh
   * token, no known refresh expiry, or no keep-alive in this policy. Clamped to half the refresh
   * token's remaining life at issue, so a short-lived refresh token is not renewed continuously.
   *
   * @param tokens the token set
   * @return when {@code tokens}' refresh token needs a keep-alive renewal, or null when there is no
   *     refresh token, no known refresh expiry, or no keep-alive in this policy
   */
  public @Nullable Instant keepAliveAt(TokenSet tokens) {
    Instant refreshExpires = tokens.refreshExpiresAt();
    if (keepAliveBefore == null || refreshExpires == null) {
      return null;
    }
    Duration refreshLife = Duration.between(tokens.issuedAt(), refreshExpires);
    Duration margin = refreshLife.isNegative() ? Duration.ZERO : refreshLife.dividedBy(2);
    if (keepAliveBefore.compareTo(margin) < 0) {
      margin = keepAliveBefore;
    }
    return refreshExpires.minus(margin);
  }

  @Override
  public String toString() {
    return "RenewalPolicy{renewBefore="
        + renewBefore
        + ", expirySkew="
        + expirySkew
        + (keepAliveBefore == null ? "" : ", keepAliveBefore=" + keepAliveBefore)
        + '}';
  }
}
