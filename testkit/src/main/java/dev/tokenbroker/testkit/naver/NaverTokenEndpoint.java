package dev.tokenbroker.testkit.naver;

import static dev.tokenbroker.testkit.naver.NaverAnswers.input;
import static dev.tokenbroker.testkit.naver.NaverEmulator.TIMESTAMP_WINDOW;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverEmulator.TimestampRejection;
import dev.tokenbroker.testkit.naver.NaverTokens.Handed;
import dev.tokenbroker.testkit.naver.NaverTokens.Resource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@link NaverEmulator}'s token endpoint ({@code /external} and {@code /partner}): it checks
 * every field, refuses timestamps outside the window by the server clock (future ones switchably),
 * verifies {@code client_secret_sign} by recomputing the bcrypt signature, holds agency and other
 * applications to their paths and token types and sellers to their links, then hands out the
 * resource's token. The switches of what it accepts live here. Thread-safe.
 */
final class NaverTokenEndpoint {
  private static final Pattern DIGITS = Pattern.compile("\\d{1,18}");

  private final NaverServerClock serverClock;
  private final NaverApplications applications;
  private final NaverTokens tokens;
  private final NaverAnswers answers;
  private final NaverCounters counters;

  volatile TimestampRejection timestampRejection = TimestampRejection.INVALID_INPUTS;
  volatile boolean rejectFutureTimestamps = true;
  volatile Duration futureTolerance = Duration.ofSeconds(1);
  volatile boolean acceptQueryParameters = true;

  NaverTokenEndpoint(
      NaverServerClock serverClock,
      NaverApplications applications,
      NaverTokens tokens,
      NaverAnswers answers,
      NaverCounters counters) {
    this.serverClock = serverClock;
    this.applications = applications;
    this.tokens = tokens;
    this.answers = answers;
    this.counters = counters;
  }

  MockResponse handle(RecordedRequest request, boolean partner) {
    if (!"POST".equals(request.getMethod())) {
      return answers.apiError(405, "MethodNotAllowed", "POST only", List.of());
    }
    Map<String, String> p = new LinkedHashMap<>();
    if (acceptQueryParameters) {
      p.putAll(EmulatorServer.query(request));
    }
    String contentType = request.getHeader("Content-Type");
    if (contentType != null && contentType.startsWith("application/x-www-form-urlencoded")) {
      p.putAll(EmulatorServer.form(request));
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
      return answers.apiError(400, "BadRequest", "요청 파라미터가 올바르지 않습니다.", invalid);
    }

    String clientId = p.get("client_id");
    String secret = applications.secret(clientId);
    if (secret == null) {
      return answers.apiError(
          400,
          "BadRequest",
          "요청 파라미터가 올바르지 않습니다.",
          List.of(input("client_id", "NotFound", "unknown application")));
    }

    Instant now = serverClock.now();
    long age = now.toEpochMilli() - Long.parseLong(timestamp);
    if (age > TIMESTAMP_WINDOW.toMillis()
        || (rejectFutureTimestamps && -age > futureTolerance.toMillis())) {
      counters.timestampRejections.incrementAndGet();
      return timestampRejection == TimestampRejection.INVALID_INPUTS
          ? answers.apiError(
              400,
              "BadRequest",
              "요청 파라미터가 올바르지 않습니다.",
              List.of(input("timestamp", "Range", "timestamp is outside the 5-minute window")))
          : answers.apiError(
              403, "Forbidden", "유효하지 않은 timestamp 입니다. (timestamp expired)", List.of());
    }

    // bcrypt outside any lock: it is the expensive part.
    byte[] expected =
        NaverEmulator.signature(clientId, timestamp, secret).getBytes(StandardCharsets.UTF_8);
    byte[] sent = p.get("client_secret_sign").getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(expected, sent)) {
      counters.badSignatures.incrementAndGet();
      return answers.apiError(
          400,
          "BadRequest",
          "client_secret_sign 값이 올바르지 않습니다.",
          List.of(input("client_secret_sign", "Invalid", "signature does not match")));
    }

    boolean agency = applications.isAgency(clientId);
    if (applications.enforceAgencyPaths && agency != partner) {
      return answers.apiError(
          403,
          "Forbidden",
          agency ? "API대행사 애플리케이션은 /partner 경로를 사용해야 합니다." : "/partner 경로는 API대행사 애플리케이션 전용입니다.",
          List.of());
    }
    if (agency && !type.equals("SELLER")) {
      return answers.apiError(
          400,
          "BadRequest",
          "요청 파라미터가 올바르지 않습니다.",
          List.of(input("type", "Pattern", "an agency application acts for sellers: SELLER")));
    }
    String account = type.equals("SELLER") ? accountId : null;
    if (account != null && !applications.isSellerLinked(clientId, account)) {
      return answers.apiError(403, "Forbidden", "해당 판매자에 대한 권한이 없습니다.", List.of());
    }
    Handed handed = tokens.hand(new Resource(clientId, type, account), now);
    return NaverEmulator.jsonAnswer(
        200,
        NaverEmulator.jsonObject(
            "access_token",
            handed.token(),
            "expires_in",
            handed.expiresIn(),
            "token_type",
            "Bearer"));
  }
}
