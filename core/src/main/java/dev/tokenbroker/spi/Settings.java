package dev.tokenbroker.spi;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A connection's (or a store's) settings as read from configuration, with typed getters whose
 * errors name the connection and the setting. Values are never echoed in error messages: they may
 * be secrets. Immutable.
 */
public final class Settings {
  /** Keys the broker itself reads; providers need not declare them as known. */
  public static final Set<String> CORE_KEYS = Set.of("provider", "app");

  /**
   * The longest duration any setting takes: ten years. Longer ones are typos, and would overflow
   * the millisecond arithmetic of the renewal rules.
   */
  public static final Duration MAX_DURATION = Duration.ofDays(3650);

  private final @Nullable ConnectionId connection;
  private final Map<String, Object> values;
  private final Function<String, @Nullable String> environment;

  /**
   * Settings whose environment variables (see {@link #environmentVariable}) come from the process.
   *
   * @param connection the connection these settings belong to, or null for store settings
   * @param values setting name to value: a string, number, boolean or list of those
   */
  public Settings(@Nullable ConnectionId connection, Map<String, ?> values) {
    this(connection, values, System::getenv);
  }

  /**
   * @param connection the connection these settings belong to, or null for store settings
   * @param values setting name to value: a string, number, boolean or list of those
   * @param environment looks up environment variables: the broker passes the environment it was
   *     built with ({@code TokenBrokerBuilder.environment}), so settings such as {@code key-env}
   *     read the same variables as {@code ${VAR}} in the configuration file
   */
  public Settings(
      @Nullable ConnectionId connection,
      Map<String, ?> values,
      Function<String, @Nullable String> environment) {
    this.connection = connection;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.environment = Objects.requireNonNull(environment, "environment");
  }

  /**
   * The value of an environment variable named by a setting (such as {@code key-env}), from the
   * broker's environment, or null when it is not set.
   *
   * @param name the variable's name
   * @return the value of an environment variable named by a setting (such as {@code key-env}), from
   *     the broker's environment, or null when it is not set.
   */
  public @Nullable String environmentVariable(String name) {
    return environment.apply(name);
  }

  /**
   * The connection, or null for store settings.
   *
   * @return the connection, or null for store settings
   */
  public @Nullable ConnectionId connection() {
    return connection;
  }

  /**
   * Every setting, unmodifiable.
   *
   * @return every setting, unmodifiable
   */
  public Map<String, Object> asMap() {
    return values;
  }

  /**
   * Whether the setting is present.
   *
   * @param key the setting
   * @return true if it has a value
   */
  public boolean has(String key) {
    Object v = values.get(key);
    return v != null && !(v instanceof String && ((String) v).isBlank());
  }

  /**
   * A required text setting, trimmed.
   *
   * @param key the extra's name
   * @return a required text setting, trimmed
   */
  public String require(String key) {
    String v = optional(key);
    if (v == null) {
      throw invalid(key, "is required");
    }
    return v;
  }

  /**
   * A text setting, trimmed, or null when absent or blank.
   *
   * @param key the extra's name
   * @return a text setting, trimmed, or null when absent or blank
   */
  public @Nullable String optional(String key) {
    Object v = values.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Collection || v instanceof Map) {
      throw invalid(key, "must be a single value, not a list or map");
    }
    String s = v.toString().trim();
    return s.isEmpty() ? null : s;
  }

  /**
   * A required text setting that must match {@code pattern} as a whole.
   *
   * @param key the setting
   * @param pattern what it must look like
   * @param problem what to say otherwise, for a person (the value is never echoed)
   * @return the value, trimmed
   */
  public String require(String key, Pattern pattern, String problem) {
    String v = require(key);
    if (!pattern.matcher(v).matches()) {
      throw invalid(key, problem);
    }
    return v;
  }

  /**
   * A {@linkplain #list list} setting whose every item must match {@code pattern}.
   *
   * @param key the setting
   * @param pattern what each item must look like
   * @param problem what to say of a bad item, for a person: follows "item N "
   * @return the items
   */
  public List<String> list(String key, Pattern pattern, String problem) {
    List<String> items = list(key);
    for (int i = 0; i < items.size(); i++) {
      if (!pattern.matcher(items.get(i)).matches()) {
        throw invalid(key, "item " + (i + 1) + " " + problem);
      }
    }
    return items;
  }

  /**
   * A required redirect URI, {@linkplain #redirectUri checked} and returned exactly as written:
   * platforms compare it with the registered value character for character, so it is not normalized
   * (a parsed URL would gain a trailing slash on a bare host).
   *
   * @param key the setting
   * @return the redirect URI as written
   */
  public String requireRedirectUri(String key) {
    String uri = require(key);
    redirectUri(key, uri);
    return uri;
  }

  /**
   * The setting as text, or {@code defaultValue} when it is absent.
   *
   * @param key the setting
   * @param defaultValue what an absent setting means
   * @return the value
   */
  public String optional(String key, String defaultValue) {
    String v = optional(key);
    return v == null ? defaultValue : v;
  }

  /**
   * A list setting: a YAML list, or one text of comma-separated items (properties files). Items are
   * trimmed, empty ones dropped. Empty when absent.
   *
   * @param key the extra's name
   * @return a list setting: a YAML list, or one text of comma-separated items (properties files)
   */
  public List<String> list(String key) {
    return SettingCollections.list(this, key, values.get(key));
  }

  /**
   * A map setting (a YAML mapping) of names to plain values, in the order written; empty when
   * absent. Values are never echoed in errors.
   *
   * @param key the setting
   * @return name to value, unmodifiable
   * @throws ConfigurationException if the value is not a mapping of names to plain values
   */
  public Map<String, String> map(String key) {
    return SettingCollections.map(this, key, values.get(key));
  }

  /**
   * A setting that must be one of {@code allowed} (compared ignoring case), or {@code defaultValue}
   * when absent.
   *
   * @param key the setting
   * @param defaultValue what an absent setting means
   * @param allowed the values accepted, in lower case
   * @return the value, in lower case
   * @throws ConfigurationException naming the allowed values otherwise
   */
  public String oneOf(String key, String defaultValue, String... allowed) {
    String v = optional(key, defaultValue).toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(v)) {
        return a;
      }
    }
    throw invalid(key, "must be one of " + String.join(", ", allowed));
  }

  /**
   * A duration: ISO-8601 ({@code PT5M}) or a number with a unit {@code ms}, {@code s}, {@code m},
   * {@code h}, {@code d} ({@code 5m}, {@code 14d}); a bare number is seconds.
   *
   * @param key the extra's name
   * @param defaultValue what an absent setting means
   * @return a duration: ISO-8601 ({@code PT5M}) or a number with a unit {@code ms}, {@code s},
   *     {@code m}, {@code h}, {@code d} ({@code 5m}, {@code 14d}); a bare number is seconds.
   */
  public Duration duration(String key, Duration defaultValue) {
    String v = optional(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      return parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw invalid(key, e.getMessage());
    }
  }

  /**
   * A {@linkplain #duration(String, Duration) duration} within {@code [min, max]}.
   *
   * @param key the setting
   * @param defaultValue what an absent setting means
   * @param min the shortest accepted
   * @param max the longest accepted
   * @param problem what to say otherwise, for a person
   * @return the duration
   * @throws ConfigurationException naming {@code key} when it is out of bounds
   */
  public Duration duration(
      String key, Duration defaultValue, Duration min, Duration max, String problem) {
    Duration d = duration(key, defaultValue);
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw invalid(key, problem);
    }
    return d;
  }

  /**
   * A setting that a connection made from a template ({@code cafe24:{mall}}) takes from the
   * template's subject: the configured value, else {@code subject}. Both given and different is an
   * error.
   *
   * @param key the setting the subject stands for ({@code mall-id})
   * @param subject the template subject ({@link ProviderContext#subject()}), or null
   * @param template the template's pattern, for the message ({@code cafe24:{mall}})
   * @return the value, or null when neither is given
   */
  public @Nullable String orSubject(String key, @Nullable String subject, String template) {
    String configured = optional(key);
    if (configured != null && subject != null && !configured.equals(subject)) {
      throw invalid(
          key,
          "differs from the value this connection was made for by its template ("
              + template
              + "): leave "
              + key
              + " out of a template app's settings, or make the two equal");
    }
    return configured != null ? configured : subject;
  }

  /**
   * Parses a duration as settings and the CLI write them: ISO-8601 ({@code PT5M}) or a number with
   * a unit {@code ms}, {@code s}, {@code m}, {@code h}, {@code d} ({@code 5m}, {@code 14d}); a bare
   * number is seconds.
   *
   * @param text the duration as written
   * @return the duration
   * @throws IllegalArgumentException for anything else, a negative duration or one longer than
   *     {@link #MAX_DURATION}; the message does not repeat the text
   */
  public static Duration parseDuration(String text) {
    return DurationSyntax.parse(text);
  }

  /**
   * The setting as a boolean ({@code true} or {@code false}), or {@code defaultValue} when absent.
   *
   * @param key the setting
   * @param defaultValue what an absent setting means
   * @return the value
   * @throws dev.tokenbroker.ConfigurationException if the value is not a boolean
   */
  public boolean bool(String key, boolean defaultValue) {
    String v = optional(key);
    if (v == null) {
      return defaultValue;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "true":
      case "yes":
      case "on":
        return true;
      case "false":
      case "no":
      case "off":
        return false;
      default:
        throw invalid(key, "must be true or false");
    }
  }

  /**
   * The setting as an integer, or {@code defaultValue} when absent.
   *
   * @param key the setting
   * @param defaultValue what an absent setting means
   * @return the value
   * @throws dev.tokenbroker.ConfigurationException if the value is not an integer
   */
  public int integer(String key, int defaultValue) {
    String v = optional(key);
    if (v == null) {
      return defaultValue;
    }
    if (!v.matches("[+-]?\\d{1,64}")) {
      throw invalid(key, "must be a whole number");
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw invalid(key, "is out of range");
    }
  }

  /**
   * A base URL: {@code https}, or {@code http} only for a loopback host (tests, emulators). The
   * root path prints as {@code /}; providers append their paths with {@link HttpUrl#newBuilder()}.
   *
   * @param key the extra's name
   * @param defaultValue what an absent setting means
   * @return a base URL: {@code https}, or {@code http} only for a loopback host (tests, emulators)
   */
  public HttpUrl url(String key, String defaultValue) {
    String v = optional(key, defaultValue);
    return checkedUrl(key, v);
  }

  /**
   * Parses and checks a URL the same way as {@link #url}, for values built from templates.
   *
   * @param key the extra's name
   * @param value the value
   * @return the URL
   */
  public HttpUrl checkedUrl(String key, String value) {
    return UrlChecks.baseUrl(this, key, value);
  }

  /**
   * True for {@code localhost} and for IP address literals in 127.0.0.0/8 or {@code ::1} (also
   * IPv4-mapped). The host is parsed as an address, never matched by prefix: {@code
   * 127.attacker.example} is a name, not a loopback address. No name is looked up.
   *
   * @param host a host name or address
   * @return whether {@code host} is a loopback address or {@code localhost}
   */
  public static boolean isLoopback(String host) {
    return UrlChecks.isLoopback(host);
  }

  /**
   * Checks a URL a platform redirects a browser to (a registered redirect URI): absolute, {@code
   * https}, or {@code http} on a loopback host only — as for base URLs. Returns the parsed URL; the
   * text itself should be kept as written (platforms compare it character for character).
   */
  public HttpUrl redirectUri(String key, String value) {
    return UrlChecks.redirectUri(this, key, value);
  }

  /**
   * Fails on settings that are neither in {@code known} nor {@link #CORE_KEYS}: a typo such as
   * {@code client_id} for {@code client-id} is reported at start-up instead of being ignored.
   *
   * @param known secrets to remove, besides anything that looks like a token
   */
  public void rejectUnknown(Collection<String> known) {
    Set<String> unknown = new TreeSet<>(values.keySet());
    unknown.removeAll(known);
    unknown.removeAll(CORE_KEYS);
    if (!unknown.isEmpty()) {
      String name = unknown.iterator().next();
      throw invalid(name, "is not a known setting; known settings are " + new TreeSet<>(known));
    }
  }

  /**
   * An exception naming the connection and {@code key}.
   *
   * @param key the extra's name
   * @param problem what is wrong, for a person
   * @return an exception naming the connection and {@code key}
   */
  public ConfigurationException invalid(String key, String problem) {
    return new ConfigurationException(connection, key, problem);
  }

  @Override
  public String toString() {
    return "Settings{"
        + (connection == null ? "store" : connection)
        + ", keys="
        + values.keySet()
        + '}';
  }
}
