package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The locking of a {@link FileTokenStore} (see its class description, "Locking"): an
 * operating-system lock on the connection's {@code .lock} file, which excludes other processes,
 * taken while holding one JVM-wide in-process lock, which excludes the other threads of this JVM (a
 * {@code FileLock} belongs to the process, not to a thread). That one lock is shared by every file
 * store of the JVM, whatever its directory, so a process holds at most one store file lock at a
 * time and waits for one only while it holds none: the kernel detects lock deadlocks between
 * processes and not between threads, and would otherwise fail a lock with "Resource deadlock
 * avoided" (EDEADLK).
 */
final class FileLocking {
  /**
   * Held by the one thread of this JVM that holds, or waits for, a file store's operating-system
   * lock; shared by every instance, whatever its directory (see the class description). It also
   * keeps two stores opened on the same directory from both locking one file, which the JVM would
   * refuse with an {@code OverlappingFileLockException}. It guards {@link HolderLocks}' table too.
   */
  private static final ReentrantLock OS_LOCK = new ReentrantLock();

  enum Mode {
    /** A shared lock; a connection without a lock file was never written, and is read as is. */
    READ,
    /** An exclusive lock, creating the lock file when missing. */
    WRITE
  }

  interface LockedAction<T> {
    /** Runs under the lock; {@code lock} is null when reading a connection with no lock file. */
    T run(FileChannel lock) throws IOException;
  }

  private final FileNames names;
  private final RecordFiles files;

  FileLocking(FileNames names, RecordFiles files) {
    this.names = names;
    this.files = files;
  }

  /** Runs {@code body} holding the JVM-wide lock only (no file lock). */
  static void jvmWide(Runnable body) {
    OS_LOCK.lock();
    try {
      body.run();
    } finally {
      OS_LOCK.unlock();
    }
  }

  /**
   * Runs {@code body} under the connection's lock, in {@code mode}; an {@link IOException} becomes
   * a {@link TokenStoreException} saying the store could not do {@code action}.
   */
  <T> T locked(ConnectionId id, String action, Mode mode, LockedAction<T> body) {
    return locked(
        id,
        names.file(id, FileNames.LOCK_SUFFIX),
        "connection " + id + ": could not " + action + " in " + names.directory(),
        mode,
        body);
  }

  /**
   * Runs {@code body} under the exclusive lock of {@code lockFile}, which is not a connection's
   * (the one-time records' lock); a failure becomes a {@link TokenStoreException} starting with
   * {@code failure}.
   */
  <T> T lockedFile(Path lockFile, String failure, LockedAction<T> body) {
    return locked(null, lockFile, failure, Mode.WRITE, body);
  }

  private <T> T locked(
      @Nullable ConnectionId id, Path lockFile, String failure, Mode mode, LockedAction<T> body) {
    if (OS_LOCK.isHeldByCurrentThread()) {
      // Holding one file lock while waiting for another is what the single lock rules out.
      throw new IllegalStateException("file store operations do not nest");
    }
    OS_LOCK.lock();
    try {
      FileChannel channel;
      try {
        channel =
            mode == Mode.WRITE
                ? FileChannel.open(
                    lockFile,
                    Set.of(
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS),
                    files.fileAttributes())
                : FileChannel.open(lockFile, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        if (mode == Mode.WRITE) {
          throw e;
        }
        // Every write creates the lock file first: nothing is being written. (Records copied in
        // by hand are read all the same.)
        return body.run(null);
      }
      try (FileChannel ch = channel) {
        ch.lock(0, Long.MAX_VALUE, mode == Mode.READ); // released when the channel closes
        return body.run(ch);
      }
    } catch (IOException e) {
      throw new TokenStoreException(id, failure + ": " + RecordFiles.describe(e), e);
    } finally {
      OS_LOCK.unlock();
    }
  }
}
