package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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

  // The parts, each in its own package-private class: the key layout (RedisKeys), the calls to
  // Redis and their failures (RedisCalls, Scripts), reading and decoding records (RedisRecords),
  // the pipelined reads (BulkReads), the versioned writes (TokenWrites), the lease (RedisLeases).
  private final @Nullable AutoCloseable owned;
  private final RedisKeys layout;
  private final RedisCalls calls;
  private final RedisRecords records;
  private final BulkReads bulk;
  private final TokenWrites writes;
  private final RedisLeases leases;

  private RedisTokenStore(Builder b) {
    this.owned = b.owned;
    this.layout = new RedisKeys(b.prefix);
    this.calls = new RedisCalls(b.sync.get(), b.async.get(), b.connection);
    this.records = new RedisRecords(calls, layout, TokenCodec.of(b.keys));
    this.bulk = new BulkReads(calls, layout, records);
    this.writes = new TokenWrites(calls, layout, records);
    this.leases = new RedisLeases(calls, layout, b.clock == null ? Clock.systemUTC() : b.clock);
  }

  /**
   * A builder for a store on a standalone or Sentinel connection, which the caller closes.
   *
   * @param connection the connection
   * @return a builder for a store on a standalone or Sentinel connection, which the caller closes
   */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    return builder(connection, null);
  }

  /**
   * A builder for a store on a Redis Cluster connection, which the caller closes.
   *
   * @param connection the connection
   * @return a builder for a store on a Redis Cluster connection, which the caller closes
   */
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

  /**
   * The key prefix.
   *
   * @return the key prefix
   */
  public String keyPrefix() {
    return layout.prefix();
  }

  /**
   * True when token data is encrypted.
   *
   * @return true when token data is encrypted
   */
  public boolean encrypts() {
    return records.encrypts();
  }

  // ---------------------------------------------------------------- keys (see RedisKeys)

  String tokensKey(ConnectionId id) {
    return layout.tokensKey(id);
  }

  String stateKey(ConnectionId id) {
    return layout.stateKey(id);
  }

  String holderKey(ConnectionId id) {
    return layout.holderKey(id);
  }

  String fenceKey(ConnectionId id) {
    return layout.fenceKey(id);
  }

  /** The lease as the previous release keeps it. */
  String leaseKey(ConnectionId id) {
    return layout.leaseKey(id);
  }

  // ---------------------------------------------------------------- reading

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return records.read(id);
  }

  /** Pipelined: one round trip per {@value BulkReads#BATCH} connections, each read consistent. */
  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    return bulk.readAll(ids);
  }

  @Override
  public List<ConnectionId> connections() {
    return bulk.connections();
  }

  // ---------------------------------------------------------------- token sets (see TokenWrites)

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

  // ---------------------------------------------------------------- the renewal lease (see
  // RedisLeases)

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    return leases.grant(id, owner, ttl, minFence, false);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return Objects.requireNonNull(leases.grant(id, owner, ttl, minFence, true));
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    return leases.extend(lease, ttl);
  }

  @Override
  public void markRenewing(Lease lease) {
    leases.markRenewing(lease);
  }

  @Override
  public void releaseLease(Lease lease) {
    leases.release(lease);
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
        calls.call(
            id,
            "save the health record",
            () ->
                calls.eval(
                    Scripts.HEALTH,
                    ScriptOutputType.INTEGER,
                    new String[] {layout.stateKey(id)},
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
        + layout.prefix()
        + (records.encrypts() ? ", encrypted" : ", clear")
        + '}';
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
     *
     * @param prefix the prefix
     * @return this builder
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
     *
     * @param clock the clock every expiry and lease is measured by
     * @return this builder
     */
    public Builder clock(Clock clock) {
      once(this.clock != null, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Encrypts token data with AES-256-GCM under these keys; null (the default) stores it in the
     * clear and says so once in the log.
     *
     * @param keys the encryption keys
     * @return this builder
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

    /**
     * The store; it uses the connection given to the builder and does not close it.
     *
     * @return a new store
     */
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

  // TODO(issue 15): being implemented on branch `stores`.
  @Override
  public java.util.List<dev.tokenbroker.ConnectionId> changedSince(java.time.Instant since) {
    throw new UnsupportedOperationException("changedSince: not implemented yet");
  }

  @Override
  public boolean putOnce(String key, byte[] value, java.time.Instant expiresAt) {
    throw new UnsupportedOperationException("putOnce: not implemented yet");
  }

  @Override
  public byte @org.jspecify.annotations.Nullable [] takeOnce(String key) {
    throw new UnsupportedOperationException("takeOnce: not implemented yet");
  }
}
