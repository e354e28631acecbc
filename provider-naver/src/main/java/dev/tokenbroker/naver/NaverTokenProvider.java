package dev.tokenbroker.naver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.ClientAuth;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthClient;
import dev.tokenbroker.spi.OAuthEndpoint;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.SettingRules;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenAnswer;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenRequest;
import dev.tokenbroker.spi.TokenResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Naver Commerce client credentials for one connection: sign {@code client_id_timestamp} with the
 * secret, POST it, get a 3-hour token. No refresh token, nothing to revoke. The settings are read
 * and checked here ({@link NaverProviderFactory} lists them).
 *
 * <p>Thread-safe. The only mutable state is the learned offset between this machine's clock and
 * Naver's, kept in an atomic and written only after the server rejected a timestamp.
 */
final class NaverTokenProvider implements TokenProvider {
  private static final Logger LOG = LoggerFactory.getLogger(NaverTokenProvider.class);

  /** Anything longer is not a Naver token lifetime (3 hours), it is a broken answer. */
  private static final Duration MAX_LIFETIME = Duration.ofDays(1);

  private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");
  private static final Pattern ACCOUNT = Pattern.compile("[\\x21-\\x7e]{1,128}");

  /** The {@code type} form field. */
  enum Type {
    /** The application's own store. */
    SELF,
    /** A seller related to the application (solution vendors); needs {@code account_id}. */
    SELLER
  }

  private final ConnectionId connection;
  private final Clock clock;
  private final String clientId;
  private final String secret;
  private final Type type;
  private final @Nullable String accountId;
  private final String apiPathPrefix;
  private final OAuthClient client;
  private final TokenAnswer answer;
  private final RenewalPolicy policy;
  private final long marginMillis;

  /** Naver's clock minus ours, learned from a {@code Date} header when a timestamp was refused. */
  private final AtomicLong clockOffsetMillis = new AtomicLong();

  NaverTokenProvider(Settings settings, ProviderContext context) {
    this.connection = context.connection();
    this.clock = context.clock();
    this.clientId = settings.require("client-id");
    this.secret = settings.require("client-secret");
    String problem = NaverSignature.secretProblem(secret);
    if (problem != null) {
      throw settings.invalid("client-secret", problem);
    }
    boolean agency = settings.bool("agency", false);
    String subject = context.subject();
    this.type = type(settings, agency, subject);
    if (type == Type.SELF && settings.optional("account-id") != null) {
      throw settings.invalid(
          "account-id",
          "is only used with type SELLER; remove it, or set type: SELLER to act for that seller");
    }
    this.accountId =
        SettingRules.orSubject(
            settings,
            "account-id",
            subject,
            "naver:seller:{account}",
            ACCOUNT,
            "must be the seller's id or uid: 1 to 128 printable characters, no white space");
    if (type == Type.SELLER && accountId == null) {
      throw settings.invalid(
          "account-id", "is required with type SELLER: the seller's id or uid to act for");
    }
    this.apiPathPrefix = apiPathPrefix(settings, agency);
    HttpUrl tokenUrl =
        OAuthEndpoint.resolve(
            settings.url("base-url", NaverProviderFactory.DEFAULT_BASE_URL),
            apiPathPrefix.substring(1) + "/" + NaverProviderFactory.TOKEN_PATH_UNDER_PREFIX);
    this.policy =
        SettingRules.renewBefore(
            settings,
            NaverProviderFactory.DEFAULT_RENEW_BEFORE,
            SettingRules.EXPIRY_SKEW,
            NaverProviderFactory.SAME_TOKEN_WINDOW,
            "must be at least 30s (the margin treated as expired) and at most 30m: Naver returns"
                + " the same token while 30 minutes or more remain, so renewing earlier only"
                + " fetches the same token again");
    this.marginMillis =
        settings
            .duration(
                "timestamp-margin",
                Duration.ofSeconds(3),
                Duration.ZERO,
                Duration.ofMinutes(1),
                "must be at most 1m: Naver accepts a signed timestamp for 5 minutes only")
            .toMillis();
    // Naver's client proves itself by a signature in the form body, not by a secret: to the shared
    // plumbing it is a public client (client_id only) with extra fields.
    this.client =
        OAuthClient.builder(
                OAuthEndpoint.of(tokenUrl, ClientAuth.NONE),
                clientId,
                context.tokenHttp(NaverProviderFactory.NAME))
            .build();
    this.answer =
        TokenAnswer.builder("Naver", context.connection())
            .accessLifetime(TokenAnswer.seconds("expires_in", MAX_LIFETIME))
            .extras(
                (r, c, b) -> {
                  // Where this application's resources live (/partner for agencies, else
                  // /external): the application builds its API URLs with it.
                  b.extra("type", type.name())
                      .extra(NaverProviderFactory.API_PATH_PREFIX_EXTRA, apiPathPrefix)
                      .extra("account_id", accountId);
                })
            .build();
  }

  /** {@code type}: SELLER by default for an agency or a template, and then the only choice. */
  private static Type type(Settings settings, boolean agency, @Nullable String subject) {
    String value = settings.optional("type", agency || subject != null ? "SELLER" : "SELF");
    Type type;
    try {
      type = Type.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw settings.invalid("type", "must be SELF or SELLER");
    }
    if (agency && type == Type.SELF) {
      throw settings.invalid(
          "type",
          "must be SELLER for an agency application: an agency acts for the sellers who designate"
              + " it, one SELLER token per seller");
    }
    if (subject != null && type == Type.SELF) {
      throw settings.invalid(
          "type",
          "must be SELLER for a template connection (naver:seller:{account}): its subject is a"
              + " seller's account id");
    }
    return type;
  }

  private static String apiPathPrefix(Settings settings, boolean agency) {
    String prefix =
        settings.optional(
            "api-path-prefix",
            agency ? NaverProviderFactory.AGENCY_PREFIX : NaverProviderFactory.DEFAULT_PREFIX);
    if (prefix.endsWith("/") && prefix.length() > 1) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    if (!PREFIX.matcher(prefix).matches()) {
      throw settings.invalid(
          "api-path-prefix",
          "must be a path such as /partner or /external: a '/' and letters, digits, '.', '_',"
              + " '-' or '~' per segment");
    }
    return prefix;
  }

  @Override
  public String name() {
    return NaverProviderFactory.NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.CLIENT_CREDENTIALS;
  }

  /**
   * Renew inside the last 30 minutes only (25 minutes before expiry by default): before that Naver
   * answers with the same token.
   */
  @Override
  public RenewalPolicy renewalPolicy() {
    return policy;
  }

  /**
   * Signs and requests a token. If Naver refuses the request for its timestamp, learns the offset
   * of Naver's clock from the answer's {@code Date} header and tries once more; the offset is kept
   * for later requests.
   */
  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    TokenRequest first = request();
    // Client credentials rotate nothing: a lost answer is simply retried later (mayRotate=false).
    TokenResponse r = first.send(false);
    if (r.isSuccessful()) {
      return parse(r, current);
    }
    TokenEndpointException e = NaverErrors.classify(r, first.secrets());
    if (!NaverErrors.isTimestampRejection(r)) {
      throw e;
    }
    Long serverMillis = serverMillis(r);
    if (serverMillis == null) {
      throw retryLater(
          e,
          "Naver rejected the request timestamp and sent no usable Date header to correct it"
              + " with; check this machine's clock (NTP)");
    }
    long offset = serverMillis - r.receivedAt().toEpochMilli();
    long previous = clockOffsetMillis.getAndSet(offset);
    LOG.warn(
        "{}: Naver rejected the request timestamp; its clock is {} ms ahead of ours (was {} ms),"
            + " retrying once with a corrected timestamp",
        connection,
        offset,
        previous);

    TokenRequest second = request();
    TokenResponse r2 = second.send(false);
    if (r2.isSuccessful()) {
      return parse(r2, current);
    }
    e = NaverErrors.classify(r2, second.secrets());
    if (NaverErrors.isTimestampRejection(r2) && !NaverErrors.isSignatureRejection(r2)) {
      // Clocks settle (NTP), so this may pass later: back off rather than give up for good.
      throw retryLater(
          e,
          "Naver rejected the request timestamp again after correcting for its clock (offset "
              + offset
              + " ms); check this machine's clock (NTP)");
    }
    throw e;
  }

  private static TokenEndpointException retryLater(TokenEndpointException e, String reason) {
    return e.toBuilder().kind(Kind.TRANSIENT).reason(reason).build();
  }

  /**
   * 401 ({@code GW.AUTHN}: expired or invalid token) → renew once and replay; 403 {@code
   * GW.IP_NOT_ALLOWED} → the connection is dead until the IP is registered.
   */
  @Override
  public ApiVerdict classifyApiResponse(Response response) {
    if (response.code() == 401) {
      return ApiVerdict.tokenRejected();
    }
    if (response.code() == 403) {
      JsonNode json = TokenHttp.peekJson(response);
      String code = json == null ? null : json.path("code").textValue();
      if (NaverErrors.IP_NOT_ALLOWED.equals(code)) {
        return ApiVerdict.connectionDead(NaverErrors.IP_HINT, code);
      }
    }
    return ApiVerdict.ok();
  }

  @Override
  public String toString() {
    return "NaverTokenProvider{"
        + connection
        + ", type="
        + type
        + (accountId == null ? "" : ", account=" + accountId)
        + ", url="
        + client.endpoint().tokenUrl()
        + '}';
  }

  /** A signed request; the secret and the signature made with it are scrubbed from answers. */
  private TokenRequest request() {
    long timestamp = clock.millis() - marginMillis + clockOffsetMillis.get();
    // The only place a signature is computed: bcrypt is far too slow for the hot path.
    String signature = NaverSignature.sign(clientId, timestamp, secret);
    return client
        .tokenRequest("client_credentials")
        .param("timestamp", Long.toString(timestamp))
        .param("client_secret_sign", signature)
        .param("type", type.name())
        .param("account_id", accountId)
        .secret(secret, signature);
  }

  private TokenSet parse(TokenResponse r, @Nullable TokenSet current) {
    TokenSet set = answer.read(r, null);
    if (current == null || !current.accessToken().equals(set.accessToken())) {
      return set;
    }
    // Naver returns the same token while 30 minutes or more remain; whether expires_in then says
    // 10800 or the time left is undocumented, so keep the earlier expiry and the first issue time.
    Instant received = r.receivedAt();
    Instant earlier = min(current.expiresAt(), set.expiresAt());
    // But the server only hands the same token back with 30 minutes or more left: never record
    // less, or every caller would wait on a renewal that fetches this very token again.
    Instant floor = min(set.expiresAt(), received.plus(NaverProviderFactory.SAME_TOKEN_WINDOW));
    return set.toBuilder()
        .issuedAt(min(current.issuedAt(), received))
        .expiresAt(earlier.isAfter(floor) ? earlier : floor)
        .build();
  }

  /** Naver's clock at the answer: the {@code Date} header, else the error body's timestamp. */
  private static @Nullable Long serverMillis(TokenResponse r) {
    Date date = r.headers().getDate("Date");
    if (date != null) {
      return date.getTime();
    }
    // Naver's error bodies carry an ISO-8601 "timestamp" with an offset: a usable second source.
    String text = r.text("timestamp");
    try {
      return text == null ? null : OffsetDateTime.parse(text).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
