package dev.tokenbroker.kakao;

import dev.tokenbroker.spi.CallbackParams;
import dev.tokenbroker.spi.Settings;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Verifies Kakao's unlink callback ("연결 끊기 알림", the unlink webhook): when a user unlinks the app
 * outside the service (in their Kakao account settings, by deleting the account, through Kakao's
 * customer service), Kakao calls the URL registered for the app with {@code GET} or {@code POST}
 * (as registered), the header {@code Authorization: KakaoAK {primary admin key}} and the parameters
 * {@code app_id}, {@code user_id} and {@code referrer_type}. Kakao's documentation asks the service
 * to check the admin key and the app id, and to answer 200 within 3 seconds; the user's tokens are
 * already dead by then. Framework-neutral: pass the header and the parameters (the query for GET,
 * the form body for POST).
 *
 * <pre>{@code
 * KakaoUnlinkCallback unlinks = KakaoUnlinkCallback.of(adminKey, appId);
 * // in the web handler:
 * KakaoUnlinkCallback.Unlink unlink =
 *     unlinks.verify(request.getHeader("Authorization"), parameters);  // 401/400 on exception
 * // remove the connection kakao:{unlink.userId()} everywhere, then answer 200
 * }</pre>
 *
 * <p>The admin key is compared in constant time (as SHA-256 digests, so its length does not leak
 * either) and is kept only as that digest; nothing here prints it. Immutable and thread-safe.
 */
public final class KakaoUnlinkCallback {
  private static final String SCHEME = "KakaoAK";

  private final byte[] adminKeyDigest;
  private final @Nullable Long appId;

  private KakaoUnlinkCallback(String adminKey, @Nullable Long appId) {
    this.adminKeyDigest = CallbackParams.sha256(adminKey);
    this.appId = appId;
  }

  /**
   * A verifier for one app.
   *
   * @param adminKey the app's primary admin key (대표 어드민 키), which Kakao sends
   * @param appId the app's numeric id: a callback naming another app is refused; null accepts any
   *     app id (not recommended: the documentation asks for this check)
   * @return the verifier
   * @throws IllegalArgumentException if the admin key is blank or {@code appId} not positive
   */
  public static KakaoUnlinkCallback of(String adminKey, @Nullable Long appId) {
    if (Objects.requireNonNull(adminKey, "adminKey").isBlank()) {
      throw new IllegalArgumentException("the admin key must not be blank");
    }
    if (appId != null && appId <= 0) {
      throw new IllegalArgumentException("appId must be positive");
    }
    return new KakaoUnlinkCallback(adminKey.trim(), appId);
  }

  /**
   * A verifier from a Kakao app's settings (the {@code apps:} entry of {@code kakao:{user}}):
   * {@code admin-key} (required here) and {@code app-id}.
   *
   * @param settings the app's or a connection's settings
   * @return the verifier
   * @throws dev.tokenbroker.ConfigurationException naming the setting if {@code admin-key} is
   *     missing or malformed, or {@code app-id} is not the app's numeric id
   */
  public static KakaoUnlinkCallback from(Settings settings) {
    String key = KakaoConfig.adminKey(settings);
    if (key == null) {
      throw settings.invalid(
          KakaoConfig.ADMIN_KEY,
          "is required to verify unlink callbacks: the app's primary admin key, which Kakao sends");
    }
    return new KakaoUnlinkCallback(key, KakaoConfig.appId(settings));
  }

  /**
   * Verifies a callback given its headers (names compared ignoring case) and parameters.
   *
   * @param headers the request's headers
   * @param parameters the query parameters (GET) or form fields (POST), decoded
   * @return the unlink
   * @throws KakaoUnlinkException if the callback must not be believed
   */
  public Unlink verify(Map<String, String> headers, Map<String, String> parameters) {
    String authorization = null;
    for (Map.Entry<String, String> e : headers.entrySet()) {
      if (e.getKey() != null && e.getKey().equalsIgnoreCase("Authorization")) {
        authorization = e.getValue();
      }
    }
    return verify(authorization, parameters);
  }

  /**
   * Verifies a callback given its {@code Authorization} header and its parameters.
   *
   * @param authorization the {@code Authorization} header, or null when absent
   * @param parameters the query parameters (GET) or form fields (POST), decoded
   * @return the unlink
   * @throws KakaoUnlinkException if the callback must not be believed
   */
  public Unlink verify(@Nullable String authorization, Map<String, String> parameters) {
    if (!keyMatches(authorization)) {
      throw new KakaoUnlinkException(
          KakaoUnlinkException.Reason.NOT_FROM_KAKAO,
          "the Authorization header is missing or does not carry this app's admin key (KakaoAK)");
    }
    long app = number(parameters, "app_id");
    if (appId != null && app != appId) {
      throw new KakaoUnlinkException(
          KakaoUnlinkException.Reason.WRONG_APP, "'app_id' names another app than this one");
    }
    long user = number(parameters, "user_id");
    String referrer = parameters.get("referrer_type");
    if (referrer != null && (referrer.isBlank() || !referrer.matches("[A-Z_]{1,64}"))) {
      referrer = null; // informative only; an odd value does not make the unlink less real
    }
    return new Unlink(Long.toString(user), app, referrer);
  }

  /**
   * Verifies a callback whose parameters are still URL-encoded: the raw query of a GET or the body
   * of a POST ({@code application/x-www-form-urlencoded}).
   *
   * @param authorization the {@code Authorization} header, or null when absent
   * @param urlEncoded {@code app_id=…&user_id=…&referrer_type=…}
   * @return the unlink
   * @throws KakaoUnlinkException if the callback must not be believed (a parameter given twice is
   *     refused as ambiguous)
   */
  public Unlink verifyEncoded(@Nullable String authorization, String urlEncoded) {
    String text = urlEncoded.startsWith("?") ? urlEncoded.substring(1) : urlEncoded;
    Map<String, String> parameters;
    try {
      parameters =
          CallbackParams.pairs(
              text,
              v -> URLDecoder.decode(v, StandardCharsets.UTF_8),
              name -> malformed("a parameter is given twice"));
    } catch (IllegalArgumentException e) {
      throw malformed("the parameters are not URL-encoded");
    }
    return verify(authorization, parameters);
  }

  private boolean keyMatches(@Nullable String authorization) {
    if (authorization == null) {
      return false;
    }
    String h = authorization.trim();
    if (h.length() <= SCHEME.length()
        || !h.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
        || !Character.isWhitespace(h.charAt(SCHEME.length()))) {
      return false;
    }
    String sent = h.substring(SCHEME.length()).trim();
    // Digests of equal length, compared in constant time: neither content nor length leaks.
    return MessageDigest.isEqual(CallbackParams.sha256(sent), adminKeyDigest);
  }

  private static long number(Map<String, String> parameters, String name) {
    String v = parameters.get(name);
    if (v == null || v.isBlank()) {
      throw new KakaoUnlinkException(
          KakaoUnlinkException.Reason.MISSING_FIELD, "the '" + name + "' parameter is missing");
    }
    Long n = KakaoConfig.positiveId(v.trim());
    if (n == null) {
      throw malformed("'" + name + "' is not a positive number");
    }
    return n;
  }

  private static KakaoUnlinkException malformed(String message) {
    return new KakaoUnlinkException(KakaoUnlinkException.Reason.MALFORMED, message);
  }

  @Override
  public String toString() {
    return "KakaoUnlinkCallback{appId=" + (appId == null ? "any" : appId) + '}';
  }

  /** A verified unlink: whose connection to remove. Immutable. */
  public static final class Unlink {
    private final String userId;
    private final long appId;
    private final @Nullable String referrerType;

    Unlink(String userId, long appId, @Nullable String referrerType) {
      this.userId = userId;
      this.appId = appId;
      this.referrerType = referrerType;
    }

    /**
     * The Kakao user id ({@code user_id}): the subject of the {@code kakao:{user}} connection to
     * remove.
     *
     * @return the user id, decimal
     */
    public String userId() {
      return userId;
    }

    /**
     * The app the user unlinked ({@code app_id}).
     *
     * @return the app id
     */
    public long appId() {
      return appId;
    }

    /**
     * Why ({@code referrer_type}): {@code UNLINK_FROM_APPS} (the user, in Kakao's
     * connected-services page), {@code UNLINK_FROM_ADMIN} (customer service), {@code
     * ACCOUNT_DELETE}, {@code FORCED_ACCOUNT_DELETE}, {@code INCOMPLETE_SIGN_UP}, or another value
     * Kakao adds; null when absent or not a plain upper-case code.
     *
     * @return the referrer type, or null
     */
    public @Nullable String referrerType() {
      return referrerType;
    }

    /**
     * The parameters as one map, for logging: no secret is among them.
     *
     * @return user id, app id and referrer type
     */
    public Map<String, String> asMap() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("user_id", userId);
      m.put("app_id", Long.toString(appId));
      if (referrerType != null) {
        m.put("referrer_type", referrerType.toUpperCase(Locale.ROOT));
      }
      return Collections.unmodifiableMap(m);
    }

    @Override
    public String toString() {
      return "KakaoUnlinkCallback.Unlink{user="
          + userId
          + ", app="
          + appId
          + ", referrer="
          + referrerType
          + '}';
    }
  }
}
