package dev.tokenbroker.testkit.naver;

import static dev.tokenbroker.testkit.naver.NaverEmulator.jsonAnswer;
import static dev.tokenbroker.testkit.naver.NaverEmulator.jsonObject;

import dev.tokenbroker.testkit.MockResponse;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shapes of the {@link NaverEmulator}'s errors, stamped by the server clock: the API's {@code
 * {code, message, timestamp, invalidInputs:[{name, type, message}]}} and the gateway's {@code
 * {code:"GW.…", message, timestamp, traceId}}, and the gateway trace ids every answer carries.
 * Thread-safe.
 */
final class NaverAnswers {
  private static final DateTimeFormatter BODY_TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.of("Asia/Seoul"));

  private final NaverServerClock serverClock;
  private final AtomicLong traceIds = new AtomicLong();

  NaverAnswers(NaverServerClock serverClock) {
    this.serverClock = serverClock;
  }

  MockResponse apiError(
      int status, String code, String message, List<Map<String, Object>> invalidInputs) {
    Map<String, Object> body =
        jsonObject(
            "code",
            code,
            "message",
            message,
            "timestamp",
            BODY_TIMESTAMP.format(serverClock.now()));
    if (!invalidInputs.isEmpty()) {
      body.put("invalidInputs", invalidInputs);
    }
    return jsonAnswer(status, body);
  }

  MockResponse gateway(int status, String code, String message, String traceId) {
    return jsonAnswer(status, gatewayBody(code, message, traceId));
  }

  Map<String, Object> gatewayBody(String code, String message, String traceId) {
    return jsonObject(
        "code",
        code,
        "message",
        message,
        "timestamp",
        BODY_TIMESTAMP.format(serverClock.now()),
        "traceId",
        traceId);
  }

  static Map<String, Object> input(String name, String type, String message) {
    return jsonObject("name", name, "type", type, "message", message);
  }

  String nextTraceId() {
    return String.format(Locale.ROOT, "naver-emu-%08x", traceIds.incrementAndGet());
  }
}
