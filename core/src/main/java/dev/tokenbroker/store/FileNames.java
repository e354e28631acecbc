package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The names of a {@link FileTokenStore}'s files: {@code <name>.<kind>} in the store's directory,
 * where {@code <name>} is the connection id with every character other than {@code a-z 0-9 - _}
 * written as {@code %XX} (UTF-8, so names are safe on case-insensitive file systems too); very long
 * ids are shortened with a hash, and their records name the connection.
 */
final class FileNames {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  static final String DATA_SUFFIX = ".tokens";
  static final String HEALTH_SUFFIX = ".health";

  /**
   * The health version a clear left behind; never listed as a connection (only {@code .tokens} and
   * {@code .tombstone} files are), and never opened by earlier releases.
   */
  static final String HEALTH_VERSION_SUFFIX = ".health-version";

  static final String TOMBSTONE_SUFFIX = ".tombstone";
  static final String LOCK_SUFFIX = ".lock";
  static final String HOLDER_SUFFIX = ".holder";
  static final String TEMP_SUFFIX = ".tmp";
  private static final int MAX_PLAIN_NAME = 200;
  private static final int HASHED_PREFIX = 150;
  private static final char HASH_MARK = '~';

  private final Path directory;

  FileNames(Path directory) {
    this.directory = directory;
  }

  /** The directory holding the files. */
  Path directory() {
    return directory;
  }

  /** The file of {@code id} with {@code suffix}, one of this class's {@code *_SUFFIX}. */
  Path file(ConnectionId id, String suffix) {
    return directory.resolve(baseName(id) + suffix);
  }

  /** The file name (without suffix) for {@code id}; see the class description. */
  static String baseName(ConnectionId id) {
    String text = id.toString();
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(utf8.length + 8);
    for (byte x : utf8) {
      int c = x & 0xFF;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        b.append((char) c);
      } else {
        b.append('%')
            .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    if (b.length() <= MAX_PLAIN_NAME) {
      return b.toString();
    }
    int cut = HASHED_PREFIX;
    // do not cut an escape in half
    if (b.charAt(cut - 1) == '%') {
      cut -= 1;
    } else if (b.charAt(cut - 2) == '%') {
      cut -= 2;
    }
    return b.substring(0, cut) + HASH_MARK + sha256Hex(text).substring(0, 32);
  }

  /** The connection a token record file belongs to, or null for a file that is not a record. */
  static @Nullable ConnectionId connectionOf(Path file) {
    return connectionOf(file, DATA_SUFFIX);
  }

  /**
   * The connection a record file with {@code suffix} (a token set or a tombstone: both name their
   * connection) belongs to, or null for a file that is not such a record.
   */
  static @Nullable ConnectionId connectionOf(Path file, String suffix) {
    String name = file.getFileName().toString();
    if (!name.endsWith(suffix)) {
      return null;
    }
    String base = name.substring(0, name.length() - suffix.length());
    try {
      if (base.indexOf(HASH_MARK) >= 0) {
        // A shortened name: the id is in the record, readable without the key.
        byte[] bytes = Files.readAllBytes(file);
        String text = TokenCodec.connectionOf(bytes);
        if (text == null) {
          log.warn("token record {} names no connection; skipped", file);
          return null;
        }
        ConnectionId id = ConnectionId.parse(text);
        return baseName(id).equals(base) ? id : null;
      }
      ConnectionId id = ConnectionId.parse(decodeName(base));
      return baseName(id).equals(base) ? id : null;
    } catch (NoSuchFileException e) {
      return null; // deleted meanwhile
    } catch (IOException e) {
      throw new TokenStoreException(
          null, "cannot read " + file + ": " + RecordFiles.describe(e), e);
    } catch (IllegalArgumentException e) {
      return null; // not a name this store wrote
    }
  }

  private static String decodeName(String base) {
    byte[] out = new byte[base.length()];
    int n = 0;
    for (int i = 0; i < base.length(); i++) {
      char c = base.charAt(i);
      if (c == '%') {
        if (i + 2 >= base.length()) {
          throw new IllegalArgumentException("truncated escape");
        }
        out[n++] = (byte) Integer.parseInt(base.substring(i + 1, i + 3), 16);
        i += 2;
      } else {
        out[n++] = (byte) c;
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }

  private static String sha256Hex(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
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
