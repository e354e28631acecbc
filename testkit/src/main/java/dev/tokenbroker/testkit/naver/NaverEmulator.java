package dev.tokenbroker.testkit.naver;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.mindrot.jbcrypt.BCrypt;

/**
 * An emulator of the Naver Commerce API's token endpoint and one API resource, strict the way the
 * platform is:
 *
 * <ul>
 *   <li>{@code POST /external/v1/oauth2/token} checks every field, verifies {@code
 *       client_secret_sign} by recomputing it with the registered secret, and refuses timestamps
 *       more than 5 minutes old (and, {@linkplain #rejectFutureTimestamps switchable}, from the
 *       future) against its own clock;
 *   <li>one token exists per {@code (client_id, type, account_id)}: asking again while 30 minutes
 *       or more remain returns the same token, below that a new one is issued and the old one keeps
 *       working until it expires;
 *   <li>{@code GET /external/v1/seller/account} needs a valid {@code Bearer} token, else 401 {@code
 *       GW.AUTHN};
 *   <li>agency applications ({@link #registerAgencyApplication}, API대행사) ask for tokens at {@code
 *       POST /partner/v1/oauth2/token}, always with {@code type=SELLER}, and call {@code GET
 *       /partner/v1/seller/account}; other applications use the {@code /external} paths. Whether
 *       the platform also accepts the other prefix is undocumented: by default each application
 *       kind is held to its own prefix (403 otherwise), and {@link #enforceAgencyPaths(boolean)
 *       enforceAgencyPaths(false)} accepts either;
 *   <li>every answer carries a {@code Date} header from the emulator's clock (which can run
 *       {@linkplain #serverClockSkew ahead of or behind} the client's) and a {@code
 *       GNCP-GW-Trace-ID}.
 * </ul>
 *
 * <p>Error shapes: the API's {@code {code, message, timestamp, invalidInputs:[{name, type,
 * message}]}} and the gateway's {@code {code:"GW.…", message, timestamp, traceId}}. The platform
 * does not document the codes for a stale timestamp or a bad signature; this emulator answers a bad
 * signature with 400 and an invalid input named {@code client_secret_sign}, and a stale timestamp
 * in one of two {@linkplain TimestampRejection shapes}, so clients are tested against both.
 *
 * <p>Thread-safe: switches may be flipped while requests are in flight. Counters count requests
 * that reached the emulator's logic, not those answered by an injected {@link Fault}.
 */
public final class NaverEmulator extends EmulatorServer {
  /** The token endpoint's path. */
  public static final String TOKEN_PATH = "/external/v1/oauth2/token";

  /** The token endpoint of agency applications (API대행사). */
  public static final String PARTNER_TOKEN_PATH = "/partner/v1/oauth2/token";

  /** The API resource for agency applications. */
  public static final String PARTNER_ACCOUNT_PATH = "/partner/v1/seller/account";

  /** A Bearer-protected seller account resource. */
  public static final String ACCOUNT_PATH = "/external/v1/seller/account";

  /** The header carrying the gateway's trace id on every answer. */
  public static final String TRACE_HEADER = "GNCP-GW-Trace-ID";

  /** How long a token lives. */
  public static final Duration TOKEN_LIFETIME = Duration.ofHours(3);

  /** While at least this much remains, asking again returns the same token. */
  public static final Duration SAME_TOKEN_WINDOW = Duration.ofMinutes(30);

  /** How old a signed timestamp may be. */
  public static final Duration TIMESTAMP_WINDOW = Duration.ofMinutes(5);

  /** What {@code expires_in} says when the same token is handed out again: undocumented. */
  public enum SameTokenExpiresIn {
    /** Always 10800, the full lifetime, even for a token with 40 minutes left. */
    FULL_LIFETIME,
    /** The seconds the token really has left. */
    REMAINING_TIME
  }

  /** How a timestamp outside the window is refused: undocumented, so two plausible shapes. */
  public enum TimestampRejection {
    /** 400 with code {@code BadRequest} and an invalid input named {@code timestamp}. */
    INVALID_INPUTS,
    /** 403 with code {@code Forbidden} and only a message that mentions the timestamp. */
    FORBIDDEN_MESSAGE
  }

  private static final Pattern SECRET = Pattern.compile("\\$2a\\$\\d{2}\\$[./A-Za-z0-9]{22}");
  private static final Pattern DIGITS = Pattern.compile("\\d{1,18}");
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter BODY_TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.of("Asia/Seoul"));

  private final Map<String, String> secrets = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> sellers = new ConcurrentHashMap<>();
  private final Set<String> agencies = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private final Map<Resource, Issued> current = new HashMap<>(); // guarded by lock
  private final Map<String, Issued> byToken = new HashMap<>(); // guarded by lock
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong traceIds = new AtomicLong();

  private final AtomicInteger tokenRequests = new AtomicInteger();
  private final AtomicInteger badSignatures = new AtomicInteger();
  private final AtomicInteger timestampRejections = new AtomicInteger();
  private final AtomicInteger issuedTokens = new AtomicInteger();
  private final AtomicInteger apiRequests = new AtomicInteger();
  private final AtomicInteger rejectedApiRequests = new AtomicInteger();

  private volatile SameTokenExpiresIn sameTokenExpiresIn = SameTokenExpiresIn.FULL_LIFETIME;
  private volatile TimestampRejection timestampRejection = TimestampRejection.INVALID_INPUTS;
  private volatile boolean rejectFutureTimestamps = true;
  private volatile Duration futureTolerance = Duration.ofSeconds(1);
  private volatile Duration serverClockSkew = Duration.ZERO;
  private volatile boolean ipAllowed = true;
  private volatile boolean acceptQueryParameters = true;
  private volatile boolean enforceAgencyPaths = true;

  /**
   * An emulator on {@code clock}; call {@link #start()} and register an application.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public NaverEmulator(Clock clock) {
    super(clock);
  }

  // ---- set-up and switches -------------------------------------------------------------------

  /**
   * Registers (or re-registers, as when a secret is reissued) an application.
   *
   * @param clientId the app's client id
   * @param clientSecret the app's client secret
   * @return this emulator
   * @throws IllegalArgumentException if {@code clientSecret} is not a {@code $2a$} bcrypt salt
   */
  public NaverEmulator registerApplication(String clientId, String clientSecret) {
    Objects.requireNonNull(clientId, "clientId");
    if (!SECRET.matcher(Objects.requireNonNull(clientSecret, "clientSecret")).matches()) {
      throw new IllegalArgumentException(
          "a Naver client secret is a bcrypt salt: $2a$, two digits, $, 22 of [./A-Za-z0-9]");
    }
    secrets.put(clientId, clientSecret);
    return this;
  }

  /**
   * Registers an agency application (API대행사): it serves the sellers {@linkplain #linkSeller linked}
   * to it, with {@code type=SELLER} tokens only, under the {@code /partner} paths.
   *
   * @param clientId the app's client id
   * @param clientSecret the app's client secret
   * @return this emulator
   * @throws IllegalArgumentException if {@code clientSecret} is not a {@code $2a$} bcrypt salt
   */
  public NaverEmulator registerAgencyApplication(String clientId, String clientSecret) {
    registerApplication(clientId, clientSecret);
    agencies.add(clientId);
    return this;
  }

  /**
   * Whether agency applications must use the {@code /partner} paths and the others the {@code
   * /external} ones (403 otherwise). Undocumented; default true, the strict reading.
   *
   * @param enforce whether to enforce
   * @return this emulator
   */
  public NaverEmulator enforceAgencyPaths(boolean enforce) {
    this.enforceAgencyPaths = enforce;
    return this;
  }

  /**
   * Lets {@code clientId} ask for {@code type=SELLER} tokens of {@code accountId}.
   *
   * @param clientId the app's client id
   * @param accountId the seller account
   * @return this emulator
   */
  public NaverEmulator linkSeller(String clientId, String accountId) {
    sellers
        .computeIfAbsent(Objects.requireNonNull(clientId), k -> ConcurrentHashMap.newKeySet())
        .add(Objects.requireNonNull(accountId));
    return this;
  }

  /**
   * What {@code expires_in} says when the same token comes back. Default {@code FULL_LIFETIME}.
   *
   * @param mode the mode
   * @return this emulator
   */
  public NaverEmulator sameTokenExpiresIn(SameTokenExpiresIn mode) {
    this.sameTokenExpiresIn = Objects.requireNonNull(mode);
    return this;
  }

  /**
   * How a stale or future timestamp is refused. Default {@code INVALID_INPUTS}.
   *
   * @param shape the shape of the answer
   * @return this emulator
   */
  public NaverEmulator timestampRejection(TimestampRejection shape) {
    this.timestampRejection = Objects.requireNonNull(shape);
    return this;
  }

  /**
   * Whether timestamps more than {@link #futureTolerance} ahead of the emulator's clock are refused
   * (default true) or accepted like any other.
   *
   * @param reject whether to reject
   * @return this emulator
   */
  public NaverEmulator rejectFutureTimestamps(boolean reject) {
    this.rejectFutureTimestamps = reject;
    return this;
  }

  /**
   * How far ahead a timestamp may be when future ones are refused. Default 1 s.
   *
   * @param tolerance the tolerance
   * @return this emulator
   */
  public NaverEmulator futureTolerance(Duration tolerance) {
    if (tolerance.isNegative()) {
      throw new IllegalArgumentException("tolerance must not be negative");
    }
    this.futureTolerance = tolerance;
    return this;
  }

  /**
   * How far the emulator's clock is ahead of the injected clock (negative: behind). Its {@code
   * Date} headers, timestamp checks and token expiries all follow the skewed clock.
   *
   * @param skew how far the server's clock is ahead (negative: behind)
   * @return this emulator
   */
  public NaverEmulator serverClockSkew(Duration skew) {
    this.serverClockSkew = Objects.requireNonNull(skew);
    return this;
  }

  /**
   * When false, every request is refused with 403 {@code GW.IP_NOT_ALLOWED}. Default true.
   *
   * @param allowed whether allowed
   * @return this emulator
   */
  public NaverEmulator ipAllowed(boolean allowed) {
    this.ipAllowed = allowed;
    return this;
  }

  /**
   * Whether token-request fields are also read from the query string, as the real endpoint does for
   * the many clients that POST them that way. Default true; form fields win.
   *
   * @param accept whether to accept
   * @return this emulator
   */
  public NaverEmulator acceptQueryParameters(boolean accept) {
    this.acceptQueryParameters = accept;
    return this;
  }

  /** Ends every token at once (tests of {@code GW.AUTHN} handling). */
  public void invalidateAllTokens() {
    synchronized (lock) {
      current.clear();
      byToken.clear();
    }
  }

  // ---- inspection ----------------------------------------------------------------------------

  /**
   * The emulator's own time: the injected clock plus {@link #serverClockSkew}.
   *
   * @return the emulator's own time: the injected clock plus {@link #serverClockSkew}
   */
  public Instant serverTime() {
    return clock.instant().plus(serverClockSkew);
  }

  /**
   * Requests to the token endpoint that reached the emulator's logic.
   *
   * @return how many token requests reached the emulator's logic
   */
  public int tokenRequests() {
    return tokenRequests.get();
  }

  /**
   * Token requests refused because the signature did not verify.
   *
   * @return token requests refused because the signature did not verify
   */
  public int badSignatures() {
    return badSignatures.get();
  }

  /**
   * Token requests refused for a timestamp outside the window.
   *
   * @return token requests refused for a timestamp outside the window
   */
  public int timestampRejections() {
    return timestampRejections.get();
  }

  /**
   * New tokens minted (a token handed out again is not counted).
   *
   * @return new tokens minted (a token handed out again is not counted)
   */
  public int issuedTokens() {
    return issuedTokens.get();
  }

  /**
   * Requests to the API resource.
   *
   * @return how many requests reached the API resource
   */
  public int apiRequests() {
    return apiRequests.get();
  }

  /**
   * API requests refused with 401 {@code GW.AUTHN}.
   *
   * @return API requests refused with 401 {@code GW.AUTHN}
   */
  public int rejectedApiRequests() {
    return rejectedApiRequests.get();
  }

  /**
   * The token the resource holds now (possibly expired), or null.
   *
   * @param clientId the app's client id
   * @param type the type
   * @param accountId the seller account
   * @return the token the resource holds now (possibly expired), or null
   */
  public @Nullable String currentToken(String clientId, String type, @Nullable String accountId) {
    synchronized (lock) {
      Issued i = current.get(new Resource(clientId, type, accountId));
      return i == null ? null : i.token;
    }
  }

  /**
   * When {@code token} expires by the emulator's clock, or null if it was never issued.
   *
   * @param token the token
   * @return when {@code token} expires by the emulator's clock, or null if it was never issued
   */
  public @Nullable Instant expiresAt(String token) {
    synchronized (lock) {
      Issued i = byToken.get(token);
      return i == null ? null : i.expiresAt;
    }
  }

  /**
   * Whether the API resource would accept {@code token} now.
   *
   * @param token the token
   * @return whether the API resource would accept {@code token} now
   */
  public boolean isValid(String token) {
    Instant now = serverTime();
    synchronized (lock) {
      Issued i = byToken.get(token);
      return i != null && now.isBefore(i.expiresAt);
    }
  }

  /**
   * The signature Naver expects: {@code Base64(UTF-8(bcrypt(clientId + "_" + timestamp, secret)))},
   * for tests that build requests by hand.
   *
   * @param clientId the app's client id
   * @param timestamp the timestamp
   * @param secret the secret
   * @return the signature Naver expects: {@code Base64(UTF-8(bcrypt(clientId + "_" + timestamp,
   *     secret)))}, for tests that build requests by hand. /
   */
  public static String signature(String clientId, String timestamp, String secret) {
    String hash = BCrypt.hashpw(clientId + "_" + timestamp, secret);
    return Base64.getEncoder().encodeToString(hash.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A fault answering with the gateway's error shape, e.g. {@code gatewayError(429,
   * "GW.RATE_LIMIT")}, {@code gatewayError(503, "GW.BLOCK.02")}.
   *
   * @param status the HTTP status
   * @param code the platform's error code, or null
   * @return a fault answering with the gateway's error shape, e.g. {@code gatewayError(429,
   *     "GW.RATE_LIMIT")}, {@code gatewayError(503, "GW.BLOCK.02")}. /
   */
  public Fault gatewayError(int status, String code) {
    return Fault.json(status, write(gatewayBody(code, "gateway error " + code, nextTraceId())));
  }

  // ---- the platform --------------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    String path = pathOf(request);
    boolean partner = path.startsWith("/partner/");
    boolean token = TOKEN_PATH.equals(path) || PARTNER_TOKEN_PATH.equals(path);
    boolean api = ACCOUNT_PATH.equals(path) || PARTNER_ACCOUNT_PATH.equals(path);
    if (token) {
      tokenRequests.incrementAndGet();
    } else if (api) {
      apiRequests.incrementAndGet();
    }
    String traceId = nextTraceId();
    MockResponse response;
    if (!ipAllowed) {
      response =
          gateway(403, "GW.IP_NOT_ALLOWED", "허용되지 않은 IP 입니다. (IP address not allowed)", traceId);
    } else if (token) {
      response = token(request, partner);
    } else if (api) {
      response = account(request, traceId, partner);
    } else {
      response = gateway(404, "GW.NOT_FOUND", "No route for " + path, traceId);
    }
    return response
        .setHeader("Date", HTTP_DATE.format(serverTime()))
        .setHeader(TRACE_HEADER, traceId);
  }

  private MockResponse token(RecordedRequest request, boolean partner) {
    if (!"POST".equals(request.getMethod())) {
      return apiError(405, "MethodNotAllowed", "POST only", List.of());
    }
    Map<String, String> p = new LinkedHashMap<>();
    if (acceptQueryParameters) {
      p.putAll(query(request));
    }
    String contentType = request.getHeader("Content-Type");
    if (contentType != null && contentType.startsWith("application/x-www-form-urlencoded")) {
      p.putAll(form(request));
    }

    List<Map<String, Object>> invalid = new ArrayList<>();
    for (String field :
        List.of("client_id", "timestamp", "grant_type", "client_secret_sign", "type")) {
      if (p.getOrDefault(field, "").isBlank()) {
        invalid.add(input(field, "NotEmpty", "must not be empty"));
      }
    }
    String grantType = p.getOrDefault("grant_type", "");
    if (!grantType.isEmpty() && !grantType.equals("client_credentials")) {
      invalid.add(input("grant_type", "Pattern", "must be client_credentials"));
    }
    String type = p.getOrDefault("type", "");
    if (!type.isEmpty() && !type.equals("SELF") && !type.equals("SELLER")) {
      invalid.add(input("type", "Pattern", "must be SELF or SELLER"));
    }
    String accountId = p.get("account_id");
    if (type.equals("SELLER") && (accountId == null || accountId.isBlank())) {
      invalid.add(input("account_id", "NotEmpty", "required for type SELLER"));
    }
    String timestamp = p.getOrDefault("timestamp", "");
    if (!timestamp.isEmpty() && !DIGITS.matcher(timestamp).matches()) {
      invalid.add(input("timestamp", "TypeMismatch", "must be epoch milliseconds"));
    }
    if (!invalid.isEmpty()) {
      return apiError(400, "BadRequest", "요청 파라미터가 올바르지 않습니다.", invalid);
    }

    String clientId = p.get("client_id");
    String secret = secrets.get(clientId);
    if (secret == null) {
      return apiError(
          400,
          "BadRequest",
          "요청 파라미터가 올바르지 않습니다.",
          List.of(input("client_id", "NotFound", "unknown application")));
    }

    Instant now = serverTime();
    long age = now.toEpochMilli() - Long.parseLong(timestamp);
    if (age > TIMESTAMP_WINDOW.toMillis()
        || (rejectFutureTimestamps && -age > futureTolerance.toMillis())) {
      timestampRejections.incrementAndGet();
      return timestampRejection == TimestampRejection.INVALID_INPUTS
          ? apiError(
              400,
              "BadRequest",
              "요청 파라미터가 올바르지 않습니다.",
              List.of(input("timestamp", "Range", "timestamp is outside the 5-minute window")))
          : apiError(403, "Forbidden", "유효하지 않은 timestamp 입니다. (timestamp expired)", List.of());
    }

    // bcrypt outside any lock: it is the expensive part.
    byte[] expected = signature(clientId, timestamp, secret).getBytes(StandardCharsets.UTF_8);
    byte[] sent = p.get("client_secret_sign").getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(expected, sent)) {
      badSignatures.incrementAndGet();
      return apiError(
          400,
          "BadRequest",
          "client_secret_sign 값이 올바르지 않습니다.",
          List.of(input("client_secret_sign", "Invalid", "signature does not match")));
    }

    boolean agency = agencies.contains(clientId);
    if (enforceAgencyPaths && agency != partner) {
      return apiError(
          403,
          "Forbidden",
          agency ? "API대행사 애플리케이션은 /partner 경로를 사용해야 합니다." : "/partner 경로는 API대행사 애플리케이션 전용입니다.",
          List.of());
    }
    if (agency && !type.equals("SELLER")) {
      return apiError(
          400,
          "BadRequest",
          "요청 파라미터가 올바르지 않습니다.",
          List.of(input("type", "Pattern", "an agency application acts for sellers: SELLER")));
    }
    String account = type.equals("SELLER") ? accountId : null;
    if (account != null && !sellers.getOrDefault(clientId, Set.of()).contains(account)) {
      return apiError(403, "Forbidden", "해당 판매자에 대한 권한이 없습니다.", List.of());
    }
    return issue(new Resource(clientId, type, account), now);
  }

  private MockResponse issue(Resource resource, Instant now) {
    String token;
    long expiresIn;
    synchronized (lock) {
      Issued held = current.get(resource);
      long left = held == null ? 0 : held.expiresAt.toEpochMilli() - now.toEpochMilli();
      if (held != null && left >= SAME_TOKEN_WINDOW.toMillis()) {
        token = held.token;
        expiresIn =
            sameTokenExpiresIn == SameTokenExpiresIn.FULL_LIFETIME
                ? TOKEN_LIFETIME.getSeconds()
                : left / 1000;
      } else {
        // The old token, if any, stays in byToken and keeps working until it expires.
        Issued fresh = new Issued(newToken(), resource, now.plus(TOKEN_LIFETIME));
        current.put(resource, fresh);
        byToken.put(fresh.token, fresh);
        issuedTokens.incrementAndGet();
        token = fresh.token;
        expiresIn = TOKEN_LIFETIME.getSeconds();
      }
    }
    return json(200, obj("access_token", token, "expires_in", expiresIn, "token_type", "Bearer"));
  }

  private MockResponse account(RecordedRequest request, String traceId, boolean partner) {
    if (!"GET".equals(request.getMethod())) {
      return gateway(405, "GW.METHOD_NOT_ALLOWED", "GET only", traceId);
    }
    String auth = request.getHeader("Authorization");
    Issued issued = null;
    if (auth != null && auth.startsWith("Bearer ")) {
      String token = auth.substring("Bearer ".length()).trim();
      Instant now = serverTime();
      synchronized (lock) {
        Issued i = byToken.get(token);
        issued = i != null && now.isBefore(i.expiresAt) ? i : null;
      }
    }
    if (issued == null) {
      rejectedApiRequests.incrementAndGet();
      return gateway(401, "GW.AUTHN", "인증에 실패했습니다. (authentication failed)", traceId);
    }
    Resource r = issued.resource;
    if (enforceAgencyPaths && agencies.contains(r.clientId) != partner) {
      rejectedApiRequests.incrementAndGet();
      return gateway(
          403,
          "GW.FORBIDDEN",
          partner
              ? "/partner is for agency applications (API대행사) only"
              : "agency applications call /partner, not /external",
          traceId);
    }
    return json(
        200,
        obj(
            "accountId",
            r.accountId == null ? r.clientId + "-store" : r.accountId,
            "type",
            r.type,
            "grade",
            "BIG_POWER"));
  }

  // ---- shapes --------------------------------------------------------------------------------

  private MockResponse apiError(
      int status, String code, String message, List<Map<String, Object>> invalidInputs) {
    Map<String, Object> body =
        obj("code", code, "message", message, "timestamp", BODY_TIMESTAMP.format(serverTime()));
    if (!invalidInputs.isEmpty()) {
      body.put("invalidInputs", invalidInputs);
    }
    return json(status, body);
  }

  private MockResponse gateway(int status, String code, String message, String traceId) {
    return json(status, gatewayBody(code, message, traceId));
  }

  private Map<String, Object> gatewayBody(String code, String message, String traceId) {
    return obj(
        "code",
        code,
        "message",
        message,
        "timestamp",
        BODY_TIMESTAMP.format(serverTime()),
        "traceId",
        traceId);
  }

  private static Map<String, Object> input(String name, String type, String message) {
    return obj("name", name, "type", type, "message", message);
  }

  private static String write(Object body) {
    try {
      return JSON.writeValueAsString(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private String nextTraceId() {
    return String.format(Locale.ROOT, "naver-emu-%08x", traceIds.incrementAndGet());
  }

  private String newToken() {
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** {@code (client_id, type, account_id)}: one token each. */
  private static final class Resource {
    final String clientId;
    final String type;
    final @Nullable String accountId;

    Resource(String clientId, String type, @Nullable String accountId) {
      this.clientId = clientId;
      this.type = type;
      this.accountId = accountId;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Resource)) {
        return false;
      }
      Resource r = (Resource) o;
      return clientId.equals(r.clientId)
          && type.equals(r.type)
          && Objects.equals(accountId, r.accountId);
    }

    @Override
    public int hashCode() {
      return Objects.hash(clientId, type, accountId);
    }
  }

  private static final class Issued {
    final String token;
    final Resource resource;
    final Instant expiresAt;

    Issued(String token, Resource resource, Instant expiresAt) {
      this.token = token;
      this.resource = resource;
      this.expiresAt = expiresAt;
    }
  }
}
