package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.VersionConflictException;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
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
 *       {@link TokenCodec} record (encrypted with AES-256-GCM when keys are given);
 *   <li>{@code tokenbroker:{cafe24:mall}:lease} — {@code "<fence> <owner>"}, set with {@code PX} so
 *       that it disappears by itself when its holder dies;
 *   <li>{@code tokenbroker:{cafe24:mall}:fence} — the fencing counter ({@code INCR}), never
 *       deleted.
 * </ul>
 *
 * The braces are a Redis Cluster hash tag: the three keys of one connection live in one slot, so
 * each Lua script touches one slot only.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Compare-and-set and the lease are Lua scripts ({@code EVALSHA}, falling back to {@code
 *       EVAL} after a restart flushed the script cache), so each is atomic on the server.
 *   <li>Before overwriting version {@code n > 0}, the store reads and decodes the record: a record
 *       this instance cannot decrypt (a wrong key) fails the save instead of being replaced.
 *   <li>Lease expiry is Redis's own clock ({@code PX}); the returned {@link Lease#expiresAt()} is
 *       this store's clock plus the TTL.
 *   <li>A save is as durable as the server's persistence: run Redis with {@code appendonly yes}
 *       (see the module README). A command that times out may or may not have been applied; it
 *       throws a {@link TokenStoreException} that says so, and the broker reloads before deciding.
 * </ul>
 *
 * <p>Thread-safe; Lettuce multiplexes one connection for all threads. Methods block on Redis.
 * Messages name the connection and never contain a token.
 */
public final class RedisTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(RedisTokenStore.class);

  /** The default key prefix. */
  public static final String DEFAULT_PREFIX = "tokenbroker:";

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9:._-]{0,64}");
  private static final String TOKENS = "}:tokens";
  private static final int ATTEMPTS = 5;

  // Returns -1 after saving, else the version found (0: nothing stored).
  private static final Script CAS =
      new Script(
          "local v = redis.call('HGET', KEYS[1], 'v')\n"
              + "local current = 0\n"
              + "if v then current = tonumber(v) end\n"
              + "if current ~= tonumber(ARGV[1]) then return current end\n"
              + "redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])\n"
              + "return -1\n");

  // Returns the granted fencing value, or 0 when another owner holds the lease.
  private static final Script ACQUIRE =
      new Script(
          "local held = redis.call('GET', KEYS[1])\n"
              + "if held then\n"
              + "  local sep = string.find(held, ' ', 1, true)\n"
              + "  if string.sub(held, sep + 1) ~= ARGV[1] then return 0 end\n"
              + "end\n"
              + "local fence = redis.call('INCR', KEYS[2])\n"
              + "redis.call('SET', KEYS[1], tostring(fence) .. ' ' .. ARGV[1], 'PX', ARGV[2])\n"
              + "return fence\n");

  // Deletes the lease only if it is still the one described by ARGV[1].
  private static final Script RELEASE =
      new Script(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
              + "  return redis.call('DEL', KEYS[1])\n"
              + "end\n"
              + "return 0\n");

  private final RedisClusterCommands<String, String> redis;
  private final @Nullable AutoCloseable owned;
  private final String prefix;
  private final Clock clock;
  private final TokenCodec codec;

  private RedisTokenStore(Builder b) {
    this.redis = b.commands.get();
    this.owned = b.owned;
    this.prefix = b.prefix;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.codec = TokenCodec.of(b.keys);
  }

  /** A builder for a store on a standalone or Sentinel connection, which the caller closes. */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    Objects.requireNonNull(connection, "connection");
    return new Builder(connection::sync, null);
  }

  /** A builder for a store on a Redis Cluster connection, which the caller closes. */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    Objects.requireNonNull(connection, "connection");
    return new Builder(connection::sync, null);
  }

  /** For the factory: the store closes {@code owned} (the client it created). */
  static Builder builder(
      Supplier<RedisClusterCommands<String, String>> commands, AutoCloseable owned) {
    return new Builder(commands, owned);
  }

  /** The key prefix. */
  public String keyPrefix() {
    return prefix;
  }

  /** True when token data is encrypted. */
  public boolean encrypts() {
    return codec.encrypts();
  }

  String tokensKey(ConnectionId id) {
    return prefix + "{" + id + TOKENS;
  }

  String leaseKey(ConnectionId id) {
    return prefix + "{" + id + "}:lease";
  }

  private String fenceKey(ConnectionId id) {
    return prefix + "{" + id + "}:fence";
  }

  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return call(id, "load tokens", () -> read(id));
  }

  private @Nullable TokenSet read(ConnectionId id) {
    List<KeyValue<String, String>> fields = redis.hmget(tokensKey(id), "v", "d");
    String v = fields.get(0).getValueOrElse(null);
    String d = fields.get(1).getValueOrElse(null);
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

  @Override
  public TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    String data = codec.encodeToString(id, saved);
    return call(
        id,
        "save tokens",
        () -> {
          if (expectedVersion > 0) {
            // A record this instance cannot read is never replaced by it. Versions only grow, so
            // if the script below finds the same version, it finds the record checked here.
            TokenSet current = read(id);
            long actual = current == null ? 0 : current.version();
            if (actual != expectedVersion) {
              throw new VersionConflictException(id, expectedVersion, actual);
            }
          }
          Long result =
              eval(
                  CAS,
                  ScriptOutputType.INTEGER,
                  new String[] {tokensKey(id)},
                  Long.toString(expectedVersion),
                  Long.toString(saved.version()),
                  data);
          if (result == null || result != -1) {
            throw new VersionConflictException(id, expectedVersion, result == null ? 0 : result);
          }
          return saved;
        });
  }

  @Override
  public void delete(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    call(id, "delete tokens", () -> redis.del(tokensKey(id)));
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
          return new ArrayList<>(ids);
        });
  }

  @Override
  public @Nullable Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    if (owner.isEmpty()) {
      throw new IllegalArgumentException("lease owner must not be empty");
    }
    if (ttl.toMillis() <= 0) {
      throw new IllegalArgumentException("lease ttl must be at least 1 ms, got " + ttl);
    }
    return call(
        id,
        "take the renewal lease",
        () -> {
          Instant expires = clock.instant().plusMillis(ttl.toMillis());
          Long fence =
              eval(
                  ACQUIRE,
                  ScriptOutputType.INTEGER,
                  new String[] {leaseKey(id), fenceKey(id)},
                  owner,
                  Long.toString(ttl.toMillis()));
          return fence == null || fence == 0 ? null : new Lease(id, owner, fence, expires);
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
                RELEASE,
                ScriptOutputType.INTEGER,
                new String[] {leaseKey(id)},
                lease.fencingToken() + " " + lease.owner()));
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

  private <T> T eval(Script script, ScriptOutputType type, String[] keys, String... args) {
    try {
      return redis.evalsha(script.sha1, type, keys, args);
    } catch (RedisNoScriptException e) {
      // The server's script cache is empty (restart, failover, SCRIPT FLUSH): send the body.
      return redis.eval(script.body, type, keys, args);
    }
  }

  private <T> T call(@Nullable ConnectionId id, String action, Supplier<T> work) {
    RedisException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return work.get();
      } catch (RedisCommandTimeoutException e) {
        throw failure(
            id,
            action,
            "timed out; the command may or may not have been applied (" + e.getMessage() + ")",
            e);
      } catch (RedisException e) {
        String m = String.valueOf(e.getMessage());
        // During a Cluster resharding or failover the server may briefly refuse: try again.
        if (m.startsWith("TRYAGAIN") || m.startsWith("LOADING") || m.startsWith("CLUSTERDOWN")) {
          last = e;
          continue;
        }
        throw failure(id, action, m, e);
      }
    }
    throw failure(id, action, String.valueOf(Objects.requireNonNull(last).getMessage()), last);
  }

  private static TokenStoreException failure(
      @Nullable ConnectionId id, String action, String detail, RedisException e) {
    String subject = id == null ? "" : "connection " + id + ": ";
    String safe = Secrets.scrub(detail, List.of(), 300);
    RedisException cause = new RedisException(safe);
    cause.setStackTrace(e.getStackTrace());
    return new TokenStoreException(
        id, subject + "could not " + action + " in Redis: " + safe, cause);
  }

  private static final class Script {
    final String body;
    final String sha1;

    Script(String body) {
      this.body = body;
      try {
        byte[] d = MessageDigest.getInstance("SHA-1").digest(body.getBytes(StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder(40);
        for (byte x : d) {
          b.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        this.sha1 = b.toString();
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is required by every Java platform", e);
      }
    }
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
    private final Supplier<RedisClusterCommands<String, String>> commands;
    private final @Nullable AutoCloseable owned;
    private String prefix = DEFAULT_PREFIX;
    private boolean prefixSet;
    private @Nullable Clock clock;
    private @Nullable EncryptionKeys keys;
    private boolean keysSet;

    private Builder(
        Supplier<RedisClusterCommands<String, String>> commands, @Nullable AutoCloseable owned) {
      this.commands = commands;
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

    /** The clock for {@link Lease#expiresAt()}; default {@link Clock#systemUTC()}. */
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
