package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.OnceKeys;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 *       StateCodec} format 2) and its version (both deleted by a clear), {@code htop} the health
 *       version the last write or clear made (kept by a clear: the connection's health version is
 *       the higher of {@code hv} and {@code htop}), {@code tomb} the {@link Tombstone} (format 2).
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
 * Besides, for the whole store:
 *
 * <ul>
 *   <li>{@code tokenbroker:changes} — a sorted set, the registry ({@link #changedSince}): each
 *       connection scored by Redis's time of its latest creation, authorization, restore or
 *       tombstone, trimmed to the last 24 hours. Written right after the connection's own script:
 *       in a Cluster it lives in a slot of its own, which that script cannot touch atomically. A
 *       lost entry only delays discovery (a broker learns of a connection it does not know when it
 *       is asked for it).
 *   <li>{@code tokenbroker:once:<sha-256 hex>} — a string with {@code PX}, a one-time record
 *       ({@link #putOnce}): {@code <expires-at millis>:<value>}, the value sealed like token data
 *       when the store encrypts. Named after a hash of the record's key, never the key.
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

  // The parts, each in its own package-private class: the key layout (RedisKeys), the calls to
  // Redis and their failures (RedisCalls, Scripts), reading and decoding records (RedisRecords),
  // the pipelined reads (BulkReads), the versioned writes (TokenWrites), the registry
  // (RegistryChanges), the one-time records (OnceRecords), the health record (HealthWrites), the
  // lease (RedisLeases), the builder's options (RedisOptions).
  private final @Nullable AutoCloseable owned;
  private final RedisKeys layout;
  private final RedisRecords records;
  private final BulkReads bulk;
  private final TokenWrites writes;
  private final RegistryChanges registry;
  private final OnceRecords once;
  private final HealthWrites health;
  private final RedisLeases leases;

  /**
   * How long the registry's sorted set keeps a change: well above the hour the contract asks for,
   * so that a broker that stopped polling for a while still finds what changed meanwhile.
   */
  static final Duration CHANGES_KEPT = Duration.ofHours(RedisTokenStore.CHANGES_KEPT_HOURS);

  /** {@link #CHANGES_KEPT} in hours. */
  static final int CHANGES_KEPT_HOURS = 24;

  private RedisTokenStore(RedisOptions options) {
    this.owned = options.owned;
    this.layout = new RedisKeys(options.prefix);
    RedisCalls calls = new RedisCalls(options.sync.get(), options.async.get(), options.connection);
    TokenCodec codec = TokenCodec.of(options.keys);
    this.records = new RedisRecords(calls, layout, codec);
    this.bulk = new BulkReads(calls, layout, records);
    this.registry = new RegistryChanges(calls, layout);
    this.writes = new TokenWrites(calls, layout, records, registry);
    this.once = new OnceRecords(calls, layout, codec);
    this.health = new HealthWrites(calls, layout);
    this.leases =
        new RedisLeases(calls, layout, options.clock == null ? Clock.systemUTC() : options.clock);
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
    return new Builder(new RedisOptions(connection, connection::sync, connection::async, owned));
  }

  /** For the factory: the store closes {@code owned} (the client it created). */
  static Builder builder(
      StatefulRedisClusterConnection<String, String> connection, @Nullable AutoCloseable owned) {
    Objects.requireNonNull(connection, "connection");
    return new Builder(new RedisOptions(connection, connection::sync, connection::async, owned));
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
    return writes.compareAndSet(id, expectedVersion, tokens, lease);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return writes.authorize(id, tokens, lease);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    return writes.restore(id, tokens);
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    writes.tombstone(id, tombstone, lease);
  }

  // ---------------------------------------------------------------- the registry (see
  // RegistryChanges)

  /**
   * {@inheritDoc}
   *
   * <p>The members of the sorted set {@code <prefix>changes} scored at or after {@code since}: each
   * connection once, scored by Redis's time ({@code TIME}) of its latest creation, authorization,
   * restore or tombstone, and dropped 24 hours later. The set is written right after the
   * connection's own script (see the class description): a change whose entry was lost is not
   * listed, and is found when the connection is used.
   *
   * @throws TokenStoreException if Redis cannot be read
   */
  @Override
  public List<ConnectionId> changedSince(Instant since) {
    return registry.changedSince(since);
  }

  // ---------------------------------------------------------------- one-time records (see
  // OnceRecords)

  /**
   * {@inheritDoc}
   *
   * <p>One string key, {@code <prefix>once:<sha-256 hex of the key>}, written by a script that does
   * what {@code SET key value NX PX ttl} does, with the TTL from Redis's time ({@code TIME}) to
   * {@code expiresAt} (so the instances' clocks play no part); the value is sealed like token data
   * when the store encrypts, after the expiry in milliseconds. An {@code expiresAt} not after
   * Redis's time stores nothing.
   *
   * @throws TokenStoreException if Redis fails
   */
  @Override
  public boolean putOnce(String key, byte[] value, Instant expiresAt) {
    return once.put(key, value, expiresAt);
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code GET} and {@code DEL} in one script (as {@code GETDEL}, on any Redis version): Redis
   * runs one script at a time, so exactly one caller gets the value.
   *
   * @throws TokenStoreException if Redis fails, or the value does not decrypt (it is gone all the
   *     same)
   */
  @Override
  public byte @Nullable [] takeOnce(String key) {
    return once.take(key);
  }

  /** The key of the one-time record of {@code key}, for tests. */
  String onceKey(String key) {
    return layout.onceKey(OnceKeys.digest(key));
  }

  /** The key of the registry's sorted set, for tests. */
  String changesKey() {
    return layout.changesKey();
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

  // ---------------------------------------------------------------- health (see HealthWrites)

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    return health.compareAndSet(id, expectedVersion, next);
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
    private final RedisOptions options;

    private Builder(RedisOptions options) {
      this.options = options;
    }

    /**
     * The prefix of every key: letters, digits and {@code : . _ -}, at most 64 characters. Default
     * {@value #DEFAULT_PREFIX}. Brokers that share tokens use the same prefix.
     *
     * @param prefix the prefix
     * @return this builder
     */
    public Builder keyPrefix(String prefix) {
      options.keyPrefix(prefix);
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
      options.clock(clock);
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
      options.encryption(keys);
      return this;
    }

    /**
     * The store; it uses the connection given to the builder and does not close it.
     *
     * @return a new store
     */
    public RedisTokenStore build() {
      if (options.keys == null) {
        log.warn(
            "token store on Redis prefix {}: no encryption key configured, tokens are stored in"
                + " the clear (set key-env or key-file)",
            options.prefix);
      }
      return new RedisTokenStore(options);
    }
  }
}
