package dev.tokenbroker.cli;

import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Small formatting helpers for people: durations, instants, what a token set says. */
final class Text {
  static final String NONE = "—";

  private Text() {}

  /**
   * {@code 13d 23h}, {@code 1h 59m}, {@code 4m 10s}, {@code 12s}, {@code 300ms}: two units at most.
   */
  static String duration(Duration d) {
    Duration abs = d.abs();
    if (abs.compareTo(Duration.ofSeconds(1)) < 0 && !abs.isZero()) {
      return abs.toMillis() + "ms";
    }
    long s = abs.getSeconds();
    long days = s / 86_400;
    long hours = s % 86_400 / 3_600;
    long minutes = s % 3_600 / 60;
    long seconds = s % 60;
    if (days > 0) {
      return days + "d " + hours + "h";
    }
    if (hours > 0) {
      return hours + "h " + minutes + "m";
    }
    if (minutes > 0) {
      return minutes + "m " + seconds + "s";
    }
    return seconds + "s";
  }

  /** Time left until {@code at}: {@code 1h 59m}, or {@code expired} when it has passed. */
  static String left(@Nullable Instant at, Instant now) {
    if (at == null) {
      return NONE;
    }
    return at.isAfter(now) ? duration(Duration.between(now, at)) : "expired";
  }

  /** {@code in 1h 59m} or {@code 3m 10s ago}. */
  static String relative(@Nullable Instant at, Instant now) {
    if (at == null) {
      return NONE;
    }
    return at.isAfter(now)
        ? "in " + duration(Duration.between(now, at))
        : duration(Duration.between(at, now)) + " ago";
  }

  /** An instant to the second, UTC. */
  static String instant(@Nullable Instant at) {
    return at == null ? NONE : at.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /**
   * What a token set tells a person about the connection — never a token: the provider's extras
   * (mall, user, app, shop) without raw timestamps or anything that looks secret, the scopes, and
   * both expiries.
   */
  static Map<String, String> describe(TokenSet tokens, Instant now) {
    Map<String, String> lines = new LinkedHashMap<>();
    tokens
        .extras()
        .forEach(
            (key, value) -> {
              String k = key.toLowerCase(Locale.ROOT);
              if (!k.endsWith("_raw") && !k.endsWith("token") && !k.endsWith("secret")) {
                lines.put(key.replace('_', ' '), value);
              }
            });
    lines.put("scopes", tokens.scopes().isEmpty() ? NONE : String.join(", ", tokens.scopes()));
    lines.put(
        "access token",
        "expires " + instant(tokens.expiresAt()) + " (" + relative(tokens.expiresAt(), now) + ")");
    if (tokens.refreshToken() != null) {
      lines.put(
          "refresh token",
          tokens.refreshExpiresAt() == null
              ? "expiry not given by the platform"
              : "expires "
                  + instant(tokens.refreshExpiresAt())
                  + " ("
                  + relative(tokens.refreshExpiresAt(), now)
                  + ")");
    }
    return lines;
  }

  /** Prints {@code lines} as an indented two-column list. */
  static void printLines(java.io.PrintWriter out, Map<String, String> lines) {
    int width = 0;
    for (String k : lines.keySet()) {
      width = Math.max(width, k.length());
    }
    for (Map.Entry<String, String> e : lines.entrySet()) {
      out.println("  " + pad(e.getKey(), width) + "  " + e.getValue());
    }
  }

  static String pad(String s, int width) {
    StringBuilder b = new StringBuilder(s);
    while (b.length() < width) {
      b.append(' ');
    }
    return b.toString();
  }
}
