package dev.tokenbroker.benchmarks;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An authorization-code provider that answers in-process, the refresh-token sibling of {@link
 * LocalTokenProvider}: {@link #grant()} stands for the person's approval (a 64-character access
 * token valid for {@link LocalTokenProvider#LIFETIME} and a 64-character refresh token), and {@link
 * #refresh} counts and rotates both. No HTTP.
 */
final class LocalRefreshProvider implements TokenProvider {
  static final String NAME = LocalTokenProvider.NAME;

  /** The same as {@link LocalTokenProvider}'s: renew 5 minutes early, the last 30 s expired. */
  private static final RenewalPolicy POLICY =
      RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));

  private final Clock clock;
  private final AtomicLong refreshed = new AtomicLong();

  LocalRefreshProvider(Clock clock) {
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.AUTHORIZATION_CODE;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return POLICY;
  }

  /** A first token set, as the authorization-code exchange would return it. */
  TokenSet grant() {
    Instant now = clock.instant();
    return TokenSet.builder()
        .accessToken(LocalTokenProvider.randomToken())
        .tokenType("Bearer")
        .refreshToken(LocalTokenProvider.randomToken())
        .issuedAt(now)
        .expiresAt(now.plus(LocalTokenProvider.LIFETIME))
        .build();
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    refreshed.incrementAndGet();
    return grant();
  }

  /** How many times {@link #refresh} ran: lets a measurement prove nothing was renewed. */
  long refreshed() {
    return refreshed.get();
  }
}
