package dev.tokenbroker.testkit;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Wire-level rules the {@link OAuth2Emulator}'s endpoints share: reading a form body as strictly as
 * RFC 6749 §3.2 asks, the RFC 6749 §5.2 error answer with its no-cache headers, and the syntax of
 * PKCE verifiers and S256 challenges (RFC 7636 §4.1, §4.2). Stateless.
 */
final class OAuth2Protocol {
  private static final String VERIFIER_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

  private OAuth2Protocol() {}

  /**
   * The form body, or null when it is not {@code application/x-www-form-urlencoded}, is not
   * decodable, or repeats a parameter (RFC 6749 §3.2: parameters MUST NOT be included more than
   * once).
   */
  static @Nullable Map<String, String> strictForm(RecordedRequest request) {
    String type = request.getHeader("Content-Type");
    if (type == null
        || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return null;
    }
    String body = request.getBody().clone().readUtf8();
    Map<String, String> out = new LinkedHashMap<>();
    if (body.isEmpty()) {
      return out;
    }
    try {
      for (String pair : body.split("&", -1)) {
        int eq = pair.indexOf('=');
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        if (out.put(name, value) != null) {
          return null;
        }
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return out;
  }

  static MockResponse oauthError(int status, String error, String description) {
    return noStore(
        EmulatorServer.json(
            status, EmulatorServer.obj("error", error, "error_description", description)));
  }

  static MockResponse noStore(MockResponse r) {
    return r.setHeader("Cache-Control", "no-store").setHeader("Pragma", "no-cache");
  }

  /** RFC 7636 §4.1: 43 to 128 characters of {@code [A-Z] [a-z] [0-9] - . _ ~}. */
  static boolean isValidVerifier(String v) {
    if (v.length() < 43 || v.length() > 128) {
      return false;
    }
    for (int i = 0; i < v.length(); i++) {
      if (VERIFIER_CHARS.indexOf(v.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /** An S256 challenge is 43 characters of unpadded base64url. */
  static boolean isValidChallenge(String c) {
    return c.length() == 43 && isValidVerifier(c);
  }
}
