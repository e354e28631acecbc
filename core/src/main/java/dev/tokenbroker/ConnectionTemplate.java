package dev.tokenbroker;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An app's pattern for connections made at run time: {@code cafe24:{mall}} names every mall under a
 * Cafe24 app, {@code kakao:{user}} every user of a Kakao app, {@code naver:seller:{account}} every
 * seller who designates a Naver agency application. The part in braces is the <em>subject</em>; the
 * rest is fixed. When one mall installs two Cafe24 apps, the app is part of the id: {@code
 * cafe24:{mall}@reviews}.
 *
 * <p>A subject is 1 to 64 characters of {@code [A-Za-z0-9._-]}: mall ids, numeric user ids and
 * account ids all fit, and no subject can reach into the fixed part of another pattern.
 */
final class ConnectionTemplate {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z][a-z0-9-]{0,31})}");
  private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  final String app;
  final String provider;
  final String prefix;
  final String placeholder;
  final String suffix;
  final Map<String, Object> settings;

  private ConnectionTemplate(
      String app,
      String provider,
      String prefix,
      String placeholder,
      String suffix,
      Map<String, Object> settings) {
    this.app = app;
    this.provider = provider;
    this.prefix = prefix;
    this.placeholder = placeholder;
    this.suffix = suffix;
    this.settings = settings;
  }

  /**
   * Parses {@code pattern} for {@code app}.
   *
   * @throws ConfigurationException naming the app's {@code template} setting
   */
  static ConnectionTemplate parse(String app, String pattern, Map<String, Object> settings) {
    Objects.requireNonNull(pattern, "pattern");
    int colon = pattern.indexOf(':');
    if (colon <= 0) {
      throw invalid(app, pattern, "must look like provider:{subject}, such as cafe24:{mall}");
    }
    String provider = pattern.substring(0, colon);
    String account = pattern.substring(colon + 1);
    java.util.regex.Matcher m = PLACEHOLDER.matcher(account);
    if (!m.find()) {
      throw invalid(app, pattern, "has no {placeholder} for the subject, such as {mall} or {user}");
    }
    String prefix = account.substring(0, m.start());
    String suffix = account.substring(m.end());
    if (suffix.contains("{") || prefix.contains("{") || prefix.contains("}")) {
      throw invalid(app, pattern, "must have exactly one {placeholder}");
    }
    try {
      // the fixed parts must make a valid id around any subject
      ConnectionId.of(provider, prefix + "x" + suffix);
    } catch (IllegalArgumentException e) {
      throw invalid(app, pattern, e.getMessage());
    }
    if (!suffix.isEmpty() && SUBJECT.matcher(suffix.substring(0, 1)).matches()) {
      throw invalid(
          app,
          pattern,
          "the text after the placeholder must start with a character a subject cannot hold"
              + " (such as @ or /), or the subject's end would be ambiguous");
    }
    if (!prefix.isEmpty() && SUBJECT.matcher(prefix.substring(prefix.length() - 1)).matches()) {
      throw invalid(
          app,
          pattern,
          "the text before the placeholder must end with a character a subject cannot hold"
              + " (such as : or /)");
    }
    return new ConnectionTemplate(app, provider, prefix, m.group(1), suffix, Map.copyOf(settings));
  }

  private static ConfigurationException invalid(String app, String pattern, String why) {
    return new ConfigurationException(
        null, "apps." + app + ".template", "'" + pattern + "' " + why);
  }

  /** The subject of {@code id} if this template names it, else null. */
  @Nullable String subjectOf(ConnectionId id) {
    if (!id.provider().equals(provider)) {
      return null;
    }
    String account = id.account();
    if (account.length() <= prefix.length() + suffix.length()
        || !account.startsWith(prefix)
        || !account.endsWith(suffix)) {
      return null;
    }
    String subject = account.substring(prefix.length(), account.length() - suffix.length());
    return SUBJECT.matcher(subject).matches() ? subject : null;
  }

  /**
   * The id of {@code subject}'s connection.
   *
   * @throws IllegalArgumentException if {@code subject} is not a valid subject
   */
  ConnectionId idFor(String subject) {
    Objects.requireNonNull(subject, "subject");
    if (!SUBJECT.matcher(subject).matches()) {
      throw new IllegalArgumentException(
          "a subject for app '"
              + app
              + "' must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got "
              + subject.length()
              + " characters)");
    }
    return ConnectionId.of(provider, prefix + subject + suffix);
  }

  /**
   * Whether some id could match both templates. Since the fixed parts meet the subject at a
   * character no subject holds, two templates overlap only when their fixed parts are equal.
   */
  boolean overlaps(ConnectionTemplate other) {
    return provider.equals(other.provider)
        && prefix.equals(other.prefix)
        && suffix.equals(other.suffix);
  }

  /** The pattern as written: {@code cafe24:{mall}}. */
  String pattern() {
    return provider + ":" + prefix + "{" + placeholder + "}" + suffix;
  }

  @Override
  public String toString() {
    return "ConnectionTemplate{app=" + app + ", " + pattern() + "}";
  }
}
