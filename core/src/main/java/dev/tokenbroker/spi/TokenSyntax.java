package dev.tokenbroker.spi;

import org.jspecify.annotations.Nullable;

/**
 * What a token value must look like to be kept: the syntax RFC 6749 gives tokens, and the syntax of
 * the {@code Authorization} header an access token is sent in. Checked when a token answer is read
 * ({@link TokenResponse#requireToken}, {@link TokenResponse#tokenProblem}), so that a token which
 * cannot go in a header is refused where it arrives instead of failing every later API call. (Sets
 * read back from a store are not checked again: they were checked when they arrived.)
 *
 * <p>Descriptions returned here name the rule and a position, never the value.
 */
public final class TokenSyntax {
  /** Tokens longer than this are not tokens but garbage (platforms issue a few hundred chars). */
  public static final int MAX_TOKEN_LENGTH = 8 * 1024;

  private TokenSyntax() {}

  /**
   * Why {@code value} is not an RFC 6749 token ({@code 1*VSCHAR}: printable ASCII, space included,
   * at most {@link #MAX_TOKEN_LENGTH} characters), or null when it is one. Non-ASCII text, control
   * characters and the U+FFFD that stands for invalid UTF-8 are all outside VSCHAR.
   */
  public static @Nullable String vscharProblem(String value) {
    if (value.isEmpty() || value.isBlank()) {
      return "is empty";
    }
    if (value.length() > MAX_TOKEN_LENGTH) {
      return "is longer than " + MAX_TOKEN_LENGTH + " characters";
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7E) {
        return "has a character outside printable ASCII at position " + (i + 1);
      }
    }
    return null;
  }

  /**
   * Why {@code value} cannot be sent as an access token in {@code Authorization: <type> <token>},
   * or null when it can: a VSCHAR token that is also an RFC 7235 {@code token68} (RFC 6750's {@code
   * b64token}): letters, digits, {@code - . _ ~ + /}, then optional {@code =} padding.
   */
  public static @Nullable String accessTokenProblem(String value) {
    String problem = vscharProblem(value);
    if (problem != null) {
      return problem;
    }
    int i = 0;
    while (i < value.length() && isToken68Char(value.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return "does not start with a letter, digit or one of - . _ ~ + /";
    }
    while (i < value.length() && value.charAt(i) == '=') {
      i++;
    }
    if (i < value.length()) {
      return "has a character not allowed in an Authorization header credential (token68) at"
          + " position "
          + (i + 1);
    }
    return null;
  }

  /**
   * Why {@code value} is not a usable {@code token_type} (an HTTP auth scheme: RFC 7230 {@code
   * token} characters, no white space, no CR or LF, at most 64 characters), or null.
   */
  public static @Nullable String tokenTypeProblem(String value) {
    if (value.isEmpty()) {
      return "is empty";
    }
    if (value.length() > 64) {
      return "is longer than 64 characters";
    }
    for (int i = 0; i < value.length(); i++) {
      if (!isTchar(value.charAt(i))) {
        return "has a character not allowed in an HTTP auth scheme at position " + (i + 1);
      }
    }
    return null;
  }

  private static boolean isToken68Char(char c) {
    return isAlphaNum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  }

  private static boolean isTchar(char c) {
    return isAlphaNum(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private static boolean isAlphaNum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
