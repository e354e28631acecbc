package dev.tokenbroker.spi;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The syntax of a duration as settings and the CLI write them, behind {@link
 * Settings#parseDuration}: ISO-8601 ({@code PT5M}) or a number with a unit {@code ms}, {@code s},
 * {@code m}, {@code h}, {@code d} ({@code 5m}, {@code 14d}); a bare number is seconds. At most
 * {@link Settings#MAX_DURATION}, never negative.
 */
final class DurationSyntax {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

  private DurationSyntax() {}

  /**
   * The duration {@code text} stands for.
   *
   * @throws IllegalArgumentException for anything else, a negative duration or one longer than
   *     {@link Settings#MAX_DURATION}; the message does not repeat the text
   */
  static Duration parse(String text) {
    String v = text.trim();
    Duration d;
    if (v.length() > 64) {
      throw new IllegalArgumentException("must be a duration such as 5m, 300s, 14d or PT5M");
    }
    Matcher m = DURATION.matcher(v.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      if (m.group(1).length() > 12) {
        // 13 digits of any unit exceed the bound; parsing them could overflow a long.
        throw new IllegalArgumentException(
            "must be at most " + Settings.MAX_DURATION.toDays() + "d");
      }
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      switch (unit) {
        case "ms":
          d = Duration.ofMillis(n);
          break;
        case "m":
          d = Duration.ofMinutes(n);
          break;
        case "h":
          d = Duration.ofHours(n);
          break;
        case "d":
          d = Duration.ofDays(n);
          break;
        default:
          d = Duration.ofSeconds(n);
      }
    } else {
      try {
        d = Duration.parse(v.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException | ArithmeticException e) {
        throw new IllegalArgumentException("must be a duration such as 5m, 300s, 14d or PT5M");
      }
    }
    if (d.isNegative()) {
      throw new IllegalArgumentException("must not be negative");
    }
    if (d.compareTo(Settings.MAX_DURATION) > 0) {
      throw new IllegalArgumentException("must be at most " + Settings.MAX_DURATION.toDays() + "d");
    }
    return d;
  }
}
