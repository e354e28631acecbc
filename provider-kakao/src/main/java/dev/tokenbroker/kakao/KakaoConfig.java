package dev.tokenbroker.kakao;

import dev.tokenbroker.spi.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/** One Kakao connection's settings, checked. Immutable; {@code toString} hides the secret. */
final class KakaoConfig {
  static final String CLIENT_ID = "client-id";
  static final String CLIENT_SECRET = "client-secret";
  static final String REDIRECT_URI = "redirect-uri";
  static final String SCOPES = "scopes";
  static final String APP_ID = "app-id";
  static final String AUTH_BASE_URL = "auth-base-url";
  static final String API_BASE_URL = "api-base-url";
  static final String PKCE = "pkce";
  static final String VALIDATE_ON_LOAD = "validate-on-load";
  static final String RENEW_BEFORE = "renew-before";
  static final String KEEP_ALIVE_BEFORE = "keep-alive-before";
  static final String ADMIN_KEY = "admin-key";

  static final Set<String> KNOWN =
      Set.of(
          CLIENT_ID,
          CLIENT_SECRET,
          REDIRECT_URI,
          SCOPES,
          APP_ID,
          AUTH_BASE_URL,
          API_BASE_URL,
          PKCE,
          VALIDATE_ON_LOAD,
          RENEW_BEFORE,
          KEEP_ALIVE_BEFORE,
          ADMIN_KEY);

  private static final Pattern NO_SPACE = Pattern.compile("\\S+");

  static final String DEFAULT_AUTH_BASE_URL = "https://kauth.kakao.com";
  static final String DEFAULT_API_BASE_URL = "https://kapi.kakao.com";
  static final Duration DEFAULT_RENEW_BEFORE = Duration.ofMinutes(5);

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
  final Duration renewBefore;
  final Duration keepAliveBefore;

  /**
   * For a connection made from a template ({@code kakao:{user}}) once the user is known: the Kakao
   * user id its tokens must belong to. Null otherwise.
   */
  final @Nullable Long subjectUserId;

  private KakaoConfig(Settings s, @Nullable String subject) {
    s.rejectUnknown(KNOWN);
    clientId =
        s.require(CLIENT_ID, NO_SPACE, "must be the app's REST API key, without white space");
    clientSecret = s.optional(CLIENT_SECRET);
    redirectUri = s.requireRedirectUri(REDIRECT_URI);
    scopes = s.list(SCOPES, NO_SPACE, "has white space: list one consent item per entry");
    String app = s.optional(APP_ID);
    if (app == null) {
      appId = null;
    } else {
      try {
        appId = Long.parseLong(app);
      } catch (NumberFormatException e) {
        throw s.invalid(APP_ID, "must be the app's numeric ID from the Kakao Developers console");
      }
      if (appId <= 0) {
        throw s.invalid(APP_ID, "must be the app's numeric ID from the Kakao Developers console");
      }
    }
    authBase = s.url(AUTH_BASE_URL, DEFAULT_AUTH_BASE_URL);
    apiBase = s.url(API_BASE_URL, DEFAULT_API_BASE_URL);
    pkce = s.bool(PKCE, true);
    validateOnLoad = s.bool(VALIDATE_ON_LOAD, false);
    if (validateOnLoad && appId == null) {
      throw s.invalid(
          APP_ID,
          "is required when validate-on-load is true: it is what a loaded token is checked against");
    }
    renewBefore =
        s.duration(
            RENEW_BEFORE,
            DEFAULT_RENEW_BEFORE,
            Duration.ofMillis(1),
            MAX_RENEW_BEFORE,
            "must be positive and at most 1h (Kakao access tokens live 6 hours; the broker never"
                + " renews earlier than half the lifetime anyway)");
    // Read by KakaoUnlinkCallback.from, checked here too so a bad one fails at start-up.
    adminKey(s);
    subjectUserId = subject == null ? null : userId(s, subject);
    keepAliveBefore =
        s.duration(
            KEEP_ALIVE_BEFORE,
            DEFAULT_KEEP_ALIVE_BEFORE,
            Duration.ofMillis(1),
            MAX_KEEP_ALIVE_BEFORE,
            "must be positive and at most 28d: Kakao hands out a new refresh token only in the"
                + " refresh token's last month");
  }

  static KakaoConfig from(Settings settings) {
    return new KakaoConfig(settings, null);
  }

  static KakaoConfig from(Settings settings, @Nullable String subject) {
    return new KakaoConfig(settings, subject);
  }

  /** The {@code admin-key} setting (a secret: never echoed), or null when absent. */
  static @Nullable String adminKey(Settings s) {
    String key = s.optional(ADMIN_KEY);
    if (key != null && !key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw s.invalid(
          ADMIN_KEY, "must be the app's primary admin key: printable characters, no white space");
    }
    return key;
  }

  /** A template subject as a Kakao user id (a positive number); the setting named is the id's. */
  private static long userId(Settings s, String subject) {
    if (subject.length() <= 19 && subject.chars().allMatch(c -> c >= '0' && c <= '9')) {
      try {
        long id = Long.parseLong(subject);
        if (id > 0) {
          return id;
        }
      } catch (NumberFormatException e) {
        // fall through: out of range
      }
    }
    throw s.invalid(
        "{user}",
        "(the template subject of kakao:{user}) must be a Kakao user id, a positive number");
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
