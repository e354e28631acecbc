package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TokenStore} in one directory of the local file system: the embedded default. Durable
 * across crashes, shared safely by every thread and every process on the machine that opens the
 * same directory, and encrypted at rest when given {@link EncryptionKeys}.
 *
 * <h2>Files</h2>
 *
 * Each connection has up to five files, named {@code <name>.<kind>}, where {@code <name>} is the
 * connection id with every character other than {@code a-z 0-9 - _} written as {@code %XX} (UTF-8,
 * so names are safe on case-insensitive file systems too), e.g. {@code cafe24%3Amymall.tokens};
 * very long ids are shortened with a hash.
 *
 * <ul>
 *   <li>{@code <name>.tokens}: the token set with its version, {@link TokenCodec} JSON (format 1),
 *       encrypted when the store has keys. Its presence lists the connection in {@link
 *       #connections()}.
 *   <li>{@code <name>.health}: the {@link HealthRecord}, {@link StateCodec} JSON (format 2, in the
 *       clear: it holds no secret). Absent when the connection is ACTIVE.
 *   <li>{@code <name>.tombstone}: the {@link Tombstone} of a revoked or uninstalled connection,
 *       {@link StateCodec} JSON, with the last token set version: versions continue from it.
 *   <li>{@code <name>.lock}: locked by every write (see below) and holding the renewal lease, never
 *       deleted, so that fences keep growing.
 *   <li>{@code <name>.holder}: empty; locked by the process holding the lease, while it lasts (see
 *       below). Deleted on release; a crash may leave it, and it is simply reused.
 * </ul>
 *
 * A token set and a tombstone normally never exist together. If a crash leaves both, the one with
 * the higher version counts (a tombstone keeps the version of the set it replaced, a new
 * authorization writes a set above the tombstone's version). The directory is created owner-only
 * (0700) and every file owner-only (0600) where the file system is POSIX.
 *
 * <h2>Locking</h2>
 *
 * Every write and every {@link #read} runs under an operating-system lock on the connection's
 * {@code .lock} file (a {@link FileLock}, exclusive for writes and shared for reads), which
 * excludes other processes, taken while holding one JVM-wide in-process lock, which excludes the
 * other threads of this JVM: a {@code FileLock} belongs to the process, not to a thread. That one
 * lock is shared by every file store of the JVM, whatever its directory: a process holds at most
 * one store file lock at a time and waits for one only while it holds none. Otherwise the kernel,
 * which detects lock deadlocks between processes and not between threads, would take two threads of
 * one process that each hold one connection's lock as a process waiting for itself, and fail the
 * lock with "Resource deadlock avoided" (EDEADLK). The price is that a JVM's store operations run
 * one at a time, so each is kept short: records are encoded and encrypted before the lock is taken,
 * and the longest critical section is a save's two forced writes (the record and the directory).
 * The lock is a static field: load this class once per JVM (not once per class loader of an
 * application server), or two copies will fail each other's file locks.
 *
 * <p>{@link #load} takes no lock: every file is replaced by an atomic rename, so it reads whole
 * records, and it reads the token set before the tombstone, which a revocation writes before it
 * deletes the set.
 *
 * <h2>The lease</h2>
 *
 * The lease lives in the lock file as one line, {@code tokenbroker-lease 1 <fence> <expires-millis>
 * <owner, base64url, or - when free>}, optionally followed by a second line {@code
 * tokenbroker-lease-2 <fence> [renewing=<millis>] [holder=1]} about the lease with that fence (it
 * counts only while that lease is held): its {@linkplain #markRenewing renewal marker}, and whether
 * its holder's process keeps the holder file locked. Lease expiry uses this store's {@link Clock};
 * processes sharing a directory share the machine's clock.
 *
 * <p><b>A holder that died loses its lease at once.</b> The process granted a lease locks {@code
 * <name>.holder} (without waiting: if a live earlier holder still has it, the lease just goes
 * without {@code holder=1}) and keeps it locked until the lease is released or the store closed.
 * The operating system frees the locks of a process that dies, so a would-be taker that finds a
 * {@code holder=1} lease unexpired but its holder file unlocked knows the holder's process is gone,
 * and takes the lease over before it expires (reporting a renewal cut short, if one was). A holder
 * that lives but hangs keeps its lease until it expires. Holder files are only ever locked without
 * waiting, so they never count in the kernel's deadlock detection. Every store of a JVM shares one
 * table of the holder files the JVM has locked, so that several brokers in one JVM hand a lease
 * over without ever opening a holder file twice (closing any channel of a file frees every lock the
 * process holds on it). This needs a local file system: over a network file system, a lock can be
 * lost while its process lives, and a lease then expires early (the holder's later writes are
 * rejected as stale, but its token request may have been sent).
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Each file is written as {@code <file>.tmp}, forced to disk, renamed over the file
 *       atomically, and the directory is forced: a crash at any instant leaves the old or the new
 *       record, never a torn or empty one. When a write returns, it is durable. Lease lines are
 *       written in place and not forced: a lease matters only while its holder's process lives.
 *   <li>A record that cannot be read, parsed or decrypted is reported with a {@link
 *       TokenStoreException} naming the connection and the file, by reads and writes alike: it is
 *       never overwritten silently. Only {@link #tombstone} replaces an unreadable token set (the
 *       tombstone then keeps the highest version it can still read). A failed save (full disk,
 *       read-only directory) throws and leaves the previous record intact.
 *   <li>{@link #authorize} clears the health record before it writes the new set: if it fails after
 *       that, the old set stays, without its health record.
 * </ul>
 *
 * <h2>Sharing a directory with an earlier release (rolling upgrades)</h2>
 *
 * Token sets keep format 1 and their file name, so an instance of the previous release reads and
 * writes them as before. It reads only the first line of a lease, which this release writes in the
 * same layout, so both agree on who holds a lease; an earlier release rewriting the lease drops the
 * second line, losing only a renewal marker that it would not have reported anyway; its leases
 * carry no {@code holder=1}, so they last until they expire, and it ignores holder files. Its
 * writes are not fenced: only the version protects them. Health records and tombstones live in
 * files an earlier release never opens; it sees a tombstoned connection as one with nothing stored,
 * and its compare-and-set from the version it knew fails with a conflict.
 *
 * <p>Thread-safe. Methods block on disk I/O, and on other processes' short critical sections.
 */
public final class FileTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  static final String DATA_SUFFIX = ".tokens";
  static final String HEALTH_SUFFIX = ".health";
  static final String TOMBSTONE_SUFFIX = ".tombstone";
  static final String LOCK_SUFFIX = ".lock";
  static final String HOLDER_SUFFIX = ".holder";
  static final String TEMP_SUFFIX = ".tmp";
  private static final int MAX_PLAIN_NAME = 200;
  private static final int HASHED_PREFIX = 150;
  private static final char HASH_MARK = '~';
  private static final String LEASE_MAGIC = "tokenbroker-lease";
  private static final String LEASE_MORE_MAGIC = "tokenbroker-lease-2";

  /**
   * Held by the one thread of this JVM that holds, or waits for, a file store's operating-system
   * lock; shared by every instance, whatever its directory (see the class description). It also
   * keeps two stores opened on the same directory from both locking one file, which the JVM would
   * refuse with an {@code OverlappingFileLockException}.
   */
  private static final ReentrantLock OS_LOCK = new ReentrantLock();

  /**
   * The holder locks this JVM holds, by holder file (see the class description): one channel per
   * file and JVM, since closing any channel of a file drops every lock the process holds on it.
   * Guarded by {@link #OS_LOCK}.
   */
  private static final Map<Path, HolderLock> HOLDERS = new HashMap<>();

  private static final boolean CAN_SYNC_DIRECTORY =
      !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  private final Path directory;
  private final Clock clock;
  private final TokenCodec codec;
  private final boolean posix;

  private FileTokenStore(Path directory, Clock clock, TokenCodec codec, boolean posix) {
    this.directory = directory;
    this.clock = clock;
    this.codec = codec;
    this.posix = posix;
  }

  /** A builder for a store in {@code directory}, which is created when missing. */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /** The directory holding the records. */
  public Path directory() {
    return directory;
  }

  /** True when records are encrypted. */
  public boolean encrypts() {
    return codec.encrypts();
  }

  // ---------------------------------------------------------------- reading

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return locked(
        id,
        "read its records",
        Mode.READ,
        lock -> {
          Records r = records(id);
          return new StoredConnection(r.tokens, readHealth(id), r.tombstone);
        });
  }

  /** The token set, read without a lock (see the class description). */
  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    TokenSet tokens = readTokens(id);
    if (tokens == null) {
      return null;
    }
    Tombstone tombstone = readTombstone(id);
    return tombstone != null && tombstone.version() >= tokens.version() ? null : tokens;
  }

  @Override
  public List<ConnectionId> connections() {
    List<ConnectionId> ids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*" + DATA_SUFFIX)) {
      for (Path p : entries) {
        ConnectionId id = connectionOf(p);
        if (id != null && !leftBehindByATombstone(id)) {
          ids.add(id);
        }
      }
    } catch (IOException e) {
      throw new TokenStoreException(
          null, "cannot list token records in " + directory + ": " + describe(e), e);
    }
    ids.sort(null);
    return ids;
  }

  /** True for a token set that a tombstone written after it outranks (a crash in between). */
  private boolean leftBehindByATombstone(ConnectionId id) {
    if (!Files.exists(file(id, TOMBSTONE_SUFFIX), LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try {
      return load(id) == null;
    } catch (TokenStoreException e) {
      return false; // listed: reading it reports the problem
    }
  }

  // ---------------------------------------------------------------- token sets

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    byte[] record = codec.encode(id, saved); // before the lock: see the class description
    return locked(
        id,
        "save tokens",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          requireCurrent(id, held, lease);
          // Read under the lock: a corrupt record fails the save here instead of being replaced.
          Records r = records(id);
          if (r.tombstone != null) {
            throw new TombstonedException(id, r.tombstone);
          }
          long actual = r.version();
          if (actual != expectedVersion) {
            throw new VersionConflictException(id, expectedVersion, actual);
          }
          writeAtomically(file(id, DATA_SUFFIX), record);
          clearMarker(id, lock, held);
          return saved;
        });
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    return locked(
        id,
        "save tokens",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          requireCurrent(id, held, lease);
          Records r = records(id);
          TokenSet saved = tokens.withVersion(r.highestVersion() + 1);
          byte[] record = codec.encode(id, saved);
          // The health record first: failing after it leaves the old set without it, never the
          // new set with the old chain's failure. The rename's directory sync covers the delete.
          Files.deleteIfExists(file(id, HEALTH_SUFFIX));
          writeAtomically(file(id, DATA_SUFFIX), record);
          // The new set outranks the tombstone already (a higher version); this is tidying.
          deleteOutranked(id, file(id, TOMBSTONE_SUFFIX));
          clearMarker(id, lock, held);
          return saved;
        });
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    byte[] record = codec.encode(id, tokens);
    return locked(
        id,
        "restore tokens",
        Mode.WRITE,
        lock -> {
          Records r = records(id);
          if (r.tombstone == null && tokens.version() > r.version()) {
            writeAtomically(file(id, DATA_SUFFIX), record);
            return new StoredConnection(tokens, readHealth(id), null);
          }
          return new StoredConnection(r.tokens, readHealth(id), r.tombstone);
        });
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    Objects.requireNonNull(lease, "lease");
    locked(
        id,
        "write the tombstone",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          requireCurrent(id, held, lease);
          long version = tombstone.version();
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
          Tombstone stored = new Tombstone(tombstone.reason(), tombstone.at(), version);
          writeAtomically(file(id, TOMBSTONE_SUFFIX), StateCodec.encodeTombstone(id, stored));
          // The tombstone outranks the set already (its version is not lower); this is tidying.
          deleteOutranked(id, file(id, DATA_SUFFIX));
          clearMarker(id, lock, held);
          return null;
        });
  }

  // ---------------------------------------------------------------- the lease

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    checkLeaseArguments(id, owner, ttl);
    return locked(
        id,
        "take the renewal lease",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          long now = clock.millis();
          FileChannel deadHolders = null;
          if (held.owner != null && !held.owner.equals(owner) && now < held.expiresAtMillis) {
            deadHolders = held.holderLocked ? lockOfADeadHolder(id) : null;
            if (deadHolders == null) {
              return null;
            }
            log.info(
                "connection {}: the process holding the renewal lease (fence {}) is gone; its"
                    + " lease is taken over before it expires",
                id,
                held.fence);
          }
          return grant(id, lock, held, owner, ttl, minFence, now, deadHolders);
        });
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    checkLeaseArguments(id, owner, ttl);
    return locked(
        id,
        "seize the renewal lease",
        Mode.WRITE,
        lock -> grant(id, lock, LeaseState.read(lock), owner, ttl, minFence, clock.millis(), null));
  }

  /**
   * Grants a new lease over {@code held}; {@code deadHolders} is the holder file's channel, locked,
   * when the lease is taken over from a process found dead.
   */
  private Lease grant(
      ConnectionId id,
      FileChannel lock,
      LeaseState held,
      String owner,
      Duration ttl,
      long minFence,
      long now,
      @Nullable FileChannel deadHolders)
      throws IOException {
    Instant cutShort =
        held.owner != null && held.renewingSinceMillis >= 0
            ? Instant.ofEpochMilli(held.renewingSinceMillis)
            : null;
    long fence = Math.max(held.fence, minFence) + 1;
    long expires = now + ttl.toMillis();
    HolderLock before = HOLDERS.get(file(id, HOLDER_SUFFIX));
    long fenceBefore = before == null ? 0 : before.fence;
    FileTokenStore storeBefore = before == null ? this : before.store;
    boolean holderLocked = takeHolderLock(id, fence, deadHolders);
    try {
      new LeaseState(fence, owner, expires, -1, holderLocked).write(lock);
    } catch (IOException | RuntimeException e) {
      if (before != null) {
        // Still this JVM's lease before this grant.
        before.fence = fenceBefore;
        before.store = storeBefore;
      } else {
        dropHolderLock(id, fence);
      }
      throw e;
    }
    return new Lease(id, owner, fence, Instant.ofEpochMilli(expires), cutShort);
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    checkTtl(ttl);
    return locked(
        lease.connection(),
        "extend the renewal lease",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          if (!held.isCurrent(lease)) {
            return null;
          }
          long expires = clock.millis() + ttl.toMillis();
          new LeaseState(
                  held.fence, held.owner, expires, held.renewingSinceMillis, held.holderLocked)
              .write(lock);
          return lease.withExpiry(Instant.ofEpochMilli(expires));
        });
  }

  @Override
  public void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    locked(
        id,
        "mark the renewal",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          requireCurrent(id, held, lease);
          new LeaseState(
                  held.fence, held.owner, held.expiresAtMillis, clock.millis(), held.holderLocked)
              .write(lock);
          return null;
        });
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    locked(
        lease.connection(),
        "release the renewal lease",
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          if (held.isCurrent(lease)) {
            // Keep the fencing value: the next grant must get a larger one.
            new LeaseState(held.fence, null, 0, -1, false).write(lock);
          }
          // Current or not (taken over after it expired), this process is done with it.
          dropHolderLock(lease.connection(), lease.fencingToken());
          return null;
        });
  }

  private static void requireCurrent(ConnectionId id, LeaseState held, Lease lease) {
    if (!lease.connection().equals(id) || !held.isCurrent(lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  /** After a save under the lease: clears its renewal marker, if it has one. */
  private static void clearMarker(ConnectionId id, FileChannel lock, LeaseState held) {
    if (held.renewingSinceMillis < 0) {
      return;
    }
    try {
      new LeaseState(held.fence, held.owner, held.expiresAtMillis, -1, held.holderLocked)
          .write(lock);
    } catch (IOException e) {
      // The save is done and durable; a marker left behind only makes the next holder report a
      // renewal cut short, the cautious mistake.
      log.warn("connection {}: saved, but the renewal marker stays: {}", id, describe(e));
    }
  }

  private static void checkLeaseArguments(ConnectionId id, String owner, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    checkTtl(ttl);
  }

  private static void checkTtl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
  }

  // ---------------------------------------------------------------- the holder lock

  /** A holder file this JVM keeps locked while one of its leases on the connection lasts. */
  private static final class HolderLock {
    final FileChannel channel;

    /** The fence of the lease it stands for. */
    long fence;

    /** The store that granted that lease; its {@link #close()} lets go. */
    FileTokenStore store;

    HolderLock(FileChannel channel, long fence, FileTokenStore store) {
      this.channel = channel;
      this.fence = fence;
      this.store = store;
    }
  }

  /**
   * Makes this process the holder of the lease with {@code fence} (under the connection's lock),
   * with {@code deadHolders} when the caller just locked the holder file. Best effort: false when
   * the holder file cannot be locked (an earlier holder whose lease expired still lives, a
   * read-only directory), and then the lease lasts until it expires whatever becomes of this
   * process.
   */
  private boolean takeHolderLock(ConnectionId id, long fence, @Nullable FileChannel deadHolders) {
    Path file = file(id, HOLDER_SUFFIX);
    HolderLock mine = HOLDERS.get(file);
    if (mine != null) {
      // This process holds it for an earlier lease (another broker of this JVM, or the same one).
      mine.fence = fence;
      mine.store = this;
      closeQuietly(deadHolders);
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
                fileAttributes());
        // Never wait for a holder lock: only locks nobody waits for stay out of the kernel's
        // deadlock detection (see the class description).
        if (channel.tryLock() == null) {
          closeQuietly(channel);
          return false;
        }
      }
      HOLDERS.put(file, new HolderLock(channel, fence, this));
      return true;
    } catch (IOException | OverlappingFileLockException e) {
      log.debug("connection {}: no holder lock for the lease: {}", id, e.toString());
      closeQuietly(channel);
      return false;
    }
  }

  /**
   * Under the connection's lock, for a lease marked as holder-locked and not expired: the holder
   * file's channel, locked, if its holder's process is gone (so the lease may be taken over); null
   * if the holder lives or this cannot be told.
   */
  private @Nullable FileChannel lockOfADeadHolder(ConnectionId id) {
    Path file = file(id, HOLDER_SUFFIX);
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
    closeQuietly(channel);
    return null;
  }

  /** Lets go of the holder lock of the lease with {@code fence}, if this process has it. */
  private void dropHolderLock(ConnectionId id, long fence) {
    Path file = file(id, HOLDER_SUFFIX);
    HolderLock mine = HOLDERS.get(file);
    if (mine == null || mine.fence != fence) {
      return;
    }
    HOLDERS.remove(file);
    // Under the connection's lock and with the holder lock held: nobody else has the file open.
    deleteQuietly(file);
    closeQuietly(mine.channel);
  }

  private static void closeQuietly(@Nullable FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing left to do
      }
    }
  }

  /**
   * Lets go of the holder locks of the leases this store granted and that are not released yet:
   * from now on, they last until they expire.
   */
  @Override
  public void close() {
    OS_LOCK.lock();
    try {
      for (Iterator<HolderLock> it = HOLDERS.values().iterator(); it.hasNext(); ) {
        HolderLock h = it.next();
        if (h.store == this) {
          it.remove();
          closeQuietly(h.channel);
        }
      }
    } finally {
      OS_LOCK.unlock();
    }
  }

  // ---------------------------------------------------------------- health

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    byte[] record =
        next == null ? null : StateCodec.encodeHealth(id, next.withVersion(expectedVersion + 1));
    return locked(
        id,
        "save the health record",
        Mode.WRITE,
        lock -> {
          HealthRecord stored = readHealth(id);
          long actual = stored == null ? 0 : stored.version();
          if (actual != expectedVersion) {
            return false;
          }
          Path target = file(id, HEALTH_SUFFIX);
          if (record != null) {
            writeAtomically(target, record);
          } else if (Files.deleteIfExists(target)) {
            syncDirectory();
          }
          return true;
        });
  }

  @Override
  public String toString() {
    return "FileTokenStore{" + directory + (codec.encrypts() ? ", encrypted" : ", clear") + '}';
  }

  // ---------------------------------------------------------------- records

  /** The token set and tombstone of a connection, resolved as the class description says. */
  private static final class Records {
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

  private Records records(ConnectionId id) {
    TokenSet tokens = readTokens(id);
    Tombstone tombstone = readTombstone(id);
    if (tokens != null && tombstone != null) {
      return tokens.version() > tombstone.version()
          ? new Records(tokens, null)
          : new Records(null, tombstone);
    }
    return new Records(tokens, tombstone);
  }

  private @Nullable TokenSet readTokens(ConnectionId id) {
    Path file = file(id, DATA_SUFFIX);
    byte[] bytes = readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return codec.decode(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  private @Nullable Tombstone readTombstone(ConnectionId id) {
    Path file = file(id, TOMBSTONE_SUFFIX);
    byte[] bytes = readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return StateCodec.decodeTombstone(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  private @Nullable HealthRecord readHealth(ConnectionId id) {
    Path file = file(id, HEALTH_SUFFIX);
    byte[] bytes = readRecord(id, file);
    if (bytes == null) {
      return null;
    }
    try {
      return StateCodec.decodeHealth(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  /** The bytes of {@code file}, or null when it does not exist. */
  private static byte @Nullable [] readRecord(ConnectionId id, Path file) {
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

  private void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
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
  private void deleteOutranked(ConnectionId id, Path file) {
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

  private void syncDirectory() throws IOException {
    if (!CAN_SYNC_DIRECTORY) {
      return; // Windows cannot open a directory as a channel; NTFS journals the rename itself.
    }
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // Left for the next save of this connection, which truncates it.
    }
  }

  // ---------------------------------------------------------------- locking

  private enum Mode {
    /** A shared lock; a connection without a lock file was never written, and is read as is. */
    READ,
    /** An exclusive lock, creating the lock file when missing. */
    WRITE
  }

  private interface LockedAction<T> {
    /** Runs under the lock; {@code lock} is null when reading a connection with no lock file. */
    T run(FileChannel lock) throws IOException;
  }

  private <T> T locked(ConnectionId id, String action, Mode mode, LockedAction<T> body) {
    if (OS_LOCK.isHeldByCurrentThread()) {
      // Holding one file lock while waiting for another is what the single lock rules out.
      throw new IllegalStateException("file store operations do not nest");
    }
    Path lockFile = file(id, LOCK_SUFFIX);
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
                    fileAttributes())
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
      throw new TokenStoreException(
          id,
          "connection " + id + ": could not " + action + " in " + directory + ": " + describe(e),
          e);
    } finally {
      OS_LOCK.unlock();
    }
  }

  private FileAttribute<?>[] fileAttributes() {
    return posix
        ? new FileAttribute<?>[] {
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
        }
        : new FileAttribute<?>[0];
  }

  private static String describe(IOException e) {
    if (e instanceof FileSystemException) {
      FileSystemException f = (FileSystemException) e;
      String reason = f.getReason();
      return e.getClass().getSimpleName() + (reason == null ? "" : " (" + reason + ")");
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  /**
   * The lease kept in a connection's lock file. The first line, {@code tokenbroker-lease 1 <fence>
   * <expires-millis> <owner, base64url or ->}, is the layout every release reads (earlier ones read
   * that line only, and exactly five fields on it). An optional second line, {@code
   * tokenbroker-lease-2 <fence> <key>=<value>…}, carries what later releases add; it counts only
   * while its fence is the first line's and the lease is held, so a line left behind (an earlier
   * release rewrote the first line, or a crash cut a shorter rewrite short) is ignored. Keys:
   * {@code renewing=<millis>}, the renewal marker. Unknown keys are ignored.
   *
   * <p>Written in place with one write while the file lock is held, then truncated; a first line
   * torn by a crash of the whole machine reads as "no lease" (every holder died with the machine).
   */
  private static final class LeaseState {
    final long fence;
    final @Nullable String owner;
    final long expiresAtMillis;

    /** Epoch millis at which the holder started a token request, or -1. */
    final long renewingSinceMillis;

    /** True when the holder's process keeps the holder file locked while the lease lasts. */
    final boolean holderLocked;

    LeaseState(
        long fence,
        @Nullable String owner,
        long expiresAtMillis,
        long renewingSinceMillis,
        boolean holderLocked) {
      this.fence = fence;
      this.owner = owner;
      this.expiresAtMillis = expiresAtMillis;
      this.renewingSinceMillis = owner == null ? -1 : renewingSinceMillis;
      this.holderLocked = owner != null && holderLocked;
    }

    /** True if {@code lease} is this one: held, same fence, same owner. */
    boolean isCurrent(Lease lease) {
      return owner != null && fence == lease.fencingToken() && lease.owner().equals(owner);
    }

    static LeaseState read(FileChannel ch) throws IOException {
      long size = ch.size();
      if (size == 0) {
        return new LeaseState(0, null, 0, -1, false);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, 4096));
      while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
        // keep reading
      }
      String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
      String[] lines = text.split("\n", 3);
      String[] parts = lines[0].split(" ");
      try {
        if (parts.length == 5 && parts[0].equals(LEASE_MAGIC) && parts[1].equals("1")) {
          String owner =
              parts[4].equals("-")
                  ? null
                  : new String(Base64.getUrlDecoder().decode(parts[4]), StandardCharsets.UTF_8);
          long fence = Long.parseLong(parts[2]);
          long expires = Long.parseLong(parts[3]);
          String more = lines.length > 1 ? lines[1] : "";
          return new LeaseState(
              fence,
              owner,
              expires,
              parseLong(value(more, fence, "renewing"), -1),
              "1".equals(value(more, fence, "holder")));
        }
      } catch (IllegalArgumentException e) {
        // fall through
      }
      log.warn("lease record unreadable; treating it as free");
      return new LeaseState(0, null, 0, -1, false);
    }

    /** The value of {@code key} in a second line for the lease with {@code fence}, or null. */
    private static @Nullable String value(String line, long fence, String key) {
      String[] parts = line.split(" ");
      if (parts.length < 2
          || !parts[0].equals(LEASE_MORE_MAGIC)
          || !parts[1].equals(Long.toString(fence))) {
        return null;
      }
      for (int i = 2; i < parts.length; i++) {
        if (parts[i].startsWith(key + "=")) {
          return parts[i].substring(key.length() + 1);
        }
      }
      return null;
    }

    private static long parseLong(@Nullable String text, long otherwise) {
      try {
        return text == null ? otherwise : Long.parseLong(text);
      } catch (NumberFormatException e) {
        return otherwise; // a line cut short by a crash
      }
    }

    void write(FileChannel ch) throws IOException {
      String ownerText =
          owner == null
              ? "-"
              : Base64.getUrlEncoder()
                  .withoutPadding()
                  .encodeToString(owner.getBytes(StandardCharsets.UTF_8));
      StringBuilder text =
          new StringBuilder(LEASE_MAGIC)
              .append(" 1 ")
              .append(fence)
              .append(' ')
              .append(expiresAtMillis)
              .append(' ')
              .append(ownerText)
              .append('\n');
      if (renewingSinceMillis >= 0 || holderLocked) {
        text.append(LEASE_MORE_MAGIC).append(' ').append(fence);
        if (renewingSinceMillis >= 0) {
          text.append(" renewing=").append(renewingSinceMillis);
        }
        if (holderLocked) {
          text.append(" holder=1");
        }
        text.append('\n');
      }
      byte[] line = text.toString().getBytes(StandardCharsets.US_ASCII);
      ByteBuffer buf = ByteBuffer.wrap(line);
      long pos = 0;
      while (buf.hasRemaining()) {
        pos += ch.write(buf, pos);
      }
      ch.truncate(line.length);
      // Not forced: a lease matters only while its holder's process lives, and a process crash
      // does not lose the page cache.
    }
  }

  // ---------------------------------------------------------------- names

  private Path file(ConnectionId id, String suffix) {
    return directory.resolve(baseName(id) + suffix);
  }

  /** The file name (without suffix) for {@code id}; see the class description. */
  public static String baseName(ConnectionId id) {
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

  /** The connection a record file belongs to, or null for a file that is not a record. */
  private @Nullable ConnectionId connectionOf(Path file) {
    String name = file.getFileName().toString();
    String base = name.substring(0, name.length() - DATA_SUFFIX.length());
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
      throw new TokenStoreException(null, "cannot read " + file + ": " + describe(e), e);
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

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link FileTokenStore}. Not thread-safe. Each option may be set once.
   *
   * <pre>{@code
   * TokenStore store = FileTokenStore.builder(Path.of("/var/lib/tokenbroker"))
   *     .encryption(EncryptionKeys.parse(System.getenv("TOKENBROKER_KEY")))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final Path directory;
    private @Nullable Clock clock;
    private @Nullable EncryptionKeys keys;
    private boolean keysSet;

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** The clock leases expire by; default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      if (this.clock != null) {
        throw new IllegalStateException("clock was already set");
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Encrypts records with AES-256-GCM under these keys; null (the default) stores them in the
     * clear and says so once in the log.
     */
    public Builder encryption(@Nullable EncryptionKeys keys) {
      if (keysSet) {
        throw new IllegalStateException("encryption was already set");
      }
      this.keys = keys;
      this.keysSet = true;
      return this;
    }

    /**
     * Creates the directory (owner-only) when missing and returns the store.
     *
     * @throws TokenStoreException if the directory cannot be created or is not a directory
     */
    public FileTokenStore build() {
      Path dir = directory.toAbsolutePath().normalize();
      boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
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
        dir = dir.toRealPath();
      } catch (IOException e) {
        throw new TokenStoreException(
            null, "cannot use " + dir + " as the token directory: " + describe(e), e);
      }
      TokenCodec codec = TokenCodec.of(keys);
      if (!codec.encrypts()) {
        log.warn(
            "token store {}: no encryption key configured, tokens are stored in the clear"
                + " (set key-env or key-file)",
            dir);
      }
      return new FileTokenStore(dir, clock == null ? Clock.systemUTC() : clock, codec, posix);
    }
  }
}
