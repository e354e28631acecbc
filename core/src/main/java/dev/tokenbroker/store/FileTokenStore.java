package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
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
import java.util.List;
import java.util.Locale;
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
 * <h2>Layout</h2>
 *
 * Each connection has a record file {@code <name>.tokens} and a lock file {@code <name>.lock},
 * where {@code <name>} is the connection id with every character other than {@code a-z 0-9 - _}
 * written as {@code %XX} (UTF-8, so names are safe on case-insensitive file systems too), e.g.
 * {@code cafe24%3Amymall.tokens}; very long ids are shortened with a hash. Records are {@link
 * TokenCodec} JSON. The directory is created owner-only (0700) and every file owner-only (0600)
 * where the file system is POSIX.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Each save writes {@code <name>.tokens.tmp}, forces it to disk, renames it over the record
 *       atomically and forces the directory: a crash at any instant leaves the old or the new
 *       record, never a torn or empty one. When {@link #compareAndSet} returns, the set is durable.
 *   <li>{@link #compareAndSet}, {@link #delete} and the lease run under an exclusive lock on the
 *       connection's lock file (a {@link FileLock}, which excludes other processes) taken while
 *       holding one JVM-wide in-process lock shared by every file store (which excludes other
 *       threads: a {@code FileLock} is held per process, not per thread; and a process waiting for
 *       a file lock while it holds another would make the kernel report a false deadlock). Loads
 *       take no lock: the atomic rename makes every read see a whole record.
 *   <li>The lease (owner, expiry, fencing value) lives in the lock file. The operating system frees
 *       the file lock of a killed process, and its lease simply expires at its time.
 *   <li>A record that cannot be read, parsed or decrypted is reported with a {@link
 *       TokenStoreException} naming the connection, by {@link #load} and by {@link #compareAndSet}
 *       alike: it is never overwritten silently. A failed save (full disk, read-only directory)
 *       throws and leaves the previous record intact.
 * </ul>
 *
 * Lease expiry uses this store's {@link Clock}; processes sharing a directory share the machine's
 * clock. Lock files are kept after {@link #delete} so that fencing values keep growing.
 *
 * <p>Thread-safe. Methods block on disk I/O, and on other processes' short critical sections.
 */
public final class FileTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  static final String DATA_SUFFIX = ".tokens";
  static final String TEMP_SUFFIX = ".tokens.tmp";
  static final String LOCK_SUFFIX = ".lock";
  private static final int MAX_PLAIN_NAME = 200;
  private static final int HASHED_PREFIX = 150;
  private static final char HASH_MARK = '~';
  private static final String LEASE_MAGIC = "tokenbroker-lease";

  /**
   * Held by the one thread of this JVM that holds, or waits for, a file store's operating-system
   * lock; shared by every instance, whatever its directory. A process then holds at most one store
   * file lock at a time and waits for one only while it holds none. With a lock per file, two
   * threads of one process could each hold one connection's lock while waiting for a lock another
   * process holds, and the kernel, which detects lock deadlocks between processes and not between
   * threads, would fail the lock with "Resource deadlock avoided" (EDEADLK). It also keeps two
   * stores opened on the same directory from both locking one file, which the JVM would refuse with
   * an {@code OverlappingFileLockException}.
   */
  private static final ReentrantLock OS_LOCK = new ReentrantLock();

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

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return new StoredConnection(readTokens(id), null, null);
  }

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return compareAndSet(id, expectedVersion, tokens);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    TokenSet current = readTokens(id);
    return compareAndSet(id, current == null ? 0 : current.version(), tokens);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    throw new UnsupportedOperationException("TODO");
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    delete(id);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    throw new UnsupportedOperationException("TODO");
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    throw new UnsupportedOperationException("TODO");
  }

  @Override
  public void markRenewing(Lease lease) {
    throw new UnsupportedOperationException("TODO");
  }

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    throw new UnsupportedOperationException("TODO");
  }

  private TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    return locked(
        id,
        "save tokens",
        lock -> {
          // Read under the lock: a corrupt record fails the save here instead of being replaced.
          TokenSet current = readTokens(id);
          long actual = current == null ? 0 : current.version();
          if (actual != expectedVersion) {
            throw new VersionConflictException(id, expectedVersion, actual);
          }
          TokenSet saved = tokens.withVersion(actual + 1);
          writeAtomically(id, codec.encode(id, saved));
          return saved;
        });
  }

  private void delete(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    locked(
        id,
        "delete tokens",
        lock -> {
          if (Files.deleteIfExists(dataFile(id))) {
            syncDirectory();
          }
          return null;
        });
  }

  @Override
  public List<ConnectionId> connections() {
    List<ConnectionId> ids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*" + DATA_SUFFIX)) {
      for (Path p : entries) {
        ConnectionId id = connectionOf(p);
        if (id != null) {
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

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
    return locked(
        id,
        "take the renewal lease",
        lock -> {
          LeaseState held = LeaseState.read(lock);
          long now = clock.millis();
          if (held.owner != null && !held.owner.equals(owner) && now < held.expiresAtMillis) {
            return null;
          }
          long expires = now + ttl.toMillis();
          LeaseState granted = new LeaseState(held.fence + 1, owner, expires);
          granted.write(lock);
          return new Lease(id, owner, granted.fence, Instant.ofEpochMilli(expires));
        });
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    locked(
        id,
        "release the renewal lease",
        lock -> {
          LeaseState held = LeaseState.read(lock);
          if (held.fence == lease.fencingToken() && lease.owner().equals(held.owner)) {
            // Keep the fencing value: the next grant must get a larger one.
            new LeaseState(held.fence, null, 0).write(lock);
          }
          return null;
        });
  }

  @Override
  public String toString() {
    return "FileTokenStore{" + directory + (codec.encrypts() ? ", encrypted" : ", clear") + '}';
  }

  // ---------------------------------------------------------------- records

  private @Nullable TokenSet readTokens(ConnectionId id) {
    Path file = dataFile(id);
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
    try {
      return codec.decode(id, bytes);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (file " + file + ")", e.getCause());
    }
  }

  private void writeAtomically(ConnectionId id, byte[] bytes) throws IOException {
    Path target = dataFile(id);
    Path temp = directory.resolve(baseName(id) + TEMP_SUFFIX);
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

  private interface LockedAction<T> {
    T run(FileChannel lock) throws IOException;
  }

  private <T> T locked(ConnectionId id, String action, LockedAction<T> body) {
    if (OS_LOCK.isHeldByCurrentThread()) {
      // Holding one file lock while waiting for another is what the single lock rules out.
      throw new IllegalStateException("file store operations do not nest");
    }
    Path lockFile = directory.resolve(baseName(id) + LOCK_SUFFIX);
    OS_LOCK.lock();
    try (FileChannel channel =
        FileChannel.open(
            lockFile,
            Set.of(
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS),
            fileAttributes())) {
      channel.lock(); // released when the channel closes
      return body.run(channel);
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
   * The lease kept in a connection's lock file: one line {@code tokenbroker-lease 1 <fence>
   * <expires-millis> <owner, base64url or ->}. Written in place with one write while the file lock
   * is held; a line torn by a crash of the whole machine reads as "no lease" (every holder died
   * with the machine).
   */
  private static final class LeaseState {
    final long fence;
    final @Nullable String owner;
    final long expiresAtMillis;

    LeaseState(long fence, @Nullable String owner, long expiresAtMillis) {
      this.fence = fence;
      this.owner = owner;
      this.expiresAtMillis = expiresAtMillis;
    }

    static LeaseState read(FileChannel ch) throws IOException {
      long size = ch.size();
      if (size == 0) {
        return new LeaseState(0, null, 0);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, 4096));
      while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
        // keep reading
      }
      String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
      int newline = text.indexOf('\n');
      String[] parts = (newline < 0 ? text : text.substring(0, newline)).split(" ");
      try {
        if (parts.length == 5 && parts[0].equals(LEASE_MAGIC) && parts[1].equals("1")) {
          String owner =
              parts[4].equals("-")
                  ? null
                  : new String(Base64.getUrlDecoder().decode(parts[4]), StandardCharsets.UTF_8);
          return new LeaseState(Long.parseLong(parts[2]), owner, Long.parseLong(parts[3]));
        }
      } catch (IllegalArgumentException e) {
        // fall through
      }
      log.warn("lease record unreadable; treating it as free");
      return new LeaseState(0, null, 0);
    }

    void write(FileChannel ch) throws IOException {
      String ownerText =
          owner == null
              ? "-"
              : Base64.getUrlEncoder()
                  .withoutPadding()
                  .encodeToString(owner.getBytes(StandardCharsets.UTF_8));
      byte[] line =
          (LEASE_MAGIC + " 1 " + fence + " " + expiresAtMillis + " " + ownerText + "\n")
              .getBytes(StandardCharsets.US_ASCII);
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

  private Path dataFile(ConnectionId id) {
    return directory.resolve(baseName(id) + DATA_SUFFIX);
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
