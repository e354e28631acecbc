package dev.tokenbroker.cli;

import dev.tokenbroker.spi.Settings;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads {@code 300ms}, {@code 90s}, {@code 5m}, {@code 1h}, {@code 2d} or ISO-8601 {@code PT5M}:
 * the same grammar as durations in configuration files ({@link Settings#parseDuration}).
 */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    Duration d;
    try {
      d = Settings.parseDuration(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration: use e.g. 90s, 5m, 1h, 2d or PT5M");
    }
    if (d.isZero()) {
      throw new TypeConversionException("'" + value + "' must be a positive duration");
    }
    return d;
  }
}
