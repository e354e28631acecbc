package dev.tokenbroker.spi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Keeps secrets out of text meant for people: {@code toString}, logs, exception messages, CLI
 * output.
 */
public final class Secrets {
  /** What stands in for a removed secret. */
  public static final String REDACTED = "<redacted>";

  // Names of JSON members, form fields and settings that hold something secret. Error and status
  // codes (Kakao's "error_code": "KOE322") are diagnostics, not secrets, and are kept; so are
  // URLs and lifetimes (oauth2's token-url, refresh-token-lifetime).
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(?!(?:error|result|status)[_-]?code$)(?!.*[_-](?:url|uri|lifetime)$)[A-Za-z0-9_.-]*(?:token|secret|code|password|sign|verifier|key)[A-Za-z0-9_.-]*",
          Pattern.CASE_INSENSITIVE);
  private static final int MAX_NAME_LENGTH = 64;
  // form or query members with such names (refresh_token=…, client_secret=…).
  private static final Pattern FORM_SECRET_MEMBER =
      Pattern.compile(
          "((?:^|[?&\\s])[A-Za-z_]*(?:token|secret|code|password|sign|verifier)[A-Za-z_]*=)[^&\\s\"]*",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern BEARER =
      Pattern.compile(
          "((?:Bearer|Basic|KakaoAK)\\s+)[A-Za-z0-9._~+/=-]+", Pattern.CASE_INSENSITIVE);

  private Secrets() {}

  /**
   * A short, stable, non-reversible name for a secret: {@code sha256:} and the first 8 hex digits
   * of its SHA-256. Enough to tell two tokens apart in a log, useless to an attacker.
   *
   * @param secret the secret
   * @return a short, stable, non-reversible name for a secret: {@code sha256:} and the first 8 hex
   *     digits of its SHA-256
   */
  public static String fingerprint(@Nullable String secret) {
    if (secret == null) {
      return "none";
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      StringBuilder b = new StringBuilder("sha256:");
      for (int i = 0; i < 4; i++) {
        b.append(Character.forDigit((digest[i] >> 4) & 0xF, 16))
            .append(Character.forDigit(digest[i] & 0xF, 16));
      }
      return b.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /**
   * Returns {@code text} cut to {@code maxLength} characters, with every known secret replaced,
   * JSON members and form fields whose names look secret ({@code access_token}, {@code
   * client_secret}, {@code code}, …) blanked, and {@code Bearer …} credentials removed. Control
   * characters become spaces so that one error stays one log line.
   *
   * @param text the id as written, {@code provider:account}
   * @param known secrets to remove, besides anything that looks like a token
   * @param maxLength the longest result, in characters
   * @return {@code text} cut to {@code maxLength} characters, with every known secret replaced,
   *     JSON members and form fields whose names look secret ({@code access_token}, {@code
   *     client_secret}, {@code code}, …) blanked, and {@code Bearer …} credentials removed
   */
  public static String scrub(@Nullable String text, Collection<String> known, int maxLength) {
    if (text == null) {
      return "";
    }
    String s = text;
    for (String secret : known) {
      if (secret != null && secret.length() >= 4) {
        s = s.replace(secret, REDACTED);
      }
    }
    try {
      s = scrubJsonMembers(s);
    } catch (RuntimeException | StackOverflowError e) {
      return REDACTED; // cannot happen with the scanner; if it did, nothing unscrubbed leaves
    }
    s = FORM_SECRET_MEMBER.matcher(s).replaceAll("$1" + Matcher.quoteReplacement(REDACTED));
    s = BEARER.matcher(s).replaceAll("$1" + Matcher.quoteReplacement(REDACTED));
    StringBuilder b = new StringBuilder(Math.min(s.length(), maxLength + 1));
    for (int i = 0; i < s.length() && b.length() < maxLength; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? ' ' : c);
    }
    if (s.length() > maxLength) {
      b.append("…(").append(s.length() - maxLength).append(" more chars)");
    }
    return b.toString();
  }

  /**
   * Blanks the string values of JSON members whose names look secret. A scanner, not a regular
   * expression: Java's regex engine recurses once per character of a quoted string, so a long one
   * overflowed the stack. Like the expression it replaces, it tries every quote as the start of a
   * member name (so a broken member before it cannot hide one), and names are short runs of {@code
   * [A-Za-z0-9_.-]}. Linear in the length of {@code s}; a value left unterminated (a body cut off)
   * is blanked to the end.
   */
  private static String scrubJsonMembers(String s) {
    StringBuilder out = null;
    int copied = 0;
    for (int i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) {
      int nameEnd = nameEnd(s, i);
      if (nameEnd < 0 || !isSecretName(s.substring(i + 1, nameEnd))) {
        continue;
      }
      int j = skipSpace(s, nameEnd + 1);
      if (j >= s.length() || s.charAt(j) != ':') {
        continue;
      }
      int v = skipSpace(s, j + 1);
      if (v >= s.length() || s.charAt(v) != '"') {
        continue;
      }
      // Every quote is tried, even inside a value already blanked (a member whose quote a broken
      // answer lost must not hide the next one); overlapping values are blanked as one.
      int valueEnd = stringEnd(s, v);
      int end = valueEnd < 0 ? s.length() : valueEnd + 1;
      if (out == null) {
        out = new StringBuilder(s.length());
      }
      if (v >= copied) {
        out.append(s, copied, v).append('"').append(REDACTED);
        if (valueEnd >= 0) {
          out.append('"');
        }
        copied = end;
      } else if (end > copied) {
        copied = end; // within a blanked value: blank on to the end of this one too
      }
    }
    if (out == null) {
      return s;
    }
    return out.append(s, Math.min(copied, s.length()), s.length()).toString();
  }

  /**
   * The index of the quote closing a member name opened at {@code open}: 1 to {@value
   * #MAX_NAME_LENGTH} characters of {@code [A-Za-z0-9_.-]}; or -1.
   */
  private static int nameEnd(String s, int open) {
    int end = Math.min(s.length(), open + 2 + MAX_NAME_LENGTH);
    for (int k = open + 1; k < end; k++) {
      char c = s.charAt(k);
      if (c == '"') {
        return k > open + 1 ? k : -1;
      }
      if (!(c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '_'
          || c == '.'
          || c == '-')) {
        return -1;
      }
    }
    return -1;
  }

  /** The index of the quote closing the JSON string opened at {@code open}, or -1. */
  private static int stringEnd(String s, int open) {
    for (int k = open + 1; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c == '\\') {
        k++;
      } else if (c == '"') {
        return k;
      }
    }
    return -1;
  }

  private static int skipSpace(String s, int from) {
    int k = from;
    while (k < s.length() && Character.isWhitespace(s.charAt(k))) {
      k++;
    }
    return k;
  }

  /**
   * Whether a member, field or setting name says its value is secret: it mentions a token, secret,
   * code, password, signature, verifier or key ({@code refresh_token}, {@code client-secret},
   * {@code code_verifier}); {@code error_code} and the like are diagnostics and do not count.
   */
  public static boolean isSecretName(String name) {
    return SECRET_NAME.matcher(name).matches();
  }
}
