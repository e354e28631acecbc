package dev.tokenbroker.store;

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
}
