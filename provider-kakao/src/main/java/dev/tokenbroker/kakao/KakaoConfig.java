package dev.tokenbroker.kakao;

import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.SettingRules;
import dev.tokenbroker.spi.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/** One Kakao connection's settings, checked. Immutable; {@code toString} hides the secret. */
final class KakaoConfig {
  static final String APP_ID = "app-id";
  static final String ADMIN_KEY = "admin-key";

  static final Set<String> KNOWN =
      Set.of(
          "client-id",
          "client-secret",
          "redirect-uri",
          "scopes",
          APP_ID,
          "auth-base-url",
          "api-base-url",
          "pkce",
          "validate-on-load",
          "renew-before",
          "keep-alive-before",
          ADMIN_KEY);

  private static final Pattern NO_SPACE = Pattern.compile("\\S+");
  private static final Pattern PRINTABLE = Pattern.compile("[\\x21-\\x7e]+");

  /** Kakao access tokens live 6 hours (REST) or 12 (native): an hour's margin is plenty. */
  static final Duration MAX_RENEW_BEFORE = Duration.ofHours(1);

  /**
   * Three weeks before the refresh token expires: well inside Kakao's "less than about one month
   * left" rotation window whichever month is meant, so the keep-alive refresh always rotates, and
   * still three weeks to ride out an outage.
   */
  static final Duration DEFAULT_KEEP_ALIVE_BEFORE = Duration.ofDays(21);

  /** Longer than this and a refresh may not rotate: Kakao rotates only in the last month. */
  static final Duration MAX_KEEP_ALIVE_BEFORE = Duration.ofDays(28);

  final String clientId;
  final @Nullable String clientSecret;
  final String redirectUri;
  final List<String> scopes;
  final @Nullable Long appId;
  final HttpUrl authBase;
  final HttpUrl apiBase;
  final boolean pkce;
  final boolean validateOnLoad;
  final RenewalPolicy renewal;
  final Duration keepAliveBefore;

  /**
   * For a connection made from a template ({@code kakao:{user}}) once the user is known: the Kakao
   * user id its tokens must belong to. Null otherwise.
   */
  final @Nullable Long subjectUserId;

  KakaoConfig(Settings s, @Nullable String subject) {
    s.rejectUnknown(KNOWN);
    clientId =
        s.require("client-id", NO_SPACE, "must be the app's REST API key, without white space");
    clientSecret = s.optional("client-secret");
    redirectUri = s.requireRedirectUri("redirect-uri");
    scopes = s.list("scopes", NO_SPACE, "has white space: list one consent item per entry");
    appId = appId(s);
    authBase = s.url("auth-base-url", "https://kauth.kakao.com");
    apiBase = s.url("api-base-url", "https://kapi.kakao.com");
    pkce = s.bool("pkce", true);
    validateOnLoad = s.bool("validate-on-load", false);
    if (validateOnLoad && appId == null) {
      throw s.invalid(
          APP_ID,
          "is required when validate-on-load is true: it is what a loaded token is checked against");
    }
    renewal =
        SettingRules.renewBefore(
            s,
            Duration.ofMinutes(5),
            Duration.ofMillis(1),
            MAX_RENEW_BEFORE,
            "must be positive and at most 1h (Kakao access tokens live 6 hours; the broker never"
                + " renews earlier than half the lifetime anyway)");
    // Read by KakaoUnlinkCallback.from, checked here too so a bad one fails at start-up.
    adminKey(s);
    subjectUserId = subject == null ? null : positiveId(subject);
    if (subject != null && subjectUserId == null) {
      throw s.invalid(
          "{user}",
          "(the template subject of kakao:{user}) must be a Kakao user id, a positive number");
    }
    keepAliveBefore =
        s.duration(
            "keep-alive-before",
            DEFAULT_KEEP_ALIVE_BEFORE,
            Duration.ofMillis(1),
            MAX_KEEP_ALIVE_BEFORE,
            "must be positive and at most 28d: Kakao hands out a new refresh token only in the"
                + " refresh token's last month");
  }

  /** The {@code app-id} setting, or null when absent. */
  static @Nullable Long appId(Settings s) {
    String app = s.optional(APP_ID);
    if (app == null) {
      return null;
    }
    try {
      long id = Long.parseLong(app);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // not a number: refused below
    }
    throw s.invalid(APP_ID, "must be the app's numeric ID from the Kakao Developers console");
  }

  /** The {@code admin-key} setting (a secret: never echoed), or null when absent. */
  static @Nullable String adminKey(Settings s) {
    return SettingRules.optional(
        s,
        ADMIN_KEY,
        PRINTABLE,
        "must be the app's primary admin key: printable characters, no white space");
  }

  /** Kakao's ids (apps, users) are positive decimal numbers: the number, or null if not one. */
  static @Nullable Long positiveId(String text) {
    if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    try {
      long id = Long.parseLong(text);
      return id > 0 ? id : null;
    } catch (NumberFormatException e) {
      return null; // out of range
    }
  }

  @Override
  public String toString() {
    return "KakaoConfig{clientId="
        + clientId
        + ", clientSecret="
        + (clientSecret == null ? "none" : "set")
        + ", scopes="
        + scopes
        + ", appId="
        + appId
        + ", pkce="
        + pkce
        + '}';
  }
}
