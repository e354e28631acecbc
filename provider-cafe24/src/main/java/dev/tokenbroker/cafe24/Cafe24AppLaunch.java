package dev.tokenbroker.cafe24;

import dev.tokenbroker.cafe24.Cafe24LaunchException.Reason;
import dev.tokenbroker.spi.CallbackParams;
import dev.tokenbroker.spi.Settings;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Verifies the URL Cafe24 opens when a mall operator installs or launches the app (the "App URL"
 * registered for the app): {@code https://app.example.com/launch?is_multi_shop=T&lang=ko_KR
 * &mall_id=mymall&nation=KR&shop_no=1&timestamp=1622513360&user_id=…&user_name=…&user_type=P
 * &hmac=…}. Only a verified launch says which mall wants the app; start its authorization then:
 *
 * <pre>{@code
 * Cafe24AppLaunch launches = Cafe24AppLaunch.builder(clientSecret)
 *     .clock(clock)
 *     .replayGuard(sharedGuard)          // one for every instance: a store-backed guard
 *     .build();
 * // in the web handler for the App URL, with the query exactly as received:
 * Cafe24AppLaunch.Verified launch = launches.verify(request.getQueryString());
 * AuthorizationRequest auth =
 *     broker.startAuthorization(ConnectionId.of("cafe24", launch.mallId()));   // cafe24:{mall}
 * // redirect the browser to auth.url()
 * }</pre>
 *
 * <p>Checks, in this order: the required parameters ({@code mall_id}, {@code timestamp}, {@code
 * hmac}) are present once each; the signature, by the {@link Cafe24LaunchVerifier} (default {@link
 * Cafe24LaunchVerifier#hmacSha256()}); the mall id's shape; the timestamp (Unix seconds) is no
 * older than {@linkplain Builder#maxAge the freshness window} (default 5 minutes) and no further
 * ahead than {@linkplain Builder#clockSkew the clock skew} (default 1 minute), by the injected
 * clock; and, last, the {@link LaunchReplayGuard} has not seen this launch — so only a genuine,
 * fresh launch uses up a key. Every refusal is a {@link Cafe24LaunchException} with a {@link
 * Cafe24LaunchException.Reason}.
 *
 * <p>Immutable and thread-safe. {@code toString()} never shows the secret.
 */
public final class Cafe24AppLaunch {
  /** How old a launch may be by default. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(5);

  /** How far ahead of this machine's clock a launch's timestamp may be by default. */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofMinutes(1);

  /** The connection setting read by {@link #from}: the freshness window. */
  public static final String MAX_AGE_SETTING = "launch-max-age";

  static final Duration MIN_MAX_AGE = Duration.ofSeconds(10);
  static final Duration MAX_MAX_AGE = Duration.ofHours(1);

  private static final Pattern SECONDS = Pattern.compile("\\d{1,12}");
  private static final Pattern ABSOLUTE_URL = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://");
  private static final int MAX_QUERY_LENGTH = 8 * 1024;

  private final String clientSecret;
  private final Clock clock;
  private final Duration maxAge;
  private final Duration clockSkew;
  private final LaunchReplayGuard replayGuard;
  private final Cafe24LaunchVerifier verifier;

  private Cafe24AppLaunch(Builder b) {
    this.clientSecret = b.clientSecret;
    this.clock = b.clock;
    this.maxAge = b.maxAge;
    this.clockSkew = b.clockSkew;
    this.replayGuard = b.replayGuard == null ? LaunchReplayGuard.inMemory(b.clock) : b.replayGuard;
    this.verifier = b.verifier;
  }

  /**
   * A builder for the app whose client secret signs its launches.
   *
   * @param clientSecret the app's client secret (the same as the connection's {@code
   *     client-secret})
   * @return a builder with the defaults: system UTC clock, 5-minute window, 1-minute skew, an
   *     in-memory replay guard, the HMAC-SHA256 verifier
   * @throws IllegalArgumentException if the secret is blank
   */
  public static Builder builder(String clientSecret) {
    return new Builder(clientSecret);
  }

  /**
   * A verifier built from an app's settings (the {@code apps:} entry of a template such as {@code
   * cafe24:{mall}}): {@code client-secret}, and {@value #MAX_AGE_SETTING} for the window.
   *
   * @param settings the app's (or a connection's) settings
   * @param clock the broker's clock
   * @param replayGuard the guard shared by every instance
   * @return the verifier
   * @throws dev.tokenbroker.ConfigurationException naming the setting, if {@code client-secret} is
   *     missing or {@value #MAX_AGE_SETTING} is not a duration from 10s to 1h
   */
  public static Cafe24AppLaunch from(
      Settings settings, Clock clock, LaunchReplayGuard replayGuard) {
    return builder(settings.require("client-secret"))
        .clock(clock)
        .maxAge(maxAge(settings))
        .replayGuard(replayGuard)
        .build();
  }

  /** The {@value #MAX_AGE_SETTING} setting, checked. */
  static Duration maxAge(Settings settings) {
    return settings.duration(
        MAX_AGE_SETTING,
        DEFAULT_MAX_AGE,
        MIN_MAX_AGE,
        MAX_MAX_AGE,
        "must be from 10s to 1h: a launch is opened by the operator's click, seconds old");
  }

  /**
   * Verifies a launch and returns what it says.
   *
   * @param query the query string exactly as the web framework received it (still percent-encoded:
   *     {@code HttpServletRequest.getQueryString()}, not a decoded parameter map), with or without
   *     a leading {@code ?}; a whole URL is accepted too and its query taken
   * @return the verified launch
   * @throws Cafe24LaunchException if it must not be believed
   * @throws RuntimeException whatever the {@link LaunchReplayGuard} throws (its store is down):
   *     propagated, so a launch that could not be recorded is not accepted
   */
  public Verified verify(String query) {
    String raw = rawQuery(Objects.requireNonNull(query, "query"));
    Map<String, String> values = parse(raw);
    String hmac = values.get("hmac");
    String mallId = values.get("mall_id");
    String timestamp = values.get("timestamp");
    for (String[] required :
        new String[][] {{"mall_id", mallId}, {"timestamp", timestamp}, {"hmac", hmac}}) {
      if (required[1] == null || required[1].isEmpty()) {
        throw new Cafe24LaunchException(
            Reason.MISSING_FIELD, required[0], "the query has no '" + required[0] + "' parameter");
      }
    }
    if (!verifier.verify(raw, clientSecret)) {
      throw new Cafe24LaunchException(
          Reason.BAD_SIGNATURE,
          "hmac",
          "the signature does not match (tampered, or signed by another app)");
    }
    String mall = decode(mallId);
    if (mall == null || !Cafe24ProviderFactory.isMallId(mall)) {
      throw new Cafe24LaunchException(
          Reason.MALFORMED, "mall_id", "'mall_id' is not a Cafe24 mall id");
    }
    if (!SECONDS.matcher(timestamp).matches()) {
      throw new Cafe24LaunchException(
          Reason.MALFORMED, "timestamp", "'timestamp' is not a Unix time in seconds");
    }
    Instant issued = Instant.ofEpochSecond(Long.parseLong(timestamp));
    Instant now = clock.instant();
    if (issued.isBefore(now.minus(maxAge))) {
      throw new Cafe24LaunchException(
          Reason.EXPIRED,
          "timestamp",
          "the launch is older than " + maxAge.getSeconds() + "s: open the app again from Cafe24");
    }
    if (issued.isAfter(now.plus(clockSkew))) {
      throw new Cafe24LaunchException(
          Reason.EXPIRED,
          "timestamp",
          "the launch's timestamp is ahead of this machine's clock by more than "
              + clockSkew.getSeconds()
              + "s: check the clock (NTP)");
    }
    // Guarded last: only a genuine, fresh launch uses up a key. The key holds a digest of the
    // signature, never the signature itself.
    String key = "cafe24-launch:" + mall + ":" + timestamp + ":" + digest(hmac);
    if (!replayGuard.firstUse(key, issued.plus(maxAge))) {
      throw new Cafe24LaunchException(
          Reason.REPLAYED, "", "this launch was already used once: open the app again from Cafe24");
    }
    Map<String, String> decoded = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : values.entrySet()) {
      if (!e.getKey().equals("hmac")) {
        String v = decode(e.getValue());
        if (v != null) {
          decoded.put(e.getKey(), v);
        }
      }
    }
    return new Verified(mall, issued, decoded);
  }

  private static String rawQuery(String query) {
    String q = query;
    if (q.startsWith("?")) {
      q = q.substring(1);
    } else if (ABSOLUTE_URL.matcher(q).lookingAt()) {
      // A whole URL: its query, without a fragment. A bare query is taken as it is, so a '?'
      // or '#' inside a value cannot cut it short.
      int hash = q.indexOf('#');
      if (hash >= 0) {
        q = q.substring(0, hash);
      }
      int mark = q.indexOf('?');
      q = mark < 0 ? "" : q.substring(mark + 1);
    }
    if (q.length() > MAX_QUERY_LENGTH) {
      throw new Cafe24LaunchException(Reason.MALFORMED, "", "the query is too long to be a launch");
    }
    return q;
  }

  /** Parameter name to raw (still encoded) value; a name given twice is refused. */
  private static Map<String, String> parse(String raw) {
    return CallbackParams.pairs(
        raw,
        v -> v,
        name ->
            new Cafe24LaunchException(
                Reason.MALFORMED,
                printable(name),
                "a parameter is given twice: which one was signed is ambiguous"));
  }

  /** The field name if it is a plain parameter name, else empty: never echo arbitrary input. */
  private static String printable(String key) {
    return key.length() <= 32 && key.matches("[a-z_]+") ? key : "";
  }

  /** Percent-decodes a value as a form field (a {@code +} is a space); null for a broken escape. */
  private static @Nullable String decode(String raw) {
    byte[] bytes = HmacLaunchVerifier.percentDecode(raw.replace('+', ' '));
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }

  private static String digest(String value) {
    return HexFormat.of().formatHex(CallbackParams.sha256(value), 0, 16);
  }

  @Override
  public String toString() {
    return "Cafe24AppLaunch{maxAge="
        + maxAge
        + ", clockSkew="
        + clockSkew
        + ", replayGuard="
        + replayGuard
        + '}';
  }

  /**
   * A launch that passed every check: the mall to connect ({@code cafe24:{mall}}) and who opened
   * the app. Immutable; the signature is not kept.
   */
  public static final class Verified {
    private final String mallId;
    private final Instant timestamp;
    private final Map<String, String> parameters;

    Verified(String mallId, Instant timestamp, Map<String, String> parameters) {
      this.mallId = mallId;
      this.timestamp = timestamp;
      this.parameters = Collections.unmodifiableMap(parameters);
    }

    /**
     * The mall that launched the app: the subject of {@code cafe24:{mall}}.
     *
     * @return the mall id
     */
    public String mallId() {
      return mallId;
    }

    /**
     * When Cafe24 signed the launch.
     *
     * @return the launch's timestamp
     */
    public Instant timestamp() {
      return timestamp;
    }

    /**
     * The shop of a multi-shop mall ({@code shop_no}), or null.
     *
     * @return the shop number as sent, or null
     */
    public @Nullable String shopNo() {
      return parameters.get("shop_no");
    }

    /**
     * The operator's Cafe24 user id ({@code user_id}), or null.
     *
     * @return the user id, or null
     */
    public @Nullable String userId() {
      return parameters.get("user_id");
    }

    /**
     * The operator's name ({@code user_name}, decoded), or null.
     *
     * @return the user name, or null
     */
    public @Nullable String userName() {
      return parameters.get("user_name");
    }

    /**
     * The operator's type ({@code user_type}: {@code P} for the representative operator, {@code S}
     * for a sub-operator, as Cafe24 sends it), or null.
     *
     * @return the user type, or null
     */
    public @Nullable String userType() {
      return parameters.get("user_type");
    }

    /**
     * Every signed parameter except {@code hmac}, percent-decoded, in the order received.
     *
     * @return the parameters, unmodifiable
     */
    public Map<String, String> parameters() {
      return parameters;
    }

    @Override
    public String toString() {
      return "Cafe24AppLaunch.Verified{mall=" + mallId + ", timestamp=" + timestamp + '}';
    }
  }

  /** Options of a {@link Cafe24AppLaunch}; each may be set once. */
  public static final class Builder {
    private final String clientSecret;
    private Clock clock = Clock.systemUTC();
    private Duration maxAge = DEFAULT_MAX_AGE;
    private Duration clockSkew = DEFAULT_CLOCK_SKEW;
    private @Nullable LaunchReplayGuard replayGuard;
    private Cafe24LaunchVerifier verifier = Cafe24LaunchVerifier.hmacSha256();
    private final Set<String> set = new HashSet<>();

    private Builder(String clientSecret) {
      if (Objects.requireNonNull(clientSecret, "clientSecret").isBlank()) {
        throw new IllegalArgumentException("the client secret must not be blank");
      }
      this.clientSecret = clientSecret;
    }

    private void once(String option) {
      if (!set.add(option)) {
        throw new IllegalStateException(option + " was already set");
      }
    }

    /**
     * The clock that decides freshness (inject the broker's; tests use a fake one).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How old a launch may be, from 10 seconds to 1 hour; default 5 minutes.
     *
     * @param maxAge the freshness window
     * @return this builder
     * @throws IllegalArgumentException outside the bounds
     */
    public Builder maxAge(Duration maxAge) {
      once("maxAge");
      if (maxAge.compareTo(MIN_MAX_AGE) < 0 || maxAge.compareTo(MAX_MAX_AGE) > 0) {
        throw new IllegalArgumentException("maxAge must be from 10s to 1h");
      }
      this.maxAge = maxAge;
      return this;
    }

    /**
     * How far in the future a launch's timestamp may be (Cafe24's clock ahead of ours), from 0 to 5
     * minutes; default 1 minute.
     *
     * @param clockSkew the tolerance
     * @return this builder
     * @throws IllegalArgumentException outside the bounds
     */
    public Builder clockSkew(Duration clockSkew) {
      once("clockSkew");
      if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("clockSkew must be from 0 to 5m");
      }
      this.clockSkew = clockSkew;
      return this;
    }

    /**
     * The guard that refuses a launch used twice; default an in-memory one, which protects one
     * instance only.
     *
     * @param replayGuard the guard, shared by every instance
     * @return this builder
     */
    public Builder replayGuard(LaunchReplayGuard replayGuard) {
      once("replayGuard");
      this.replayGuard = Objects.requireNonNull(replayGuard, "replayGuard");
      return this;
    }

    /**
     * The signature check; default {@link Cafe24LaunchVerifier#hmacSha256()}.
     *
     * @param verifier the verifier
     * @return this builder
     */
    public Builder verifier(Cafe24LaunchVerifier verifier) {
      once("verifier");
      this.verifier = Objects.requireNonNull(verifier, "verifier");
      return this;
    }

    /**
     * Builds the verifier.
     *
     * @return the verifier
     */
    public Cafe24AppLaunch build() {
      return new Cafe24AppLaunch(this);
    }
  }
}
