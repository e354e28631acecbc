package dev.tokenbroker.examples.skeleton;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The invented {@code signed-key} platform, on the testkit's {@link EmulatorServer} (a platform of
 * your own gets an emulator the same way): recomputes every signature, refuses a timestamp more
 * than 5 minutes off, issues 30-minute session tokens, and can revoke a key.
 */
final class SignedKeyEmulator extends EmulatorServer {
  static final String SESSION_PATH = "/v1/session";
  static final long TTL_SECONDS = 1800;

  private final Map<String, String> keys = new ConcurrentHashMap<>();
  private final Map<String, Long> sessions = new ConcurrentHashMap<>();
  private final AtomicInteger issued = new AtomicInteger();

  SignedKeyEmulator(Clock clock) {
    super(clock);
  }

  SignedKeyEmulator key(String keyId, String secret) {
    keys.put(keyId, secret);
    return this;
  }

  void revoke(String keyId) {
    keys.remove(keyId);
  }

  int sessionsIssued() {
    return issued.get();
  }

  boolean isValid(String sessionToken) {
    Long expiresAt = sessions.get(sessionToken);
    return expiresAt != null && clock.millis() < expiresAt;
  }

  @Override
  protected MockResponse handle(RecordedRequest request) {
    if (!SESSION_PATH.equals(pathOf(request)) || !"POST".equals(request.getMethod())) {
      return json(404, obj("code", "NOT_FOUND", "message", "no such resource"));
    }
    String keyId = String.valueOf(request.getHeader("X-Key-Id"));
    String timestamp = String.valueOf(request.getHeader("X-Timestamp"));
    String secret = keys.get(keyId);
    if (secret == null) {
      return json(401, obj("code", "KEY_REVOKED", "message", "unknown or revoked key"));
    }
    long millis;
    try {
      millis = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return json(400, obj("code", "STALE_TIMESTAMP", "message", "not a timestamp"));
    }
    if (Math.abs(clock.millis() - millis) > 300_000) {
      return json(400, obj("code", "STALE_TIMESTAMP", "message", "more than 5 minutes off"));
    }
    byte[] expected = hmac(secret, keyId + "\n" + timestamp);
    byte[] sent;
    try {
      sent = Base64.getDecoder().decode(String.valueOf(request.getHeader("X-Signature")));
    } catch (IllegalArgumentException e) {
      sent = new byte[0];
    }
    if (!MessageDigest.isEqual(expected, sent)) {
      return json(401, obj("code", "BAD_SIGNATURE", "message", "signature mismatch"));
    }
    String token =
        "sk_"
            + Integer.toHexString(issued.incrementAndGet())
            + "_"
            + Long.toHexString(Double.doubleToLongBits(Math.random()));
    sessions.put(token, clock.millis() + TTL_SECONDS * 1000);
    return json(200, obj("session_token", token, "ttl_seconds", TTL_SECONDS));
  }

  private static byte[] hmac(String secret, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
