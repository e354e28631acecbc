package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and decodes a {@link FileTokenStore}'s records: the token set ({@link TokenCodec}, maybe
 * encrypted), the tombstone and the health record ({@link StateCodec}). A record that cannot be
 * read, parsed or decrypted is reported with a {@link TokenStoreException} naming the connection
 * and the file.
 */
final class RecordReader {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  /** The token set and tombstone of a connection, resolved as the store's description says. */
  static final class Records {
    final @Nullable TokenSet tokens;
    final @Nullable Tombstone tombstone;

    Records(@Nullable TokenSet tokens, @Nullable Tombstone tombstone) {
      this.tokens = tokens;
      this.tombstone = tombstone;
    }

    long version() {
      return tokens == null ? 0 : tokens.version();
    }

    /** The highest version the connection had; the next one is above it. */
    long highestVersion() {
      return Math.max(version(), tombstone == null ? 0 : tombstone.version());
    }
  }

  /**
   * A connection's health record and health version: the higher of the record's own version and the
   * one the last clear left in {@code <name>.health-version} (see the store's description).
   */
  static final class HealthState {
    final @Nullable HealthRecord record;
    final long version;

    HealthState(@Nullable HealthRecord record, long version) {
      this.record = record == null ? null : record.withVersion(version);
      this.version = version;
    }
  }

  /** The first word of a {@code .health-version} file: {@code tokenbroker-health-version <n>}. */
  private static final String HEALTH_VERSION_TAG = "tokenbroker-health-version ";

  private final FileNames names;
  private final TokenCodec codec;

  RecordReader(FileNames names, TokenCodec codec) {
    this.names = names;
    this.codec = codec;
  }

  /**
   * The token set and the tombstone; if a crash left both, only the one with the higher version
   * (the set when higher, the tombstone when not lower).
   */
  Records records(ConnectionId id) {
    TokenSet tokens = readTokens(id);
    Tombstone tombstone = readTombstone(id);
    if (tokens != null && tombstone != null) {
      return tokens.version() > tombstone.version()
          ? new Records(tokens, null)
          : new Records(null, tombstone);
    }
    return new Records(tokens, tombstone);
  }

  /**
   * The version a tombstone replacing the connection's records keeps: the highest of {@code
   * version}, the stored tombstone's and the token set's. A token set that cannot be read is
   * skipped (and logged): a revocation must be able to get rid of a record nobody can read.
   */
  long versionForTombstone(ConnectionId id, long version) {
    Tombstone before = readTombstone(id);
    if (before != null) {
      version = Math.max(version, before.version());
    }
    try {
      TokenSet tokens = readTokens(id);
      if (tokens != null) {
        version = Math.max(version, tokens.version());
      }
    } catch (TokenStoreException e) {
      // A revocation must be able to get rid of a record nobody can read.
      log.warn(
          "connection {}: the unreadable token record is replaced by a tombstone ({}); its"
              + " version is unknown, versions continue from {}",
          id,
          e.getMessage(),
          version);
    }
    return version;
  }

  /**
   * The token set, unless a tombstone outranks it (its version is not lower). Needs no lock (see
   * {@link FileTokenStore#load}): it reads the token set before the tombstone, which a revocation
   * writes before it deletes the set, and the tombstone only when there is a set.
   */
  @Nullable TokenSet current(ConnectionId id) {
    TokenSet tokens = readTokens(id);
    if (tokens == null) {
      return null;
    }
    Tombstone tombstone = readTombstone(id);
    return tombstone != null && tombstone.version() >= tokens.version() ? null : tokens;
  }

  @Nullable TokenSet readTokens(ConnectionId id) {
    Path file = names.file(id, FileNames.DATA_SUFFIX);
    byte[] bytes = RecordFiles.readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return codec.decode(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  @Nullable Tombstone readTombstone(ConnectionId id) {
    Path file = names.file(id, FileNames.TOMBSTONE_SUFFIX);
    byte[] bytes = RecordFiles.readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return StateCodec.decodeTombstone(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  /** The health record and the health version. */
  HealthState health(ConnectionId id) {
    HealthRecord record = readHealth(id);
    long version = Math.max(readKeptHealthVersion(id), record == null ? 0 : record.version());
    return new HealthState(record, version);
  }

  /**
   * The health version a clear moves on from: the highest of the stored record's and the kept one,
   * skipping (and logging) a file that cannot be read: a new authorization must be able to get rid
   * of a health record nobody can read.
   */
  long healthVersionForClear(ConnectionId id) {
    long version = 0;
    try {
      version = readKeptHealthVersion(id);
    } catch (TokenStoreException e) {
      log.warn("connection {}: {}; health versions continue from the record", id, e.getMessage());
    }
    try {
      HealthRecord record = readHealth(id);
      if (record != null) {
        version = Math.max(version, record.version());
      }
    } catch (TokenStoreException e) {
      log.warn(
          "connection {}: the unreadable health record is cleared ({}); health versions continue"
              + " from {}",
          id,
          e.getMessage(),
          version);
    }
    return version;
  }

  /** The health version the last clear left, 0 when none did. */
  long readKeptHealthVersion(ConnectionId id) {
    Path file = names.file(id, FileNames.HEALTH_VERSION_SUFFIX);
    byte[] bytes = RecordFiles.readRecord(id, file);
    if (bytes == null) {
      return 0;
    }
    String text = new String(bytes, StandardCharsets.US_ASCII).strip();
    if (text.startsWith(HEALTH_VERSION_TAG)) {
      try {
        long version = Long.parseLong(text.substring(HEALTH_VERSION_TAG.length()));
        if (version >= 0) {
          return version;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new TokenStoreException(
        id, "connection " + id + ": stored health version is corrupt (file " + file + ")", null);
  }

  /** The content of a {@code .health-version} file keeping {@code version}. */
  static byte[] encodeKeptHealthVersion(long version) {
    return (HEALTH_VERSION_TAG + version + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  @Nullable HealthRecord readHealth(ConnectionId id) {
    Path file = names.file(id, FileNames.HEALTH_SUFFIX);
    byte[] bytes = RecordFiles.readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return StateCodec.decodeHealth(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }
}
