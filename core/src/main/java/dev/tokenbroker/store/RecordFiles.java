package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file I/O of a {@link FileTokenStore}'s directory: whole records read and written atomically
 * (each file is written as {@code <file>.tmp}, forced to disk, renamed over the file atomically,
 * and the directory is forced: a crash at any instant leaves the old or the new record, never a
 * torn or empty one), owner-only permissions where the file system is POSIX, and the directory
 * itself.
 */
final class RecordFiles {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  private static final boolean CAN_SYNC_DIRECTORY =
      !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  private final Path directory;
  private final boolean posix;

  RecordFiles(Path directory, boolean posix) {
    this.directory = directory;
    this.posix = posix;
  }

  /**
   * Creates {@code directory} (owner-only) when missing, warns when an existing one is open to
   * other users, and returns its real path.
   *
   * @throws TokenStoreException if the directory cannot be created or is not a directory
   */
  static Path createDirectory(Path directory, boolean posix) {
    Path dir = directory;
    try {
      if (!Files.isDirectory(dir)) {
        if (posix) {
          Files.createDirectories(
              dir,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectories(dir);
        }
      } else if (posix) {
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
        if (p.contains(PosixFilePermission.GROUP_READ)
            || p.contains(PosixFilePermission.OTHERS_READ)
            || p.contains(PosixFilePermission.GROUP_WRITE)
            || p.contains(PosixFilePermission.OTHERS_WRITE)) {
          log.warn(
              "token directory {} is accessible to other users ({}); make it owner-only"
                  + " (chmod 700)",
              dir,
              PosixFilePermissions.toString(p));
        }
      }
      return dir.toRealPath();
    } catch (IOException e) {
      throw new TokenStoreException(
          null, "cannot use " + dir + " as the token directory: " + describe(e), e);
    }
  }

  /** The bytes of {@code file}, or null when it does not exist. */
  static byte @Nullable [] readRecord(ConnectionId id, Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new TokenStoreException(
          id, "connection " + id + ": cannot read " + file + ": " + describe(e), e);
    }
    if (bytes.length == 0) {
      throw new TokenStoreException(
          id, "connection " + id + ": stored record " + file + " is empty", null);
    }
    return bytes;
  }

  void writeAtomically(Path target, byte[] bytes) throws IOException {
    writeAtomically(target, bytes, null);
  }

  /**
   * {@link #writeAtomically(Path, byte[])}, the file's modification time set to {@code modified}
   * (when not null) before the rename, so the record appears with it: the file store's registry
   * time (see {@link FileTokenStore#changedSince}).
   */
  void writeAtomically(Path target, byte[] bytes, @Nullable FileTime modified) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + FileNames.TEMP_SUFFIX);
    try {
      // The temp name is fixed: writers of one connection are serialized by its lock, and a temp
      // file left by a crash is simply truncated. NOFOLLOW_LINKS: never write through a planted
      // symbolic link.
      try (FileChannel out = FileChannel.open(temp, writeOptions(), fileAttributes())) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        out.force(true);
      }
      if (modified != null) {
        Files.setLastModifiedTime(temp, modified);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      deleteQuietly(temp);
      throw new IOException("the file system cannot rename atomically", e);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(temp);
      throw e;
    }
    try {
      syncDirectory();
    } catch (IOException e) {
      throw new IOException(
          "the new record is in place but the directory could not be forced to disk ("
              + describe(e)
              + ")",
          e);
    }
  }

  /**
   * Deletes a record that the one just written outranks. Failing is harmless (the higher version
   * counts), so it is logged, not thrown: the write itself succeeded.
   */
  void deleteOutranked(ConnectionId id, Path file) {
    try {
      if (Files.deleteIfExists(file)) {
        syncDirectory();
      }
    } catch (IOException e) {
      log.warn(
          "connection {}: {} is outranked by a newer record but could not be deleted: {}",
          id,
          file,
          describe(e));
    }
  }

  private static Set<OpenOption> writeOptions() {
    return Set.of(
        StandardOpenOption.CREATE,
        StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING,
        LinkOption.NOFOLLOW_LINKS);
  }

  void syncDirectory() throws IOException {
    if (!CAN_SYNC_DIRECTORY) {
      return; // Windows cannot open a directory as a channel; NTFS journals the rename itself.
    }
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /**
   * The attributes a new file is created with: owner-only (0600) where the file system is POSIX.
   */
  FileAttribute<?>[] fileAttributes() {
    return posix
        ? new FileAttribute<?>[] {
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
        }
        : new FileAttribute<?>[0];
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // Left for the next save of this connection, which truncates it.
    }
  }

  static void closeQuietly(@Nullable FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing left to do
      }
    }
  }

  /** A short description of {@code e} for a message: its type and the file system's reason. */
  static String describe(IOException e) {
    if (e instanceof FileSystemException) {
      FileSystemException f = (FileSystemException) e;
      String reason = f.getReason();
      return e.getClass().getSimpleName() + (reason == null ? "" : " (" + reason + ")");
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}
