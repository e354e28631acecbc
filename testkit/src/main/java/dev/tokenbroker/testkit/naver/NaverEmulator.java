package dev.tokenbroker.testkit.naver;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverTokens.Resource;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);

  private final NaverServerClock serverClock;
  private final NaverApplications applications = new NaverApplications();
  private final NaverCounters counters = new NaverCounters();
  private final NaverTokens tokens = new NaverTokens(counters.issuedTokens);
  private final NaverAnswers answers;
  private final NaverTokenEndpoint tokenEndpoint;
  private final NaverAccountApi accountApi;
  private volatile boolean ipAllowed = true;

  /**
   * An emulator on {@code clock}; call {@link #start()} and register an application.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public NaverEmulator(Clock clock) {
    super(clock);
    this.serverClock = new NaverServerClock(clock);
    this.answers = new NaverAnswers(serverClock);
    this.tokenEndpoint =
        new NaverTokenEndpoint(serverClock, applications, tokens, answers, counters);
    this.accountApi = new NaverAccountApi(serverClock, applications, tokens, answers, counters);
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
    applications.register(clientId, clientSecret);
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
    applications.markAgency(clientId);
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
    applications.enforceAgencyPaths = enforce;
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
    applications.linkSeller(clientId, accountId);
    return this;
  }

  /**
   * What {@code expires_in} says when the same token comes back. Default {@code FULL_LIFETIME}.
   *
   * @param mode the mode
   * @return this emulator
   */
  public NaverEmulator sameTokenExpiresIn(SameTokenExpiresIn mode) {
    tokens.sameTokenExpiresIn = Objects.requireNonNull(mode);
    return this;
  }

  /**
   * How a stale or future timestamp is refused. Default {@code INVALID_INPUTS}.
   *
   * @param shape the shape of the answer
   * @return this emulator
   */
  public NaverEmulator timestampRejection(TimestampRejection shape) {
    tokenEndpoint.timestampRejection = Objects.requireNonNull(shape);
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
    tokenEndpoint.rejectFutureTimestamps = reject;
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
    tokenEndpoint.futureTolerance = tolerance;
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
    serverClock.skew = Objects.requireNonNull(skew);
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
    tokenEndpoint.acceptQueryParameters = accept;
    return this;
  }

  /** Ends every token at once (tests of {@code GW.AUTHN} handling). */
  public void invalidateAllTokens() {
    tokens.invalidateAll();
  }

  // ---- inspection ----------------------------------------------------------------------------

  /**
   * The emulator's own time: the injected clock plus {@link #serverClockSkew}.
   *
   * @return the emulator's own time: the injected clock plus {@link #serverClockSkew}
   */
  public Instant serverTime() {
    return serverClock.now();
  }

  /**
   * Requests to the token endpoint that reached the emulator's logic.
   *
   * @return how many token requests reached the emulator's logic
   */
  public int tokenRequests() {
    return counters.tokenRequests.get();
  }

  /**
   * Token requests refused because the signature did not verify.
   *
   * @return token requests refused because the signature did not verify
   */
  public int badSignatures() {
    return counters.badSignatures.get();
  }

  /**
   * Token requests refused for a timestamp outside the window.
   *
   * @return token requests refused for a timestamp outside the window
   */
  public int timestampRejections() {
    return counters.timestampRejections.get();
  }

  /**
   * New tokens minted (a token handed out again is not counted).
   *
   * @return new tokens minted (a token handed out again is not counted)
   */
  public int issuedTokens() {
    return counters.issuedTokens.get();
  }

  /**
   * Requests to the API resource.
   *
   * @return how many requests reached the API resource
   */
  public int apiRequests() {
    return counters.apiRequests.get();
  }

  /**
   * API requests refused with 401 {@code GW.AUTHN}.
   *
   * @return API requests refused with 401 {@code GW.AUTHN}
   */
  public int rejectedApiRequests() {
    return counters.rejectedApiRequests.get();
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
    return tokens.current(new Resource(clientId, type, accountId));
  }

  /**
   * When {@code token} expires by the emulator's clock, or null if it was never issued.
   *
   * @param token the token
   * @return when {@code token} expires by the emulator's clock, or null if it was never issued
   */
  public @Nullable Instant expiresAt(String token) {
    return tokens.expiresAt(token);
  }

  /**
   * Whether the API resource would accept {@code token} now.
   *
   * @param token the token
   * @return whether the API resource would accept {@code token} now
   */
  public boolean isValid(String token) {
    Instant now = serverTime();
    return tokens.live(token, now) != null;
  }

  /**
   * The signature Naver expects: {@code Base64(UTF-8(bcrypt(clientId + "_" + timestamp, secret)))},
   * for tests that build requests by hand.
   *
   * @param clientId the app's client id
   * @param timestamp the timestamp
   * @param secret the secret
   * @return the signature Naver expects: {@code Base64(UTF-8(bcrypt(clientId + "_" + timestamp,
   *     secret)))}, for tests that build requests by hand.
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
   *     "GW.RATE_LIMIT")}, {@code gatewayError(503, "GW.BLOCK.02")}.
   */
  public Fault gatewayError(int status, String code) {
    return Fault.json(
        status, write(answers.gatewayBody(code, "gateway error " + code, answers.nextTraceId())));
  }

  // ---- the platform --------------------------------------------------------------------------

  @Override
  protected MockResponse handle(RecordedRequest request) {
    String path = pathOf(request);
    boolean partner = path.startsWith("/partner/");
    boolean token = TOKEN_PATH.equals(path) || PARTNER_TOKEN_PATH.equals(path);
    boolean api = ACCOUNT_PATH.equals(path) || PARTNER_ACCOUNT_PATH.equals(path);
    if (token) {
      counters.tokenRequests.incrementAndGet();
    } else if (api) {
      counters.apiRequests.incrementAndGet();
    }
    String traceId = answers.nextTraceId();
    MockResponse response;
    if (!ipAllowed) {
      response =
          answers.gateway(
              403, "GW.IP_NOT_ALLOWED", "허용되지 않은 IP 입니다. (IP address not allowed)", traceId);
    } else if (token) {
      response = tokenEndpoint.handle(request, partner);
    } else if (api) {
      response = accountApi.handle(request, traceId, partner);
    } else {
      response = answers.gateway(404, "GW.NOT_FOUND", "No route for " + path, traceId);
    }
    return response
        .setHeader("Date", HTTP_DATE.format(serverTime()))
        .setHeader(TRACE_HEADER, traceId);
  }

  /** {@link EmulatorServer#json} for this package's parts, which do not extend it. */
  static MockResponse jsonAnswer(int status, Object body) {
    return json(status, body);
  }

  /** {@link EmulatorServer#obj} for this package's parts, which do not extend it. */
  static Map<String, Object> jsonObject(Object... keyValues) {
    return obj(keyValues);
  }

  private static String write(Object body) {
    try {
      return JSON.writeValueAsString(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
