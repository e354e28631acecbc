package dev.tokenbroker.spi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key ring for encrypting token sets at rest with AES-256-GCM: one current key that encrypts
 * every save, and any number of previous keys that can still decrypt what they once wrote. Each key
 * has a short id that is stored beside the data, so rotating keys is: make the new key current,
 * keep the old one as previous until every connection has been saved again, then drop it.
 *
 * <p>A key is written as text {@code [id:]base64}: 32 random bytes in standard or URL-safe base64,
 * optionally preceded by an id and a colon ({@code 2026-01:q8v…}). Without an id, the id is derived
 * from the key (the first 8 hex digits of a SHA-256 over a fixed label and the key), which is
 * stable and reveals nothing usable about the key. Generate a key with {@code openssl rand -base64
 * 32}.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows the key ids, never key material.
 */
public final class EncryptionKeys {
  /** Store settings that name where keys come from; see {@link #fromSettings}. */
  public static final Set<String> SETTINGS =
      Set.of("key-env", "key-file", "previous-key-env", "previous-key-file");

  private static final Logger log = LoggerFactory.getLogger(EncryptionKeys.class);
  private static final int KEY_BYTES = 32;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final String currentId;
  private final Map<String, SecretKey> keys; // current first

  private EncryptionKeys(String currentId, Map<String, SecretKey> keys) {
    this.currentId = currentId;
    this.keys = Collections.unmodifiableMap(keys);
  }

  /**
   * A ring holding only {@code key} (32 bytes), with its id derived from it.
   *
   * @param key the extra's name
   * @return a ring holding only {@code key} (32 bytes), with its id derived from it
   */
  public static EncryptionKeys of(byte[] key) {
    return builder().current(key).build();
  }

  /**
   * Parses one key written as {@code [id:]base64} (see the class description) into a ring holding
   * only it.
   *
   * @param text the id as written, {@code provider:account}
   * @return a ring holding only that key
   * @throws IllegalArgumentException if the text is not 32 bytes of base64 or the id is malformed;
   *     the message never contains the text
   */
  public static EncryptionKeys parse(String text) {
    Builder b = builder();
    b.current(text);
    return b.build();
  }

  /**
   * A builder for the current key and any previous (decrypt-only) keys.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The key ring a store's settings describe, or null when they name no key (then tokens are stored
   * in the clear).
   *
   * <ul>
   *   <li>{@code key-env}: the name of an environment variable holding the current key;
   *   <li>{@code key-file}: a file holding the current key (the first line; keep it owner-only);
   *   <li>{@code previous-key-env}, {@code previous-key-file}: lists of the same, for keys that
   *       only decrypt.
   * </ul>
   *
   * The key itself never appears in the configuration file.
   *
   * @param settings the connection's settings, as in a configuration file
   * @return the key ring a store's settings describe, or null when they name no key (then tokens
   *     are stored in the clear)
   * @param environment looks up environment variables, normally {@code System::getenv}
   * @throws dev.tokenbroker.ConfigurationException naming the setting when a variable is unset, a
   *     file unreadable, a key malformed, or both {@code key-env} and {@code key-file} are given
   */
  public static @Nullable EncryptionKeys fromSettings(
      Settings settings, Function<String, @Nullable String> environment) {
    String env = settings.optional("key-env");
    String file = settings.optional("key-file");
    List<String> previousEnv = settings.list("previous-key-env");
    List<String> previousFile = settings.list("previous-key-file");
    if (env != null && file != null) {
      throw settings.invalid("key-file", "give either key-env or key-file, not both");
    }
    if (env == null && file == null) {
      if (!previousEnv.isEmpty() || !previousFile.isEmpty()) {
        throw settings.invalid(
            previousEnv.isEmpty() ? "previous-key-file" : "previous-key-env",
            "previous keys need a current key (key-env or key-file)");
      }
      return null;
    }
    Builder b = builder();
    try {
      if (env != null) {
        b.current(fromEnvironment(settings, "key-env", env, environment));
      } else {
        b.current(fromFile(settings, "key-file", file));
      }
    } catch (IllegalArgumentException e) {
      throw settings.invalid(env != null ? "key-env" : "key-file", e.getMessage());
    }
    for (String name : previousEnv) {
      try {
        b.previous(fromEnvironment(settings, "previous-key-env", name, environment));
      } catch (IllegalArgumentException e) {
        throw settings.invalid("previous-key-env", e.getMessage());
      }
    }
    for (String path : previousFile) {
      try {
        b.previous(fromFile(settings, "previous-key-file", path));
      } catch (IllegalArgumentException e) {
        throw settings.invalid("previous-key-file", e.getMessage());
      }
    }
    return b.build();
  }

  private static String fromEnvironment(
      Settings settings,
      String setting,
      String name,
      Function<String, @Nullable String> environment) {
    String value = environment.apply(name);
    if (value == null || value.isBlank()) {
      throw settings.invalid(setting, "environment variable " + name + " is not set");
    }
    return value.trim();
  }

  private static String fromFile(Settings settings, String setting, String file) {
    Path path = Path.of(file);
    try {
      warnIfShared(path);
      String text = Files.readString(path, StandardCharsets.UTF_8).strip();
      int newline = text.indexOf('\n');
      return (newline < 0 ? text : text.substring(0, newline)).trim();
    } catch (IOException e) {
      throw settings.invalid(setting, "cannot read key file " + path + ": " + e);
    }
  }

  private static void warnIfShared(Path path) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(path);
      if (p.contains(PosixFilePermission.GROUP_READ)
          || p.contains(PosixFilePermission.OTHERS_READ)) {
        log.warn("key file {} can be read by other users; make it owner-only (chmod 600)", path);
      }
    } catch (UnsupportedOperationException | IOException e) {
      // Not a POSIX file system: nothing to check.
    }
  }

  /**
   * The id of the key that encrypts new saves.
   *
   * @return the id of the key that encrypts new saves
   */
  public String currentId() {
    return currentId;
  }

  /**
   * Every key id in the ring, the current one first.
   *
   * @return every key id in the ring, the current one first
   */
  public Set<String> ids() {
    return keys.keySet();
  }

  SecretKey current() {
    return keys.get(currentId);
  }

  @Nullable SecretKey key(String id) {
    return keys.get(id);
  }

  /**
   * The id derived from a key: the first 8 hex digits of SHA-256 over {@code "tokenbroker-key-id"}
   * and the key.
   *
   * @param key the extra's name
   * @return the id derived from a key: the first 8 hex digits of SHA-256 over {@code
   *     "tokenbroker-key-id"} and the key.
   */
  public static String deriveId(byte[] key) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("tokenbroker-key-id".getBytes(StandardCharsets.US_ASCII));
      byte[] d = sha.digest(key);
      StringBuilder b = new StringBuilder(8);
      for (int i = 0; i < 4; i++) {
        b.append(Character.forDigit((d[i] >> 4) & 0xF, 16))
            .append(Character.forDigit(d[i] & 0xF, 16));
      }
      return b.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  @Override
  public String toString() {
    return "EncryptionKeys{current=" + currentId + ", ids=" + keys.keySet() + '}';
  }

  /** Builds a key ring. Not thread-safe. */
  public static final class Builder {
    private @Nullable String currentId;
    private final Map<String, SecretKey> keys = new LinkedHashMap<>();
    private final Map<String, SecretKey> previous = new LinkedHashMap<>();

    private Builder() {}

    /**
     * The key that encrypts, with its id derived from it.
     *
     * @param key the extra's name
     * @return this builder
     */
    public Builder current(byte[] key) {
      return current(deriveId(key), key);
    }

    /**
     * The key that encrypts, with an id of letters, digits, dots, dashes and underscores.
     *
     * @param id the connection
     * @param key the extra's name
     * @return this builder
     */
    public Builder current(String id, byte[] key) {
      if (currentId != null) {
        throw new IllegalStateException("current key was already set (id " + currentId + ")");
      }
      SecretKey k = checked(id, key);
      currentId = id;
      keys.put(id, k);
      return this;
    }

    /**
     * The key that encrypts, as text {@code [id:]base64}.
     *
     * @param text the id as written, {@code provider:account}
     * @return this builder
     */
    public Builder current(String text) {
      Map.Entry<String, byte[]> e = parseText(text);
      try {
        return current(e.getKey(), e.getValue());
      } finally {
        Arrays.fill(e.getValue(), (byte) 0);
      }
    }

    /**
     * A key that only decrypts, with its id derived from it.
     *
     * @param key the extra's name
     * @return this builder
     */
    public Builder previous(byte[] key) {
      return previous(deriveId(key), key);
    }

    /**
     * A key that only decrypts.
     *
     * @param id the connection
     * @param key the extra's name
     * @return this builder
     */
    public Builder previous(String id, byte[] key) {
      SecretKey k = checked(id, key);
      if (previous.containsKey(id)) {
        throw new IllegalArgumentException("two previous keys have the id " + id);
      }
      previous.put(id, k);
      return this;
    }

    /**
     * A key that only decrypts, as text {@code [id:]base64}.
     *
     * @param text the id as written, {@code provider:account}
     * @return this builder
     */
    public Builder previous(String text) {
      Map.Entry<String, byte[]> e = parseText(text);
      try {
        return previous(e.getKey(), e.getValue());
      } finally {
        Arrays.fill(e.getValue(), (byte) 0);
      }
    }

    /**
     * @return the key ring
     * @throws IllegalStateException if no current key was given
     * @throws IllegalArgumentException if two different keys share an id
     */
    public EncryptionKeys build() {
      if (currentId == null) {
        throw new IllegalStateException("a current key is required");
      }
      Map<String, SecretKey> all = new LinkedHashMap<>(keys);
      for (Map.Entry<String, SecretKey> e : previous.entrySet()) {
        SecretKey existing = all.get(e.getKey());
        if (existing != null) {
          if (!MessageDigest.isEqual(existing.getEncoded(), e.getValue().getEncoded())) {
            throw new IllegalArgumentException(
                "the current key and a previous key have the same id " + e.getKey());
          }
          continue; // the same key listed twice: harmless
        }
        all.put(e.getKey(), e.getValue());
      }
      return new EncryptionKeys(currentId, all);
    }

    private static SecretKey checked(String id, byte[] key) {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      if (!ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "key id must be 1 to 64 letters, digits, '.', '_' or '-'");
      }
      if (key.length != KEY_BYTES) {
        throw new IllegalArgumentException(
            "an AES-256 key is 32 bytes, this one is " + key.length + " bytes");
      }
      return new SecretKeySpec(key, "AES");
    }

    private static Map.Entry<String, byte[]> parseText(String text) {
      Objects.requireNonNull(text, "text");
      String t = text.trim();
      String id = null;
      int colon = t.indexOf(':');
      if (colon >= 0) {
        id = t.substring(0, colon);
        t = t.substring(colon + 1);
      }
      byte[] key;
      try {
        key =
            t.indexOf('-') >= 0 || t.indexOf('_') >= 0
                ? Base64.getUrlDecoder().decode(t)
                : Base64.getDecoder().decode(t);
      } catch (IllegalArgumentException e) {
        // Never echo the text: it is (almost) a key.
        throw new IllegalArgumentException(
            "key must be base64 of 32 random bytes, optionally preceded by 'id:'"
                + " (generate one with: openssl rand -base64 32)");
      }
      if (key.length != KEY_BYTES) {
        int n = key.length;
        Arrays.fill(key, (byte) 0);
        throw new IllegalArgumentException(
            "an AES-256 key is 32 bytes, this one decodes to "
                + n
                + " bytes (generate one with: openssl rand -base64 32)");
      }
      return Map.entry(id == null ? deriveId(key) : id, key);
    }
  }
}
