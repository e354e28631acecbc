package dev.tokenbroker.testkit.naver;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The {@link NaverEmulator}'s own time: the injected clock plus a settable skew, so the emulated
 * server can run ahead of or behind the client. Its {@code Date} headers, body timestamps,
 * timestamp checks and token expiries all read this. Thread-safe.
 */
final class NaverServerClock {
  private final Clock clock;
  volatile Duration skew = Duration.ZERO;

  NaverServerClock(Clock clock) {
    this.clock = clock;
  }

  Instant now() {
    return clock.instant().plus(skew);
  }
}
