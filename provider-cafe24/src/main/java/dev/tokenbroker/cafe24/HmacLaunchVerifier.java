package dev.tokenbroker.cafe24;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * {@link Cafe24LaunchVerifier#hmacSha256()}. Reproduces the test vector in Cafe24's own sample app
 * ({@code cafe24-app/cafe24_app_discount_sample}, {@code AppService.validationCheckHmac}); see the
 * module README. Stateless and thread-safe.
 */
final class HmacLaunchVerifier implements Cafe24LaunchVerifier {
  static final HmacLaunchVerifier INSTANCE = new HmacLaunchVerifier();

  private HmacLaunchVerifier() {}

  @Override
  public boolean verify(String rawQuery, String clientSecret) {
    String sent = null;
    List<String[]> parts = new ArrayList<>();
    for (String part : rawQuery.split("&", -1)) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      String key = eq < 0 ? part : part.substring(0, eq);
      if (key.equals("hmac")) {
        if (sent != null) {
          return false; // two signatures: which one was meant is anyone's guess
        }
        sent = eq < 0 ? "" : part.substring(eq + 1);
      } else {
        parts.add(new String[] {key, part});
      }
    }
    if (sent == null || sent.isEmpty()) {
      return false;
    }
    byte[] received = percentDecode(sent);
    if (received == null) {
      return false;
    }
    // Sorted by key as a Java TreeMap sorts Strings (Cafe24's sample does exactly that); a
    // stable sort keeps duplicates in the order received.
    parts.sort(Comparator.comparing(p -> p[0]));
    StringBuilder message = new StringBuilder(rawQuery.length());
    for (String[] p : parts) {
      if (message.length() > 0) {
        message.append('&');
      }
      message.append(p[1]);
    }
    byte[] expected = sign(message.toString(), clientSecret).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, received);
  }

  /** Base64 of HMAC-SHA256 of {@code message}'s UTF-8 bytes keyed with {@code secret}. */
  static String sign(String message, String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder()
          .encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      // Every Java platform has HmacSHA256; a non-empty key is always valid for it.
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /**
   * Percent-decodes {@code text} without turning {@code +} into a space: Cafe24 sends the
   * signature's {@code +} as {@code %2B}, and a {@code +} that arrives raw is still a Base64 digit.
   * Null for a broken escape.
   */
  static byte @Nullable [] percentDecode(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        if (i + 2 >= text.length()) {
          return null;
        }
        int hi = Character.digit(text.charAt(i + 1), 16);
        int lo = Character.digit(text.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else if (c > 0x7e || c < 0x20) {
        return null;
      } else {
        out.write(c);
      }
    }
    return out.toByteArray();
  }
}
