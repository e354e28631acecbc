package dev.tokenbroker.testkit.cafe24;

import static java.time.temporal.ChronoField.NANO_OF_SECOND;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.Locale;

/**
 * How the {@link Cafe24Emulator} writes instants in token answers: a local date-time without an
 * offset, in a zone ({@link Cafe24Emulator#SEOUL} by default) and with a number of fraction digits
 * (3 by default), both switchable. Guarded by the emulator's lock.
 */
final class Cafe24Timestamps {
  private ZoneId zone = Cafe24Emulator.SEOUL;
  private DateTimeFormatter timestampFormat = timestampFormat(3);

  void zone(ZoneId zone) {
    this.zone = zone;
  }

  void fractionDigits(int digits) {
    timestampFormat = timestampFormat(digits);
  }

  String stamp(Instant instant) {
    return timestampFormat.format(LocalDateTime.ofInstant(instant, zone));
  }

  private static DateTimeFormatter timestampFormat(int fractionDigits) {
    DateTimeFormatterBuilder b =
        new DateTimeFormatterBuilder().appendPattern("uuuu-MM-dd'T'HH:mm:ss");
    if (fractionDigits > 0) {
      b.appendFraction(NANO_OF_SECOND, fractionDigits, fractionDigits, true);
    }
    return b.toFormatter(Locale.ROOT);
  }
}
