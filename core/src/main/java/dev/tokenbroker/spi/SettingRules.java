package dev.tokenbroker.spi;

import java.time.Duration;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Setting checks that several providers make, on top of {@link Settings}: an optional value of a
 * given shape, and a value a template connection takes from its subject. Every message names the
 * setting and never repeats its value. Stateless.
 */
public final class SettingRules {
  /** How long before expiry a token counts as expired already, at most: clock noise, latency. */
  public static final Duration EXPIRY_SKEW = Duration.ofSeconds(30);

  private SettingRules() {}

  /**
   * The {@code renew-before} setting, bounded, as a {@link RenewalPolicy} whose expiry skew is
   * {@link #EXPIRY_SKEW}, or {@code renew-before} itself when that is shorter.
   *
   * @param settings the settings
   * @param defaultValue what an absent setting means
   * @param min the shortest allowed
   * @param max the longest allowed (below the platform's token lifetime)
   * @param problem what to say of a value out of bounds, for a person
   * @return the policy, without keep-alive
   */
  public static RenewalPolicy renewBefore(
      Settings settings, Duration defaultValue, Duration min, Duration max, String problem) {
    Duration renewBefore = settings.duration("renew-before", defaultValue, min, max, problem);
    return RenewalPolicy.of(
        renewBefore, renewBefore.compareTo(EXPIRY_SKEW) < 0 ? renewBefore : EXPIRY_SKEW);
  }

  /**
   * An optional text setting that must match {@code pattern} as a whole when given.
   *
   * @param settings the settings
   * @param key the setting
   * @param pattern what it must look like
   * @param problem what to say otherwise, for a person
   * @return the value, trimmed, or null when absent
   */
  public static @Nullable String optional(
      Settings settings, String key, Pattern pattern, String problem) {
    String v = settings.optional(key);
    if (v != null && !pattern.matcher(v).matches()) {
      throw settings.invalid(key, problem);
    }
    return v;
  }

  /**
   * {@link Settings#orSubject}, checked against {@code pattern}: a value that came from the
   * template's subject is said to, so the message is not blamed on a setting nobody wrote.
   *
   * @param settings the settings
   * @param key the setting the subject stands for ({@code mall-id})
   * @param subject the template subject, or null
   * @param template the template's pattern, for the message ({@code cafe24:{mall}})
   * @param pattern what the value must look like
   * @param problem what to say otherwise, for a person
   * @return the value, or null when neither is given
   */
  public static @Nullable String orSubject(
      Settings settings,
      String key,
      @Nullable String subject,
      String template,
      Pattern pattern,
      String problem) {
    String v = settings.orSubject(key, subject, template);
    if (v != null && !pattern.matcher(v).matches()) {
      throw settings.invalid(key, (settings.has(key) ? "" : "(the template subject) ") + problem);
    }
    return v;
  }
}
