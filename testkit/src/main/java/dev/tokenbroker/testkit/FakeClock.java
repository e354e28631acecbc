package dev.tokenbroker.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that moves only when told: tests jump 13 days in one line instead of sleeping.
 * Millisecond resolution. Thread-safe; {@link #millis()} does not allocate.
 */
public final class FakeClock extends Clock {
  private final AtomicLong millis;
  private final ZoneId zone;

  private FakeClock(AtomicLong millis, ZoneId zone) {
    this.millis = millis;
    this.zone = zone;
  }

  /**
   * A clock at {@code start}, in UTC.
   *
   * @param start the first instant
   * @return a clock at {@code start}, in UTC
   */
  public static FakeClock at(Instant start) {
    return new FakeClock(new AtomicLong(start.toEpochMilli()), ZoneOffset.UTC);
  }

  /**
   * A clock at 2026-01-01T00:00:00Z.
   *
   * @return a clock at 2026-01-01T00:00:00Z
   */
  public static FakeClock create() {
    return at(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /**
   * Moves the clock forward (or back, with a negative duration).
   *
   * @param duration the duration
   * @return this clock
   */
  public FakeClock advance(Duration duration) {
    millis.addAndGet(duration.toMillis());
    return this;
  }

  /**
   * Sets the clock to {@code instant}.
   *
   * @param instant the instant
   * @return this clock
   */
  public FakeClock set(Instant instant) {
    millis.set(instant.toEpochMilli());
    return this;
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A view of the same moving time in another zone. */
  @Override
  public Clock withZone(ZoneId zone) {
    return new FakeClock(millis, Objects.requireNonNull(zone));
  }

  @Override
  public String toString() {
    return "FakeClock[" + instant() + "]";
  }
}
