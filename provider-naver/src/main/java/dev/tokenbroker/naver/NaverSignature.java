package dev.tokenbroker.naver;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.jspecify.annotations.Nullable;
import org.mindrot.jbcrypt.BCrypt;

/**
 * Naver Commerce's request signature: {@code Base64(UTF-8(bcrypt(client_id + "_" + timestamp, salt
 * = client secret)))}. The client secret is itself a bcrypt salt, which is why it must be checked
 * before first use: jBCrypt 0.4 throws an index exception for a short one, rejects {@code
 * $2b$}/{@code $2y$}, and silently ignores anything past character 29.
 */
final class NaverSignature {
  /** What a valid secret looks like, for error messages (never the secret itself). */
  static final String EXPECTED_SHAPE =
      "expected the application secret from the Naver Commerce API center: a 29-character bcrypt"
          + " salt made of '$2a$', a two-digit cost, '$' and 22 characters of [./A-Za-z0-9]"
          + " (e.g. $2a$04$ followed by 22 such characters)";

  private static final int LENGTH = 29;
  private static final String DIGITS = "0123456789";
  private static final String SALT =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + DIGITS;
  private static final int MIN_COST = 4;
  // jBCrypt takes up to 31, but each step doubles the work: cost 12 is ~250 ms a signature, cost
  // 30 hours. Naver issues low costs; a higher one is a mistake that would stall every renewal.
  static final int MAX_COST = 12;

  private NaverSignature() {}

  /**
   * Signs {@code clientId_timestamp} with {@code secret}. Costs one bcrypt hash: about a
   * millisecond at cost 04, ~60 ms at cost 10 — call it only when a token is actually requested.
   *
   * @param secret a secret that passed {@link #secretProblem}
   */
  static String sign(String clientId, long timestamp, String secret) {
    String hash = BCrypt.hashpw(clientId + "_" + timestamp, secret);
    // Standard and URL-safe Base64 agree here: a bcrypt hash never yields '+' or '/' when encoded.
    return Base64.getEncoder().encodeToString(hash.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * What is wrong with {@code secret} (already trimmed), or null when jBCrypt will accept it
   * exactly as Naver means it. The description never repeats any part of the value, apart from a
   * bcrypt revision prefix such as {@code $2b$}, which is structure, not secret.
   */
  static @Nullable String secretProblem(String secret) {
    if (secret.length() >= 4
        && secret.startsWith("$2")
        && secret.charAt(3) == '$'
        && "bxy".indexOf(secret.charAt(2)) >= 0) {
      return "uses bcrypt revision '"
          + secret.substring(0, 4)
          + "', but Naver Commerce secrets start with '$2a$' (the library would reject it at the"
          + " first request); copy the secret from the API center unchanged; "
          + EXPECTED_SHAPE;
    }
    if (!secret.startsWith("$2a$")) {
      return "does not look like a Naver Commerce client secret; " + EXPECTED_SHAPE;
    }
    if (secret.length() != LENGTH) {
      return "has " + secret.length() + " characters instead of " + LENGTH + "; " + EXPECTED_SHAPE;
    }
    if (DIGITS.indexOf(secret.charAt(4)) < 0
        || DIGITS.indexOf(secret.charAt(5)) < 0
        || secret.charAt(6) != '$') {
      return "has no two-digit cost after '$2a$'; " + EXPECTED_SHAPE;
    }
    for (int i = 7; i < LENGTH; i++) {
      if (SALT.indexOf(secret.charAt(i)) < 0) {
        return "has a character outside [./A-Za-z0-9] at position "
            + (i + 1)
            + "; "
            + EXPECTED_SHAPE;
      }
    }
    int cost = Integer.parseInt(secret.substring(4, 6));
    if (cost < MIN_COST || cost > MAX_COST) {
      return "has bcrypt cost "
          + secret.substring(4, 6)
          + ", outside the supported 04 to "
          + MAX_COST
          + " (every step doubles the time a signature takes); "
          + EXPECTED_SHAPE;
    }
    return null;
  }
}
