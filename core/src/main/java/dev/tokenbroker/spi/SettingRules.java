package dev.tokenbroker.spi;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Setting checks that several providers make, on top of {@link Settings}: an optional value of a
 * given shape, and a value a template connection takes from its subject. Every message names the
 * setting and never repeats its value. Stateless.
 */
public final class SettingRules {
  private SettingRules() {}

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
