package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.redis.Scripts.Script;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TokenStore} on Redis (standalone, Sentinel or Cluster) through Lettuce, shared by every
 * broker instance that uses the same key prefix.
 *
 * <h2>Keys</h2>
 *
 * For connection {@code cafe24:mall} and the default prefix {@code tokenbroker:}:
 *
 * <ul>
 *   <li>{@code tokenbroker:{cafe24:mall}:tokens} — a hash: {@code v} the version, {@code d} the
 *       {@link TokenCodec} record (format 1, encrypted with AES-256-GCM when keys are given).
 *       Exactly what the previous release reads and writes.
 *   <li>{@code tokenbroker:{cafe24:mall}:state} — a hash: {@code top} the highest version the
 *       connection ever had, {@code health} and {@code hv} the {@link HealthRecord} ({@link
 *       StateCodec} format 2) and its version, {@code tomb} the {@link Tombstone} (format 2).
 *   <li>{@code tokenbroker:{cafe24:mall}:holder} — a hash, the renewal lease: {@code owner}, {@code
 *       fence}, {@code exp} (expiry, epoch millis by Redis's clock) and {@code mark} (when the
 *       holder {@linkplain #markRenewing started a token request}). No TTL: it outlives its expiry
 *       until another owner takes the lease or the holder releases it.
 *   <li>{@code tokenbroker:{cafe24:mall}:fence} — the fencing counter, never deleted.
 *   <li>{@code tokenbroker:{cafe24:mall}:lease} — {@code "<fence> <owner>"} with {@code PX}: the
 *       lease as the previous release knows it, kept so that both releases exclude each other
 *       during a rolling upgrade.
 * </ul>
 *
 * The braces are a Redis Cluster hash tag: the keys of one connection live in one slot, so each Lua
 * script touches one slot only.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Every operation is one Lua script ({@code EVALSHA}, falling back to {@code EVAL} after a
 *       restart flushed the script cache), so each is atomic on the server; {@link #read} is one
 *       consistent read of the token set, health record and tombstone.
 *   <li>Lease expiry is Redis's clock ({@code TIME} inside the scripts), compared with the expiry
 *       stored in the holder record; the returned {@link Lease#expiresAt()} is this store's clock
 *       plus the TTL. The renewal marker is this store's clock.
 *   <li>Fences and versions never go backwards, even after Redis restarted empty or from an old
 *       snapshot: a grant is above the stored counter and the caller's {@code minFence}; a version
 *       is above the highest the connection ever had.
 *   <li>Before overwriting version {@code n > 0}, the store reads and decodes the record: a record
 *       this instance cannot decrypt (a wrong key) fails the save instead of being replaced.
 *   <li>A save is as durable as the server's persistence: run Redis with {@code appendonly yes}
 *       (see the module README). A command that times out may or may not have been applied; it
 *       throws a {@link TokenStoreException} that says so, and the broker reloads before deciding.
 * </ul>
 *
 * <p>Thread-safe; Lettuce multiplexes one connection for all threads. Methods block on Redis, at
 * most for the connection's command timeout. Every failure is a {@link TokenStoreException} naming
 * the connection; messages never contain a token.
 */
public final class RedisTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(RedisTokenStore.class);

  /** The default key prefix. */
  public static final String DEFAULT_PREFIX = "tokenbroker:";

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9:._-]{0,64}");
  private static final String TOKENS = "}:tokens";

  /** Attempts at a command refused during a Cluster resharding or failover. */
  private static final int ATTEMPTS = 5;

  /** Attempts at a versioned write whose version moved between the guess and the script. */
  private static final int VERSION_ATTEMPTS = 5;

  /** Lua numbers are doubles: integers are exact below this. */
  private static final long MAX_FENCE = 1L << 53;

  /** Commands of one batch in flight at once ({@link #readAll}, {@link #connections}). */
  private static final int BATCH = 512;

  private final RedisClusterCommands<String, String> redis;
  private final RedisClusterAsyncCommands<String, String> async;
  private final StatefulConnection<String, String> connection;
  private final @Nullable AutoCloseable owned;
  private final String prefix;
  private final Clock clock;
  private final TokenCodec codec;

  private RedisTokenStore(Builder b) {
    this.connection = b.connection;
    this.redis = b.sync.get();
    this.async = b.async.get();
    this.owned = b.owned;
    this.prefix = b.prefix;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.codec = TokenCodec.of(b.keys);
  }

  /** A builder for a store on a standalone or Sentinel connection, which the caller closes. */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    return builder(connection, null);
  }

  /** A builder for a store on a Redis Cluster connection, which the caller closes. */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    return builder(connection, null);
  }

  /** For the factory: the store closes {@code owned} (the client it created). */
  static Builder builder(
      StatefulRedisConnection<String, String> connection, @Nullable AutoCloseable owned) {
    Objects.requireNonNull(connection, "connection");
    return new Builder(connection, connection::sync, connection::async, owned);
  }

  /** For the factory: the store closes {@code owned} (the client it created). */
  static Builder builder(
      StatefulRedisClusterConnection<String, String> connection, @Nullable AutoCloseable owned) {
    Objects.requireNonNull(connection, "connection");
    return new Builder(connection, connection::sync, connection::async, owned);
  }

  /** The key prefix. */
  public String keyPrefix() {
    return prefix;
  }

  /** True when token data is encrypted. */
  public boolean encrypts() {
    return codec.encrypts();
  }

  // ---------------------------------------------------------------- keys

  private String tag(ConnectionId id) {
    return prefix + "{" + id + "}";
  }

  String tokensKey(ConnectionId id) {
    return tag(id) + ":tokens";
  }

  String stateKey(ConnectionId id) {
    return tag(id) + ":state";
  }

  String holderKey(ConnectionId id) {
    return tag(id) + ":holder";
  }

  String fenceKey(ConnectionId id) {
    return tag(id) + ":fence";
  }

  /** The lease as the previous release keeps it. */
  String leaseKey(ConnectionId id) {
    return tag(id) + ":lease";
  }

  private String[] writeKeys(ConnectionId id) {
    return new String[] {tokensKey(id), stateKey(id), holderKey(id), fenceKey(id)};
  }

  private String[] leaseKeys(ConnectionId id) {
    return new String[] {holderKey(id), fenceKey(id), leaseKey(id)};
  }

  // ---------------------------------------------------------------- reading

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return call(id, "read the connection", () -> decode(id, readRaw(id)));
  }

  private List<Object> readRaw(ConnectionId id) {
    return eval(Scripts.READ, ScriptOutputType.MULTI, new String[] {tokensKey(id), stateKey(id)});
  }

  /** What {@link Scripts#READ} returned: {v, d, health, tomb, top}. */
  private StoredConnection decode(ConnectionId id, List<Object> raw) {
    String health = text(raw, 2);
    String tomb = text(raw, 3);
    HealthRecord h = health == null ? null : StateCodec.decodeHealth(id, utf8(health));
    if (tomb != null) {
      // A tombstone always wins: a set beside it can only come from an instance of the previous
      // release, which knows no tombstones (see the README's rolling upgrade).
      return new StoredConnection(null, h, StateCodec.decodeTombstone(id, utf8(tomb)));
    }
    return new StoredConnection(decodeTokens(id, text(raw, 0), text(raw, 1)), h, null);
  }

  private @Nullable TokenSet decodeTokens(ConnectionId id, @Nullable String v, @Nullable String d) {
    if (v == null && d == null) {
      return null;
    }
    if (v == null || d == null) {
      throw corrupt(id, "has a version or data field but not both");
    }
    long version;
    try {
      version = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw corrupt(id, "has a malformed version");
    }
    TokenSet t;
    try {
      t = codec.decode(id, d);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(
          id, e.getMessage() + " (key " + tokensKey(id) + ")", e.getCause());
    }
    if (t.version() != version) {
      throw corrupt(id, "says version " + t.version() + " but the hash has version " + version);
    }
    return t;
  }

  private TokenStoreException corrupt(ConnectionId id, String problem) {
    return new TokenStoreException(
        id,
        "connection " + id + ": stored record is corrupt: key " + tokensKey(id) + " " + problem,
        null);
  }

  /** Pipelined: one round trip per {@value #BATCH} connections, each read consistent. */
  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    List<ConnectionId> all = new ArrayList<>(new LinkedHashSet<>(ids));
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (int from = 0; from < all.size(); from += BATCH) {
      List<ConnectionId> batch = all.subList(from, Math.min(all.size(), from + BATCH));
      List<RedisFuture<List<Object>>> pending = new ArrayList<>(batch.size());
      for (ConnectionId id : batch) {
        Objects.requireNonNull(id, "id");
        pending.add(
            call(
                id,
                "read the connection",
                () ->
                    async.<List<Object>>evalsha(
                        Scripts.READ.sha1,
                        ScriptOutputType.MULTI,
                        new String[] {tokensKey(id), stateKey(id)})));
      }
      long deadline = System.nanoTime() + connection.getTimeout().toNanos();
      for (int i = 0; i < batch.size(); i++) {
        ConnectionId id = batch.get(i);
        List<Object> raw = await(id, "read the connection", pending.get(i), deadline);
        // null: the script cache was empty or the cluster asked to retry; read it alone.
        out.put(
            id, raw == null ? read(id) : call(id, "read the connection", () -> decode(id, raw)));
      }
    }
    return out;
  }

  /** The future's value, or null when the command should be sent again on its own. */
  private <T> @Nullable T await(
      ConnectionId id, String action, RedisFuture<T> future, long deadlineNanos) {
    try {
      return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw failure(id, action, timedOut(), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure(id, action, "interrupted", null);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RedisNoScriptException || retryable(cause)) {
        return null;
      }
      throw failure(id, action, String.valueOf(cause.getMessage()), cause);
    }
  }

  @Override
  public List<ConnectionId> connections() {
    return call(
        null,
        "list connections",
        () -> {
          TreeSet<ConnectionId> ids = new TreeSet<>(); // SCAN may return a key twice
          ScanArgs args = ScanArgs.Builder.matches(prefix + "{*" + TOKENS).limit(1000);
          ScanIterator<String> keys = ScanIterator.scan(redis, args);
          while (keys.hasNext()) {
            String key = keys.next();
            if (key.length() <= prefix.length() + 1 + TOKENS.length()) {
              continue;
            }
            String text = key.substring(prefix.length() + 1, key.length() - TOKENS.length());
            try {
              ids.add(ConnectionId.parse(text));
            } catch (IllegalArgumentException e) {
              log.warn("Redis key with a malformed connection id skipped: {}", e.getMessage());
            }
          }
          return withoutTombstones(new ArrayList<>(ids));
        });
  }

  /**
   * Drops connections with a tombstone. The store deletes the token set when it writes one, so a
   * set beside a tombstone is rare: an instance of the previous release wrote it.
   */
  private List<ConnectionId> withoutTombstones(List<ConnectionId> ids) {
    List<ConnectionId> out = new ArrayList<>(ids.size());
    for (int from = 0; from < ids.size(); from += BATCH) {
      List<ConnectionId> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
      List<RedisFuture<Boolean>> pending = new ArrayList<>(batch.size());
      for (ConnectionId id : batch) {
        pending.add(async.hexists(stateKey(id), "tomb"));
      }
      long deadline = System.nanoTime() + connection.getTimeout().toNanos();
      for (int i = 0; i < batch.size(); i++) {
        ConnectionId id = batch.get(i);
        Boolean tombstoned = await(id, "list connections", pending.get(i), deadline);
        if (tombstoned == null) {
          tombstoned = redis.hexists(stateKey(id), "tomb");
        }
        if (!Boolean.TRUE.equals(tombstoned)) {
          out.add(id);
        }
      }
    }
    return out;
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
    return call(
        id,
        "save tokens",
        () -> {
          long next = expectedVersion + 1;
          if (expectedVersion > 0) {
            // A record this instance cannot read is never replaced by it. Only this version is
            // replaced (the script checks), and the record checked here is the one it holds.
            List<Object> raw = readRaw(id);
            String v = text(raw, 0);
            if (text(raw, 3) == null && v != null && v.equals(Long.toString(expectedVersion))) {
              decodeTokens(id, v, text(raw, 1));
            }
            next = Math.max(expectedVersion, number(text(raw, 4))) + 1;
          }
          for (int attempt = 0; attempt < VERSION_ATTEMPTS; attempt++) {
            TokenSet saved = tokens.withVersion(next);
            List<Object> r =
                eval(
                    Scripts.COMPARE_AND_SET,
                    ScriptOutputType.MULTI,
                    writeKeys(id),
                    fence(lease),
                    lease.owner(),
                    Long.toString(expectedVersion),
                    Long.toString(next),
                    codec.encodeToString(id, saved));
            switch (outcome(r)) {
              case "saved":
                return saved;
              case "retry":
                next = integer(r, 1);
                continue;
              case "stale":
                throw new StaleLeaseException(id, lease.fencingToken());
              case "tombstoned":
                throw new TombstonedException(
                    id, StateCodec.decodeTombstone(id, utf8(Objects.requireNonNull(text(r, 1)))));
              case "conflict":
                long actual = integer(r, 1);
                if (actual < 0) {
                  throw corrupt(id, "has a malformed version");
                }
                throw new VersionConflictException(id, expectedVersion, actual);
              default:
                throw unexpected(id, r);
            }
          }
          throw versionKeptMoving(id);
        });
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    return call(
        id,
        "save a new authorization",
        () -> {
          long next = 1; // right for a connection never seen; the script says otherwise
          for (int attempt = 0; attempt < VERSION_ATTEMPTS; attempt++) {
            TokenSet saved = tokens.withVersion(next);
            List<Object> r =
                eval(
                    Scripts.AUTHORIZE,
                    ScriptOutputType.MULTI,
                    writeKeys(id),
                    fence(lease),
                    lease.owner(),
                    Long.toString(next),
                    codec.encodeToString(id, saved));
            switch (outcome(r)) {
              case "saved":
                return saved;
              case "retry":
                next = integer(r, 1);
                continue;
              case "stale":
                throw new StaleLeaseException(id, lease.fencingToken());
              default:
                throw unexpected(id, r);
            }
          }
          throw versionKeptMoving(id);
        });
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    String record = codec.encodeToString(id, tokens);
    return call(
        id,
        "restore tokens",
        () ->
            decode(
                id,
                eval(
                    Scripts.RESTORE,
                    ScriptOutputType.MULTI,
                    new String[] {tokensKey(id), stateKey(id)},
                    Long.toString(tokens.version()),
                    record)));
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    Objects.requireNonNull(lease, "lease");
    call(
        id,
        "write the tombstone",
        () -> {
          long version = tombstone.version();
          for (int attempt = 0; attempt < VERSION_ATTEMPTS; attempt++) {
            Tombstone stored = new Tombstone(tombstone.reason(), tombstone.at(), version);
            List<Object> r =
                eval(
                    Scripts.TOMBSTONE,
                    ScriptOutputType.MULTI,
                    writeKeys(id),
                    fence(lease),
                    lease.owner(),
                    Long.toString(version),
                    new String(StateCodec.encodeTombstone(id, stored), StandardCharsets.UTF_8),
                    Long.toString(tombstone.version()));
            switch (outcome(r)) {
              case "saved":
                return null;
              case "retry":
                version = integer(r, 1);
                continue;
              case "stale":
                throw new StaleLeaseException(id, lease.fencingToken());
              default:
                throw unexpected(id, r);
            }
          }
          throw versionKeptMoving(id);
        });
  }

  // ---------------------------------------------------------------- the renewal lease

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    return grant(id, owner, ttl, minFence, false);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return Objects.requireNonNull(grant(id, owner, ttl, minFence, true));
  }

  private @Nullable Lease grant(
      ConnectionId id, String owner, Duration ttl, long minFence, boolean seize) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(ttl, "ttl");
    if (owner.isEmpty()) {
      throw new IllegalArgumentException("lease owner must not be empty");
    }
    long millis = ttlMillis(ttl);
    if (minFence >= MAX_FENCE) {
      throw new IllegalArgumentException("minFence must be below 2^53, got " + minFence);
    }
    return call(
        id,
        seize ? "seize the renewal lease" : "take the renewal lease",
        () -> {
          Instant expires = clock.instant().plusMillis(millis);
          List<Object> r =
              eval(
                  Scripts.ACQUIRE,
                  ScriptOutputType.MULTI,
                  leaseKeys(id),
                  owner,
                  Long.toString(millis),
                  Long.toString(Math.max(minFence, 0)),
                  seize ? "1" : "0");
          long fence = integer(r, 0);
          if (fence == 0) {
            return null;
          }
          long cut = integer(r, 1);
          return new Lease(id, owner, fence, expires, cut < 0 ? null : Instant.ofEpochMilli(cut));
        });
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    long millis = ttlMillis(ttl);
    ConnectionId id = lease.connection();
    return call(
        id,
        "extend the renewal lease",
        () -> {
          Instant expires = clock.instant().plusMillis(millis);
          Long done =
              eval(
                  Scripts.EXTEND,
                  ScriptOutputType.INTEGER,
                  leaseKeys(id),
                  fence(lease),
                  lease.owner(),
                  Long.toString(millis));
          return done != null && done == 1 ? lease.withExpiry(expires) : null;
        });
  }

  @Override
  public void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    call(
        id,
        "mark the renewal",
        () -> {
          Long done =
              eval(
                  Scripts.MARK,
                  ScriptOutputType.INTEGER,
                  new String[] {holderKey(id), fenceKey(id)},
                  fence(lease),
                  lease.owner(),
                  Long.toString(clock.millis()));
          if (done == null || done != 1) {
            throw new StaleLeaseException(id, lease.fencingToken());
          }
          return null;
        });
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    call(
        id,
        "release the renewal lease",
        () ->
            eval(
                Scripts.RELEASE,
                ScriptOutputType.INTEGER,
                leaseKeys(id),
                fence(lease),
                lease.owner()));
  }

  // ---------------------------------------------------------------- health

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    String record =
        next == null
            ? ""
            : new String(
                StateCodec.encodeHealth(id, next.withVersion(expectedVersion + 1)),
                StandardCharsets.UTF_8);
    Long moved =
        call(
            id,
            "save the health record",
            () ->
                eval(
                    Scripts.HEALTH,
                    ScriptOutputType.INTEGER,
                    new String[] {stateKey(id)},
                    Long.toString(expectedVersion),
                    record));
    return moved != null && moved == 1;
  }

  /** Closes the Redis client when this store created it (from configuration). */
  @Override
  public void close() {
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        log.warn("closing the Redis client failed: {}", e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "RedisTokenStore{prefix="
        + prefix
        + (codec.encrypts() ? ", encrypted" : ", clear")
        + '}';
  }

  // ---------------------------------------------------------------- plumbing

  private static long ttlMillis(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.toMillis() <= 0) {
      throw new IllegalArgumentException("lease ttl must be at least 1 ms, got " + ttl);
    }
    return ttl.toMillis();
  }

  private static String fence(Lease lease) {
    return Long.toString(lease.fencingToken());
  }

  private <T> T eval(Script script, ScriptOutputType type, String[] keys, String... args) {
    try {
      return redis.evalsha(script.sha1, type, keys, args);
    } catch (RedisNoScriptException e) {
      // The server's script cache is empty (restart, failover, SCRIPT FLUSH): send the body.
      return redis.eval(script.body, type, keys, args);
    }
  }

  private static String outcome(List<Object> r) {
    return r.isEmpty() ? "" : String.valueOf(r.get(0));
  }

  private static @Nullable String text(List<Object> r, int i) {
    Object o = i < r.size() ? r.get(i) : null;
    return o == null ? null : o.toString();
  }

  private static long integer(List<Object> r, int i) {
    Object o = i < r.size() ? r.get(i) : null;
    if (o instanceof Number n) {
      return n.longValue();
    }
    throw new IllegalStateException("a script returned " + (o == null ? "nothing" : "a string"));
  }

  private static long number(@Nullable String s) {
    if (s == null) {
      return 0;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static TokenStoreException unexpected(ConnectionId id, List<Object> r) {
    return new TokenStoreException(
        id, "connection " + id + ": unexpected answer from a Redis script: " + outcome(r), null);
  }

  private static TokenStoreException versionKeptMoving(ConnectionId id) {
    return new TokenStoreException(
        id,
        "connection "
            + id
            + ": could not save in Redis: the version counter kept moving (concurrent restores?)",
        null);
  }

  private static boolean retryable(@Nullable Throwable e) {
    if (!(e instanceof RedisException)) {
      return false;
    }
    String m = String.valueOf(e.getMessage());
    // During a Cluster resharding or failover the server may briefly refuse: try again.
    return m.startsWith("TRYAGAIN") || m.startsWith("LOADING") || m.startsWith("CLUSTERDOWN");
  }

  private String timedOut() {
    return connection.isOpen()
        ? "timed out after "
            + connection.getTimeout().toMillis()
            + " ms; the command may or may not have been applied"
        : "not connected to Redis (refused or lost; Lettuce keeps reconnecting), gave up after "
            + connection.getTimeout().toMillis()
            + " ms";
  }

  private <T> T call(@Nullable ConnectionId id, String action, Supplier<T> work) {
    RedisException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return work.get();
      } catch (TokenStoreException e) {
        throw e;
      } catch (RedisCommandTimeoutException e) {
        throw failure(id, action, timedOut(), e);
      } catch (RedisException e) {
        if (retryable(e)) {
          last = e;
          continue;
        }
        throw failure(id, action, String.valueOf(e.getMessage()), e);
      } catch (RuntimeException e) {
        // Lettuce may also fail with its own unchecked exceptions: never let one out raw.
        throw failure(id, action, e.getClass().getSimpleName() + ": " + e.getMessage(), e);
      }
    }
    throw failure(id, action, String.valueOf(Objects.requireNonNull(last).getMessage()), last);
  }

  private static TokenStoreException failure(
      @Nullable ConnectionId id, String action, String detail, @Nullable Throwable e) {
    String subject = id == null ? "" : "connection " + id + ": ";
    String safe = Secrets.scrub(detail, List.of(), 300);
    RedisException cause = null;
    if (e != null) {
      // The cause keeps the stack but not the message, which a Lua error could fill with data.
      cause = new RedisException(e.getClass().getSimpleName() + ": " + safe);
      cause.setStackTrace(e.getStackTrace());
    }
    return new TokenStoreException(
        id, subject + "could not " + action + " in Redis: " + safe, cause);
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link RedisTokenStore}. Not thread-safe. Each option may be set once.
   *
   * <pre>{@code
   * RedisClient client = RedisClient.create("redis://redis.internal:6379");
   * StatefulRedisConnection<String, String> connection = client.connect();
   * TokenStore store = RedisTokenStore.builder(connection)
   *     .encryption(EncryptionKeys.parse(System.getenv("TOKENBROKER_KEY")))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final StatefulConnection<String, String> connection;
    private final Supplier<? extends RedisClusterCommands<String, String>> sync;
    private final Supplier<? extends RedisClusterAsyncCommands<String, String>> async;
    private final @Nullable AutoCloseable owned;
    private String prefix = DEFAULT_PREFIX;
    private boolean prefixSet;
    private @Nullable Clock clock;
    private @Nullable EncryptionKeys keys;
    private boolean keysSet;

    private Builder(
        StatefulConnection<String, String> connection,
        Supplier<? extends RedisClusterCommands<String, String>> sync,
        Supplier<? extends RedisClusterAsyncCommands<String, String>> async,
        @Nullable AutoCloseable owned) {
      this.connection = connection;
      this.sync = sync;
      this.async = async;
      this.owned = owned;
    }

    /**
     * The prefix of every key: letters, digits and {@code : . _ -}, at most 64 characters. Default
     * {@value #DEFAULT_PREFIX}. Brokers that share tokens use the same prefix.
     */
    public Builder keyPrefix(String prefix) {
      once(prefixSet, "keyPrefix");
      Objects.requireNonNull(prefix, "prefix");
      if (!PREFIX.matcher(prefix).matches()) {
        throw new IllegalArgumentException(
            "key prefix must be at most 64 letters, digits, ':', '.', '_' or '-'");
      }
      this.prefix = prefix;
      this.prefixSet = true;
      return this;
    }

    /**
     * The clock of {@link Lease#expiresAt()} and of the renewal marker; default {@link
     * Clock#systemUTC()}. Leases expire by Redis's clock.
     */
    public Builder clock(Clock clock) {
      once(this.clock != null, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Encrypts token data with AES-256-GCM under these keys; null (the default) stores it in the
     * clear and says so once in the log.
     */
    public Builder encryption(@Nullable EncryptionKeys keys) {
      once(keysSet, "encryption");
      this.keys = keys;
      this.keysSet = true;
      return this;
    }

    private static void once(boolean alreadySet, String option) {
      if (alreadySet) {
        throw new IllegalStateException(option + " was already set");
      }
    }

    public RedisTokenStore build() {
      if (keys == null) {
        log.warn(
            "token store on Redis prefix {}: no encryption key configured, tokens are stored in"
                + " the clear (set key-env or key-file)",
            prefix);
      }
      return new RedisTokenStore(this);
    }
  }
}
