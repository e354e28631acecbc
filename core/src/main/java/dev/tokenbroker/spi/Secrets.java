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

  // JSON string members whose name says they hold something secret. Error and status codes
  // (Kakao's "error_code": "KOE322") are diagnostics, not secrets, and are kept.
  private static final Pattern JSON_SECRET_MEMBER =
      Pattern.compile(
          "(\"(?!(?:error|result|status)_?code\")[A-Za-z_]*(?:token|secret|code|password|sign|verifier|key)[A-Za-z_]*\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"",
          Pattern.CASE_INSENSITIVE);
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
    s =
        JSON_SECRET_MEMBER
            .matcher(s)
            .replaceAll("$1\"" + Matcher.quoteReplacement(REDACTED) + "\"");
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
}
