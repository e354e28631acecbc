package dev.tokenbroker.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/** The keys of {@link TokenStore#putOnce} records: checked the same way by every store. */
public final class OnceKeys {
  /** The longest key a store must accept. */
  public static final int MAX_LENGTH = 200;

  private OnceKeys() {}

  /**
   * Checks a one-time record's key: 1 to {@value #MAX_LENGTH} printable ASCII characters, no space.
   *
   * @param key the key
   * @return the key
   * @throws IllegalArgumentException if it is not such a key (the message does not repeat it: keys
   *     may be derived from secrets)
   */
  public static String check(String key) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty() || key.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "one-time record key must be 1 to " + MAX_LENGTH + " characters");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c <= ' ' || c > '~') {
        throw new IllegalArgumentException(
            "one-time record key must be printable ASCII without spaces");
      }
    }
    return key;
  }

  /**
   * The name a store keeps a one-time record under instead of its key: 64 lowercase hex digits of
   * SHA-256 over {@code "tokenbroker-once:"} and the key. Keys may be derived from secrets (an
   * authorization state, a launch token), so file names, rows and Redis keys carry this digest,
   * never the key itself.
   *
   * @param key the key, checked with {@link #check}
   * @return the digest
   * @throws IllegalArgumentException if it is not such a key
   */
  public static String digest(String key) {
    check(key);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("tokenbroker-once:".getBytes(StandardCharsets.US_ASCII));
      byte[] d = sha.digest(key.getBytes(StandardCharsets.US_ASCII));
      StringBuilder b = new StringBuilder(64);
      for (byte x : d) {
        b.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
      }
      return b.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
