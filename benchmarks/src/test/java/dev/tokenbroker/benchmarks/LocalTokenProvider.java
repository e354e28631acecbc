package dev.tokenbroker.benchmarks;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A client-credentials provider that answers in-process: every {@link #obtain} returns a new
 * 64-character token valid for {@link #LIFETIME} from now. No HTTP, so benchmarks measure the
 * broker, not a network.
 */
final class LocalTokenProvider implements TokenProvider {
  static final String NAME = "bench";

  /** Long enough that no token turns STALE during a run. */
  static final Duration LIFETIME = Duration.ofHours(6);

  private static final RenewalPolicy POLICY =
      RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final Clock clock;
  private final AtomicLong obtained = new AtomicLong();

  LocalTokenProvider(Clock clock) {
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.CLIENT_CREDENTIALS;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return POLICY;
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    obtained.incrementAndGet();
    Instant now = clock.instant();
    return TokenSet.builder()
        .accessToken(randomToken())
        .tokenType("Bearer")
        .issuedAt(now)
        .expiresAt(now.plus(LIFETIME))
        .build();
  }

  /** How many tokens {@link #obtain} has handed out: lets a benchmark prove nothing renewed. */
  long obtained() {
    return obtained.get();
  }

  /** 64 hex characters, the length of the tokens the peers are measured with (issue 8). */
  static String randomToken() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] token = new char[64];
    for (int i = 0; i < token.length; i++) {
      token[i] = HEX[random.nextInt(16)];
    }
    return new String(token);
  }
}
