package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.FileLocking.Mode;
import dev.tokenbroker.store.RecordReader.Records;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
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
 * Each connection has up to six files, named {@code <name>.<kind>}, where {@code <name>} is the
 * connection id with every character other than {@code a-z 0-9 - _} written as {@code %XX} (UTF-8,
 * so names are safe on case-insensitive file systems too), e.g. {@code cafe24%3Amymall.tokens};
 * very long ids are shortened with a hash.
 *
 * <ul>
 *   <li>{@code <name>.tokens}: the token set with its version, {@link TokenCodec} JSON (format 1),
 *       encrypted when the store has keys. Its presence lists the connection in {@link
 *       #connections()}.
 *   <li>{@code <name>.health}: the {@link HealthRecord}, {@link StateCodec} JSON (format 2, in the
 *       clear: it holds no secret), with its version. Absent when the connection is ACTIVE.
 *   <li>{@code <name>.health-version}: one line, {@code tokenbroker-health-version <n>}, the health
 *       version a clear left (written before the record is deleted, and never deleted itself): a
 *       clear keeps the version, so the next record is {@code n + 1}. The connection's health
 *       version is the higher of this and the record's.
 *   <li>{@code <name>.tombstone}: the {@link Tombstone} of a revoked or uninstalled connection,
 *       {@link StateCodec} JSON, with the last token set version: versions continue from it.
 *   <li>{@code <name>.lock}: locked by every write (see below) and holding the renewal lease, never
 *       deleted, so that fences keep growing.
 *   <li>{@code <name>.holder}: empty; locked by the process holding the lease, while it lasts (see
 *       below). Deleted on release; a crash may leave it, and it is simply reused.
 * </ul>
 *
 * The modification time of {@code .tokens} and {@code .tombstone} files is the registry time of
 * {@link #changedSince} (set by this store's clock; see there). One-time records ({@link #putOnce})
 * live in the subdirectory {@code once/}, one file each, named {@code <sha-256 hex>.once} after the
 * key's {@linkplain OnceKeys#digest digest}, never the key, holding the expiry and the value
 * (encrypted like token sets when the store has keys); puts are serialized by the lock of {@code
 * once/.lock}, and a take renames the file to a name of its own, so exactly one caller of every
 * process gets it.
 *
 * <p>A token set and a tombstone normally never exist together. If a crash leaves both, the one
 * with the higher version counts (a tombstone keeps the version of the set it replaced, a new
 * authorization writes a set above the tombstone's version). The directory is created owner-only
 * (0700) and every file owner-only (0600) where the file system is POSIX.
 *
 * <h2>Locking</h2>
 *
 * Every write and every {@link #read} runs under an operating-system lock on the connection's
 * {@code .lock} file (a {@link java.nio.channels.FileLock}, exclusive for writes and shared for
 * reads), which excludes other processes, taken while holding one JVM-wide in-process lock, which
 * excludes the other threads of this JVM: a {@code FileLock} belongs to the process, not to a
 * thread. That one lock is shared by every file store of the JVM, whatever its directory: a process
 * holds at most one store file lock at a time and waits for one only while it holds none. Otherwise
 * the kernel, which detects lock deadlocks between processes and not between threads, would take
 * two threads of one process that each hold one connection's lock as a process waiting for itself,
 * and fail the lock with "Resource deadlock avoided" (EDEADLK). The price is that a JVM's store
 * operations run one at a time, so each is kept short: records are encoded and encrypted before the
 * lock is taken, and the longest critical section is a save's two forced writes (the record and the
 * directory). The lock is a static field: load the store's classes once per JVM (not once per class
 * loader of an application server), or two copies will fail each other's file locks.
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
 * writes are not fenced: only the version protects them. Tombstones live in files an earlier
 * release never opens; it sees a tombstoned connection as one with nothing stored, and its
 * compare-and-set from the version it knew fails with a conflict. Health records keep their file
 * and format, so the release before this one, which wrote them already, reads and writes them as
 * before; it never opens {@code .health-version} files, so it sees a cleared record as no record
 * (version 0) and writes the next one as version 1, which this release reads as the kept version
 * (the higher one); a clear it makes deletes the record without moving the kept version, so this
 * release then sees the version the last clear it made itself left (or 0). It never opens {@code
 * once/} either; its saves leave the file system's time on the token file, so {@link #changedSince}
 * lists a connection it renewed as changed (a needless read, never a missed change).
 *
 * <p>Thread-safe. Methods block on disk I/O, and on other processes' short critical sections.
 */
public final class FileTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  // The parts, each in its own package-private class: the file names, the record files (atomic
  // writes), reading records, writing token sets and tombstones, the registry read from directory
  // listings, the JVM-wide and file locking, the lease line (LeaseState) and its operations, the
  // table of the holder files this JVM keeps locked, and the one-time records.
  private final FileNames names;
  private final RecordFiles files;
  private final RecordReader reader;
  private final FileRecordWrites writes;
  private final FileRegistry registry;
  private final FileLocking locking;
  private final HolderLocks holders;
  private final FileLeases leases;
  private final TokenCodec codec;
  private final FileOnceRecords once;

  private FileTokenStore(Path directory, Clock clock, TokenCodec codec, boolean posix) {
    this.names = new FileNames(directory);
    this.files = new RecordFiles(directory, posix);
    this.reader = new RecordReader(names, codec);
    this.locking = new FileLocking(names, files);
    this.writes = new FileRecordWrites(names, files, reader, locking, codec, clock);
    this.registry = new FileRegistry(names, reader);
    this.holders = new HolderLocks(names, files);
    this.leases = new FileLeases(clock, holders, locking);
    this.codec = codec;
    this.once = new FileOnceRecords(directory, posix, locking, codec, clock);
  }

  /**
   * A builder for a store in {@code directory}, which is created when missing.
   *
   * @param directory the token directory
   * @return a builder for a store in {@code directory}, which is created when missing
   */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /**
   * The directory holding the records.
   *
   * @return the directory holding the records
   */
  public Path directory() {
    return names.directory();
  }

  /**
   * True when records are encrypted.
   *
   * @return true when records are encrypted
   */
  public boolean encrypts() {
    return codec.encrypts();
  }

  /**
   * The file name (without suffix) for {@code id}; see the class description.
   *
   * @param id the connection
   * @return the file name (without suffix) for {@code id}; see the class description
   */
  public static String baseName(ConnectionId id) {
    return FileNames.baseName(id);
  }

  // ---------------------------------------------------------------- reading

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return locking.locked(
        id,
        "read its records",
        Mode.READ,
        lock -> {
          Records r = reader.records(id);
          RecordReader.HealthState health = reader.health(id);
          return new StoredConnection(r.tokens, health.record, r.tombstone, health.version);
        });
  }

  /** The token set, read without a lock (see the class description). */
  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return reader.current(id);
  }

  @Override
  public List<ConnectionId> connections() {
    return registry.connections();
  }

  // ------------------------------------------ token sets and tombstones (see FileRecordWrites)

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    return writes.compareAndSet(id, expectedVersion, tokens, lease);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    return writes.authorize(id, tokens, lease);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    return writes.restore(id, tokens);
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    Objects.requireNonNull(lease, "lease");
    writes.tombstone(id, tombstone, lease);
  }

  // ---------------------------------------------------------- the registry (see FileRegistry)

  /**
   * {@inheritDoc}
   *
   * <p>The file store keeps no change log: the modification time of each {@code .tokens} and {@code
   * .tombstone} file is the registry time, set by this store's clock on the file before its atomic
   * rename, so it is in place exactly when the record is. A first set, an authorization and a
   * restore stamp the token file with the time of the write, a tombstone its own file; a renewal
   * copies the previous token file's time onto the new one, so renewals do not appear. This needs
   * no second write that a crash could separate from the record, keeps every change (tombstone
   * files are never deleted, a re-authorization stamps the token file), and costs one directory
   * listing and one {@code stat} per record file. A record copied in by hand or restored with its
   * old times appears as changed when it was stamped (a tool that sets the current time makes it
   * appear now); a broker that misses it learns of the connection when it is asked for it.
   */
  @Override
  public List<ConnectionId> changedSince(Instant since) {
    Objects.requireNonNull(since, "since");
    return registry.changedSince(since);
  }

  // ---------------------------------------------------------------- one-time records

  /**
   * {@inheritDoc}
   *
   * <p>A file in the subdirectory {@code once/} named after a hash of the key, holding the expiry
   * and the value (encrypted when the store is); see the class description.
   *
   * @throws TokenStoreException if the record cannot be written
   */
  @Override
  public boolean putOnce(String key, byte[] value, Instant expiresAt) {
    OnceKeys.check(key);
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(expiresAt, "expiresAt");
    return once.put(key, value, expiresAt);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Renames the record's file to a name of its own first: of every thread and process trying,
   * exactly one succeeds.
   *
   * @throws TokenStoreException if the record cannot be read, or does not decrypt (it is gone all
   *     the same)
   */
  @Override
  public byte @Nullable [] takeOnce(String key) {
    OnceKeys.check(key);
    return once.take(key);
  }

  /** The file holding the one-time record of {@code key}, for tests. */
  Path onceFile(String key) {
    return once.file(key);
  }

  // ---------------------------------------------------------------- the lease (see FileLeases)

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    FileLeases.checkLeaseArguments(id, owner, ttl);
    return leases.tryAcquire(id, owner, ttl, minFence);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    FileLeases.checkLeaseArguments(id, owner, ttl);
    return leases.seize(id, owner, ttl, minFence);
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    FileLeases.checkTtl(ttl);
    return leases.extend(lease, ttl);
  }

  @Override
  public void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    leases.markRenewing(lease);
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    leases.release(lease);
  }

  /**
   * Lets go of the holder locks of the leases this store granted and that are not released yet:
   * from now on, they last until they expire.
   */
  @Override
  public void close() {
    holders.releaseAll();
  }

  // ---------------------------------------------------------------- health

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    byte[] record =
        next == null ? null : StateCodec.encodeHealth(id, next.withVersion(expectedVersion + 1));
    return locking.locked(
        id,
        "save the health record",
        Mode.WRITE,
        lock -> {
          if (reader.health(id).version != expectedVersion) {
            return false;
          }
          Path target = names.file(id, FileNames.HEALTH_SUFFIX);
          if (record != null) {
            files.writeAtomically(target, record); // its version is above the kept one
          } else {
            // The version first: a crash before the delete leaves the record under the new
            // version, never the old version without a record.
            files.writeAtomically(
                names.file(id, FileNames.HEALTH_VERSION_SUFFIX),
                RecordReader.encodeKeptHealthVersion(expectedVersion + 1));
            if (Files.deleteIfExists(target)) {
              files.syncDirectory();
            }
          }
          return true;
        });
  }

  @Override
  public String toString() {
    return "FileTokenStore{" + directory() + (codec.encrypts() ? ", encrypted" : ", clear") + '}';
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

    /**
     * The clock leases expire by; default {@link Clock#systemUTC()}.
     *
     * @param clock the clock every expiry and lease is measured by
     * @return this builder
     */
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
     *
     * @param keys the encryption keys
     * @return this builder
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
     * @return the store
     * @throws TokenStoreException if the directory cannot be created or is not a directory
     */
    public FileTokenStore build() {
      Path dir = directory.toAbsolutePath().normalize();
      boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
      dir = RecordFiles.createDirectory(dir, posix);
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
