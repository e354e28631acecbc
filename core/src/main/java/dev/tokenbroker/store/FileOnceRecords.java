package dev.tokenbroker.store;

import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * The one-time records of a {@link FileTokenStore} ({@link TokenStore#putOnce}, {@link
 * TokenStore#takeOnce}): one file each in the subdirectory {@code once/}, named {@code
 * <digest>.once} after {@link OnceKeys#digest} (never the key, which may be derived from a secret).
 * A file holds one line {@code tokenbroker-once 1 <expires-at epoch millis>} and then the value as
 * {@link TokenCodec#sealOnce} writes it (encrypted when the store is).
 *
 * <ul>
 *   <li><b>put</b> writes the new file as {@code <digest>.<random>.tmp} and forces it, then, under
 *       the exclusive lock of {@code once/.lock} (the store's JVM-wide lock, then a file lock: only
 *       one putter in every process at a time), looks at the record in place: unexpired, nothing
 *       changes; expired, missing or never there, the temporary file is renamed over it atomically
 *       and the directory forced.
 *   <li><b>take</b> takes no lock: it renames {@code <digest>.once} to a name of its own ({@code
 *       <digest>.<random>.taken}). Rename is atomic, so of every process and thread trying, exactly
 *       one moves a given file; the winner reads it, deletes it, and returns the value if
 *       unexpired. A putter that replaces an expired record at that moment replaces either the file
 *       the taker moved away (the taker then holds the old, expired one) or nothing.
 *   <li>Expired records nobody took are swept by a put, at most once a minute per store, under the
 *       same lock; files a crash left between a rename and a delete ({@code .tmp}, {@code .taken})
 *       are deleted once an hour old by the file system's clock.
 * </ul>
 *
 * The expiry is this store's {@link Clock}, like its leases: processes sharing a directory share
 * the machine's clock.
 */
final class FileOnceRecords {
  static final String DIRECTORY = "once";
  private static final String SUFFIX = ".once";
  private static final String TAKEN_SUFFIX = ".taken";
  private static final String HEADER = "tokenbroker-once 1 ";
  private static final String LOCK_FILE = ".lock";
  private static final Duration SWEEP_EVERY = Duration.ofMinutes(1);
  private static final Duration LEFTOVER_AGE = Duration.ofHours(1);

  private final Path directory;
  private final boolean posix;
  private final RecordFiles files;
  private final FileLocking locking;
  private final TokenCodec codec;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private volatile boolean created;
  private volatile long nextSweepMillis;

  FileOnceRecords(
      Path storeDirectory, boolean posix, FileLocking locking, TokenCodec codec, Clock clock) {
    this.directory = storeDirectory.resolve(DIRECTORY);
    this.posix = posix;
    this.files = new RecordFiles(directory, posix);
    this.locking = locking;
    this.codec = codec;
    this.clock = clock;
  }

  Path directory() {
    return directory;
  }

  /** The file holding the record of {@code key}. */
  Path file(String key) {
    return directory.resolve(OnceKeys.digest(key) + SUFFIX);
  }

  boolean put(String key, byte[] value, Instant expiresAt) {
    String digest = OnceKeys.digest(key);
    byte[] content =
        (HEADER + expiresAt.toEpochMilli() + "\n" + codec.sealOnce(digest, value))
            .getBytes(StandardCharsets.US_ASCII);
    createDirectory();
    Path target = directory.resolve(digest + SUFFIX);
    Path temp = directory.resolve(digest + "." + randomName() + FileNames.TEMP_SUFFIX);
    try {
      write(temp, content); // before the lock: the critical section is a read and a rename
      boolean stored =
          locking.lockedFile(
              directory.resolve(LOCK_FILE),
              "could not store a one-time record in " + directory,
              lock -> {
                long now = clock.millis();
                sweepIfDue(now, target);
                Long held = expiryOf(target);
                if (held != null && held > now) {
                  return false;
                }
                try {
                  Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                  throw new IOException("the file system cannot rename atomically", e);
                }
                files.syncDirectory();
                return true;
              });
      return stored;
    } catch (IOException e) {
      throw new TokenStoreException(
          null,
          "could not store a one-time record in " + directory + ": " + RecordFiles.describe(e),
          e);
    } finally {
      RecordFiles.deleteQuietly(temp); // gone already when it was renamed
    }
  }

  byte @Nullable [] take(String key) {
    String digest = OnceKeys.digest(key);
    Path source = directory.resolve(digest + SUFFIX);
    Path mine = directory.resolve(digest + "." + randomName() + TAKEN_SUFFIX);
    try {
      try {
        Files.move(source, mine, StandardCopyOption.ATOMIC_MOVE);
      } catch (NoSuchFileException e) {
        return null; // never stored, already taken, or no directory yet
      }
      // This thread alone has the file now; whatever happens next, it is gone for everyone.
      try {
        byte[] bytes = Files.readAllBytes(mine);
        Parsed p = parse(bytes, mine);
        if (p.expiresAtMillis <= clock.millis()) {
          return null;
        }
        return codec.openOnce(digest, p.sealed);
      } finally {
        Files.deleteIfExists(mine);
      }
    } catch (IOException e) {
      throw new TokenStoreException(
          null,
          "could not take a one-time record in " + directory + ": " + RecordFiles.describe(e),
          e);
    }
  }

  private static final class Parsed {
    final long expiresAtMillis;
    final String sealed;

    Parsed(long expiresAtMillis, String sealed) {
      this.expiresAtMillis = expiresAtMillis;
      this.sealed = sealed;
    }
  }

  private static Parsed parse(byte[] bytes, Path file) {
    String text = new String(bytes, StandardCharsets.US_ASCII);
    int eol = text.indexOf('\n');
    if (!text.startsWith(HEADER) || eol < 0) {
      throw new TokenStoreException(
          null, "one-time record " + file.getFileName() + " is corrupt: no valid header", null);
    }
    try {
      return new Parsed(
          Long.parseLong(text.substring(HEADER.length(), eol)), text.substring(eol + 1));
    } catch (NumberFormatException e) {
      throw new TokenStoreException(
          null, "one-time record " + file.getFileName() + " is corrupt: no valid expiry", null);
    }
  }

  /**
   * The expiry of the record in {@code file}, or null when there is none. A corrupt record counts
   * as expired: it can never be taken, and replacing it is the only way to use its key again.
   */
  private static @Nullable Long expiryOf(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    try {
      return parse(bytes, file).expiresAtMillis;
    } catch (TokenStoreException e) {
      return Long.MIN_VALUE;
    }
  }

  /**
   * Under the lock: deletes expired records (a taker may move one away first: then it is gone
   * already) and what crashes left behind. Skips {@code keep}, which the caller decides on.
   */
  private void sweepIfDue(long now, Path keep) throws IOException {
    if (now < nextSweepMillis) {
      return;
    }
    nextSweepMillis = now + SWEEP_EVERY.toMillis();
    long leftoverBefore = System.currentTimeMillis() - LEFTOVER_AGE.toMillis();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (p.equals(keep)) {
          continue;
        }
        try {
          if (name.endsWith(SUFFIX)) {
            Long expiry = expiryOf(p);
            if (expiry != null && expiry <= now) {
              Files.deleteIfExists(p);
            }
          } else if ((name.endsWith(TAKEN_SUFFIX) || name.endsWith(FileNames.TEMP_SUFFIX))
              && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis()
                  < leftoverBefore) {
            Files.deleteIfExists(p);
          }
        } catch (NoSuchFileException e) {
          // taken or deleted meanwhile
        }
      }
    }
  }

  private void createDirectory() {
    if (!created) {
      try {
        if (posix) {
          Files.createDirectories(
              directory,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectories(directory);
        }
      } catch (IOException e) {
        throw new TokenStoreException(
            null, "cannot create " + directory + ": " + RecordFiles.describe(e), e);
      }
      created = true;
    }
  }

  private void write(Path temp, byte[] content) throws IOException {
    try (FileChannel out =
        FileChannel.open(
            temp,
            java.util.Set.of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
            files.fileAttributes())) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      out.force(true);
    }
  }

  private String randomName() {
    byte[] r = new byte[12];
    random.nextBytes(r);
    return HexFormat.of().formatHex(r);
  }
}
