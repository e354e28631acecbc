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
   * or null when it can: a VSCHAR token without spaces — every visible ASCII character, which an
   * HTTP field value carries as it is.
   *
   * <p>Not RFC 6750's stricter {@code b64token} ({@code token68}): real platforms issue tokens
   * outside it and accept them back — eBay's user tokens hold {@code ^} and {@code #} ({@code
   * v^1.1#i^1#p^3#…}). A space is refused: the header's parsers split the credential on it.
   */
  public static @Nullable String accessTokenProblem(String value) {
    String problem = vscharProblem(value);
    if (problem != null) {
      return problem;
    }
    int space = value.indexOf(' ');
    if (space >= 0) {
      return "has a space (not allowed in an Authorization header credential) at position "
          + (space + 1);
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

  private static boolean isTchar(char c) {
    return isAlphaNum(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private static boolean isAlphaNum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
