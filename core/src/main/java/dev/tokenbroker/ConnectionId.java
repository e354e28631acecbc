package dev.tokenbroker;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which credential: a provider name plus an account key chosen by the application, written {@code
 * provider:account} ({@code cafe24:mymall}, {@code naver:self}, {@code naver:seller:12345}).
 *
 * <p>The provider part is lower-case letters, digits and dashes; the account part is 1 to 200
 * printable characters (it may contain further colons): no white space, no control or format
 * characters (bidirectional overrides, zero-width characters), no unpaired surrogates, no
 * unassigned code points — nothing that displays deceptively or cannot be written as a file name.
 * Instances are immutable and cheap to use as map keys: the hash is computed once.
 */
public final class ConnectionId implements Comparable<ConnectionId> {
  private static final Pattern PROVIDER = Pattern.compile("[a-z][a-z0-9-]{0,31}");
  private static final int MAX_ACCOUNT_LENGTH = 200;

  private final String provider;
  private final String account;

  /** {@code (provider + ':' + account).hashCode()}, computed without building that string. */
  private final int hash;

  // No joined "provider:account" field: with 100,000 connections it would cost a string each
  // (about 60 bytes) for toString(), which is not on any hot path.
  private ConnectionId(String provider, String account) {
    this.provider = provider;
    this.account = account;
    int h = provider.hashCode() * 31 + ':';
    for (int i = 0; i < account.length(); i++) {
      h = 31 * h + account.charAt(i);
    }
    this.hash = h;
  }

  /**
   * Returns the id for {@code provider} and {@code account}.
   *
   * @param provider the provider name, such as {@code cafe24}
   * @param account the account key the application chose
   * @return the id
   * @throws IllegalArgumentException if either part is malformed; the message says which
   */
  public static ConnectionId of(String provider, String account) {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(account, "account");
    if (!PROVIDER.matcher(provider).matches()) {
      throw new IllegalArgumentException(
          "connection provider name must match [a-z][a-z0-9-]* (at most 32 characters), got '"
              + printable(provider)
              + "'");
    }
    if (account.isEmpty() || account.length() > MAX_ACCOUNT_LENGTH) {
      throw new IllegalArgumentException(
          "connection account key must be 1 to "
              + MAX_ACCOUNT_LENGTH
              + " characters, in connection '"
              + provider
              + ":…'");
    }
    for (int i = 0; i < account.length(); ) {
      int c = account.codePointAt(i);
      if (!isPrintable(c)) {
        throw new IllegalArgumentException(
            "connection account key must be printable: no white space, control or format"
                + " characters (such as bidirectional overrides or zero-width spaces), unpaired"
                + " surrogates or unassigned characters; found U+"
                + String.format(java.util.Locale.ROOT, "%04X", c)
                + " at position "
                + (i + 1)
                + " of '"
                + printable(provider + ":" + account)
                + "'");
      }
      i += Character.charCount(c);
    }
    return new ConnectionId(provider, account);
  }

  /**
   * Parses {@code provider:account}. The first colon separates the parts.
   *
   * @param text the id as written, {@code provider:account}
   * @return the id
   * @throws IllegalArgumentException if the text has no colon or either part is malformed
   */
  public static ConnectionId parse(String text) {
    Objects.requireNonNull(text, "text");
    int colon = text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "connection id must look like provider:account (e.g. cafe24:mymall), got '"
              + printable(text)
              + "'");
    }
    return of(text.substring(0, colon), text.substring(colon + 1));
  }

  /**
   * The provider part, e.g. {@code cafe24}.
   *
   * @return the provider part, such as {@code cafe24}
   */
  public String provider() {
    return provider;
  }

  /**
   * The account part, e.g. {@code mymall} or {@code seller:12345}.
   *
   * @return the account part, such as {@code mymall}
   */
  public String account() {
    return account;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ConnectionId)) {
      return false;
    }
    ConnectionId other = (ConnectionId) o;
    return hash == other.hash && provider.equals(other.provider) && account.equals(other.account);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(ConnectionId o) {
    // The order of the "provider:account" texts, without building them.
    int n = provider.length() + 1 + account.length();
    int m = o.provider.length() + 1 + o.account.length();
    for (int i = 0, end = Math.min(n, m); i < end; i++) {
      char a = charAt(i);
      char b = o.charAt(i);
      if (a != b) {
        return a - b;
      }
    }
    return n - m;
  }

  private char charAt(int i) {
    int p = provider.length();
    return i < p ? provider.charAt(i) : i == p ? ':' : account.charAt(i - p - 1);
  }

  /** {@code provider:account}. */
  @Override
  public String toString() {
    return provider + ':' + account;
  }

  /** Whether a code point may appear in an account key: visible, and displayed as itself. */
  static boolean isPrintable(int c) {
    if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
      return false;
    }
    switch (Character.getType(c)) {
      case Character.CONTROL:
      case Character.FORMAT: // bidi overrides and isolates, zero-width (non-)joiners, BOM
      case Character.SURROGATE: // only an unpaired one reaches here
      case Character.UNASSIGNED:
      case Character.PRIVATE_USE:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
      case Character.SPACE_SEPARATOR:
        return false;
      default:
        return true;
    }
  }

  /** {@code s} cut to 60 characters, with every character that is not printable shown as '?'. */
  private static String printable(String s) {
    String cut = s.length() > 60 ? s.substring(0, 60) + "…" : s;
    StringBuilder b = new StringBuilder(cut.length());
    for (int i = 0; i < cut.length(); ) {
      int c = cut.codePointAt(i);
      if (isPrintable(c) || c == '…') {
        b.appendCodePoint(c);
      } else {
        b.append('?');
      }
      i += Character.charCount(c);
    }
    return b.toString();
  }
}
