package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link FileTokenStore}'s view of the holder files this JVM keeps locked (see the store's
 * class description, "The lease"): the process granted a lease locks {@code <name>.holder} until
 * the lease is released or the store closed, so that a would-be taker that finds the file unlocked
 * knows the holder's process is gone. Holder files are only ever locked without waiting, so they
 * never count in the kernel's deadlock detection.
 *
 * <p>The table is shared by every store of the JVM, so that several brokers in one JVM hand a lease
 * over without ever opening a holder file twice (closing any channel of a file frees every lock the
 * process holds on it). Every method runs under the JVM-wide lock of {@link FileLocking}, which
 * guards the table: all but {@link #releaseAll} under the connection's lock.
 */
final class HolderLocks {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  /**
   * The holder locks this JVM holds, by holder file: one channel per file and JVM, since closing
   * any channel of a file drops every lock the process holds on it. Guarded by {@link
   * FileLocking}'s JVM-wide lock.
   */
  private static final Map<Path, HolderLock> HOLDERS = new HashMap<>();

  /** A holder file this JVM keeps locked while one of its leases on the connection lasts. */
  private static final class HolderLock {
    final FileChannel channel;

    /** The fence of the lease it stands for. */
    long fence;

    /** The store that granted that lease; its {@link #releaseAll()} lets go. */
    HolderLocks store;

    HolderLock(FileChannel channel, long fence, HolderLocks store) {
      this.channel = channel;
      this.fence = fence;
      this.store = store;
    }
  }

  /** Writes the granted lease, saying whether its holder file is locked. */
  interface LeaseWrite {
    void write(boolean holderLocked) throws IOException;
  }

  private final FileNames names;
  private final RecordFiles files;

  /** One per store: it stands for the store in the table. */
  HolderLocks(FileNames names, RecordFiles files) {
    this.names = names;
    this.files = files;
  }

  /**
   * For a grant of the lease with {@code fence}: makes this process its holder (see {@link #take}),
   * then has {@code write} record the lease. If that fails, the table is put back as it was, so a
   * lease of this JVM before the grant keeps its holder lock.
   */
  void grant(ConnectionId id, long fence, @Nullable FileChannel deadHolders, LeaseWrite write)
      throws IOException {
    HolderLock before = HOLDERS.get(names.file(id, FileNames.HOLDER_SUFFIX));
    long fenceBefore = before == null ? 0 : before.fence;
    HolderLocks storeBefore = before == null ? this : before.store;
    boolean holderLocked = take(id, fence, deadHolders);
    try {
      write.write(holderLocked);
    } catch (IOException | RuntimeException e) {
      if (before != null) {
        // Still this JVM's lease before this grant.
        before.fence = fenceBefore;
        before.store = storeBefore;
      } else {
        drop(id, fence);
      }
      throw e;
    }
  }

  /**
   * Makes this process the holder of the lease with {@code fence} (under the connection's lock),
   * with {@code deadHolders} when the caller just locked the holder file. Best effort: false when
   * the holder file cannot be locked (an earlier holder whose lease expired still lives, a
   * read-only directory), and then the lease lasts until it expires whatever becomes of this
   * process.
   */
  private boolean take(ConnectionId id, long fence, @Nullable FileChannel deadHolders) {
    Path file = names.file(id, FileNames.HOLDER_SUFFIX);
    HolderLock mine = HOLDERS.get(file);
    if (mine != null) {
      // This process holds it for an earlier lease (another broker of this JVM, or the same one).
      mine.fence = fence;
      mine.store = this;
      RecordFiles.closeQuietly(deadHolders);
      return true;
    }
    FileChannel channel = deadHolders;
    try {
      if (channel == null) {
        channel =
            FileChannel.open(
                file,
                Set.of(
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                files.fileAttributes());
        // Never wait for a holder lock: only locks nobody waits for stay out of the kernel's
        // deadlock detection (see the class description).
        if (channel.tryLock() == null) {
          RecordFiles.closeQuietly(channel);
          return false;
        }
      }
      HOLDERS.put(file, new HolderLock(channel, fence, this));
      return true;
    } catch (IOException | OverlappingFileLockException e) {
      log.debug("connection {}: no holder lock for the lease: {}", id, e.toString());
      RecordFiles.closeQuietly(channel);
      return false;
    }
  }

  /**
   * Under the connection's lock, for a lease marked as holder-locked and not expired: the holder
   * file's channel, locked, if its holder's process is gone (so the lease may be taken over); null
   * if the holder lives or this cannot be told.
   */
  @Nullable FileChannel lockOfADeadHolder(ConnectionId id) {
    Path file = names.file(id, FileNames.HOLDER_SUFFIX);
    if (HOLDERS.containsKey(file)) {
      return null; // the holder is this process
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, Set.of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
      if (channel.tryLock() != null) {
        return channel;
      }
    } catch (NoSuchFileException e) {
      // Removed by hand: cannot tell, so the lease lasts until it expires.
    } catch (IOException | OverlappingFileLockException e) {
      log.debug("connection {}: cannot tell whether the lease holder lives: {}", id, e.toString());
    }
    RecordFiles.closeQuietly(channel);
    return null;
  }

  /** Lets go of the holder lock of the lease with {@code fence}, if this process has it. */
  void drop(ConnectionId id, long fence) {
    Path file = names.file(id, FileNames.HOLDER_SUFFIX);
    HolderLock mine = HOLDERS.get(file);
    if (mine == null || mine.fence != fence) {
      return;
    }
    HOLDERS.remove(file);
    // Under the connection's lock and with the holder lock held: nobody else has the file open.
    RecordFiles.deleteQuietly(file);
    RecordFiles.closeQuietly(mine.channel);
  }

  /**
   * Lets go of the holder locks of the leases this store granted and that are not released yet:
   * from now on, they last until they expire. Takes the JVM-wide lock itself.
   */
  void releaseAll() {
    FileLocking.jvmWide(
        () -> {
          for (Iterator<HolderLock> it = HOLDERS.values().iterator(); it.hasNext(); ) {
            HolderLock h = it.next();
            if (h.store == this) {
              it.remove();
              RecordFiles.closeQuietly(h.channel);
            }
          }
        });
  }
}
