package dev.tokenbroker.spi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * What verifying a platform's callback to the application takes (Cafe24's signed app launch,
 * Kakao's unlink webhook): reading {@code a=1&b=2} without accepting a parameter given twice, and
 * digests for comparing or recording a secret without keeping it. Stateless.
 */
public final class CallbackParams {
  private CallbackParams() {}

  /**
   * The {@code name=value} pairs of a query or form body, in the order received; empty parts are
   * skipped, a part without {@code =} has an empty value. A name given twice is refused: which one
   * was meant (or signed) is ambiguous.
   *
   * @param text the pairs joined with {@code &}, without a leading {@code ?}
   * @param decode applied to each name and value (the identity keeps them as received); what it
   *     throws propagates
   * @param givenTwice the exception for a name given twice, from the name as received
   * @return name to value
   */
  public static Map<String, String> pairs(
      String text, UnaryOperator<String> decode, Function<String, RuntimeException> givenTwice) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String part : text.split("&", -1)) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      String name = eq < 0 ? part : part.substring(0, eq);
      String value = decode.apply(eq < 0 ? "" : part.substring(eq + 1));
      if (values.put(decode.apply(name), value) != null) {
        throw givenTwice.apply(name);
      }
    }
    return values;
  }

  /**
   * The SHA-256 of {@code text}'s UTF-8 bytes: compared with {@link MessageDigest#isEqual}, two
   * digests leak neither a secret's content nor its length; recorded, they keep no secret.
   *
   * @param text the text
   * @return the 32-byte digest
   */
  public static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
