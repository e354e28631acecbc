package dev.tokenbroker.cafe24;

import static java.time.temporal.ChronoField.HOUR_OF_DAY;
import static java.time.temporal.ChronoField.MINUTE_OF_HOUR;
import static java.time.temporal.ChronoField.NANO_OF_SECOND;
import static java.time.temporal.ChronoField.SECOND_OF_MINUTE;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.Temporal;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads Cafe24's token timestamps without trusting any time zone.
 *
 * <p>Cafe24 writes {@code expires_at}, {@code refresh_token_expires_at} and {@code issued_at} as
 * local date-times without an offset and with 0 to 9 fraction digits ({@code
 * 2018-01-08T19:15:21.981}); which zone they are in is undocumented (Asia/Seoul is likely). The
 * difference of two of them is the same in every zone without daylight saving time, so lifetimes
 * are taken as differences and anchored to the broker's own receive time.
 */
final class Cafe24Timestamps {
  private static final DateTimeFormatter FORMAT =
      new DateTimeFormatterBuilder()
          .append(DateTimeFormatter.ISO_LOCAL_DATE)
          .appendLiteral('T')
          .appendValue(HOUR_OF_DAY, 2)
          .appendLiteral(':')
          .appendValue(MINUTE_OF_HOUR, 2)
          .appendLiteral(':')
          .appendValue(SECOND_OF_MINUTE, 2)
          .optionalStart()
          .appendFraction(NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          // Cafe24 sends no offset today; should one appear, differences stay exact.
          .optionalStart()
          .appendOffsetId()
          .optionalEnd()
          .toFormatter(Locale.ROOT)
          .withResolverStyle(ResolverStyle.STRICT);

  private Cafe24Timestamps() {}

  /**
   * The timestamp as a {@link LocalDateTime} (no offset) or {@link OffsetDateTime}, or null when
   * {@code text} is not one.
   */
  static @Nullable Temporal parse(String text) {
    try {
      return (Temporal) FORMAT.parseBest(text.trim(), OffsetDateTime::from, LocalDateTime::from);
    } catch (DateTimeException e) {
      return null;
    }
  }

  /** {@code to - from}, or null when one has an offset and the other has none. */
  static @Nullable Duration between(Temporal from, Temporal to) {
    if (from.getClass() != to.getClass()) {
      return null;
    }
    return Duration.between(from, to);
  }
}
