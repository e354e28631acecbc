package dev.tokenbroker.cafe24;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link LaunchReplayGuard#inMemory}: keys in a concurrent map, expired ones swept now and then so
 * the map holds about one freshness window's worth of launches. Thread-safe.
 */
final class InMemoryLaunchReplayGuard implements LaunchReplayGuard {
  private static final int SWEEP_EVERY = 64;

  private final Clock clock;
  private final ConcurrentHashMap<String, Instant> seen = new ConcurrentHashMap<>();
  private final AtomicInteger calls = new AtomicInteger();

  InMemoryLaunchReplayGuard(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public boolean firstUse(String key, Instant until) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(until, "until");
    Instant now = clock.instant();
    if (calls.incrementAndGet() % SWEEP_EVERY == 0) {
      seen.values().removeIf(u -> !u.isAfter(now));
    }
    boolean[] first = {false};
    // compute is atomic per key: of two concurrent first uses exactly one inserts.
    seen.compute(
        key,
        (k, held) -> {
          if (held == null || !held.isAfter(now)) {
            first[0] = true;
            return until;
          }
          return held;
        });
    return first[0];
  }

  @Override
  public String toString() {
    return "LaunchReplayGuard.inMemory{keys=" + seen.size() + '}';
  }
}
