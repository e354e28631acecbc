package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenStore} in this process's memory: nothing survives a restart. For tests and for
 * client-credentials connections (Naver) that can always obtain a new token. Several brokers in one
 * JVM may share one instance, and then renew each connection only once between them.
 *
 * <p>One record per connection under one monitor: every operation is atomic.
 */
public final class InMemoryTokenStore implements TokenStore {
  private final Clock clock;

  /**
   * The token sets, all most connections ever need: two array slots per connection in an
   * open-addressing table, no entry object.
   */
  private final TokenSetTable sets = new TokenSetTable();

  /** What a few connections have besides: a lease held, a health record, a tombstone. */
  private final Map<ConnectionId, Extra> extras = new HashMap<>();

  /**
   * One fence counter for every connection: a grant is above every earlier one, so fences grow per
   * connection too, and nothing per connection has to be kept once its lease is released.
   */
  private long fence;

  /**
   * Registry changes (created, authorized, restored, tombstoned), oldest first, an hour kept: a
   * ring of (time, id) slots, no entry object.
   */
  private final ChangeLog changes = new ChangeLog(CHANGES_KEPT_MILLIS);

  /** The stamp of the newest change; stamps never go back, even when the clock does. */
  private long lastChangeMillis = Long.MIN_VALUE;

  /** One-time records: authorization state, replay guards. */
  private final Map<String, Once> once = new HashMap<>();

  private static final long CHANGES_KEPT_MILLIS = Duration.ofHours(1).toMillis();

  private static final class Once {
    final byte[] value;
    final long expiresAtMillis;

    Once(byte[] value, long expiresAtMillis) {
      this.value = value;
      this.expiresAtMillis = expiresAtMillis;
    }
  }

  private static final class Extra {
    @Nullable HealthRecord health;

    /** The health version: {@code health}'s when there is one, kept when it is cleared. */
    long healthVersion;

    @Nullable Tombstone tombstone;
    @Nullable String leaseOwner;
    long leaseFence;
    long leaseExpiresAtMillis;

    /** Epoch millis at which the current holder started a token request, or -1. */
    long renewingSinceMillis = -1;

    boolean isEmpty() {
      return health == null && healthVersion == 0 && tombstone == null && leaseOwner == null;
    }
  }

  /**
   * A store whose leases expire by {@code clock}.
   *
   * @param clock the clock every expiry and lease is measured by
   */
  public InMemoryTokenStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A store on the system clock (UTC). */
  public InMemoryTokenStore() {
    this(Clock.systemUTC());
  }

  private Extra extra(ConnectionId id) {
    return extras.computeIfAbsent(Objects.requireNonNull(id, "id"), k -> new Extra());
  }

  private void tidy(ConnectionId id) {
    Extra e = extras.get(id);
    if (e != null && e.isEmpty()) {
      extras.remove(id);
    }
  }

  @Override
  public synchronized StoredConnection read(ConnectionId id) {
    TokenSet tokens = sets.get(id);
    Extra e = extras.get(id);
    if (e == null) {
      return tokens == null ? StoredConnection.EMPTY : new StoredConnection(tokens, null, null);
    }
    return new StoredConnection(tokens, e.health, e.tombstone, e.healthVersion);
  }

  @Override
  public synchronized List<ConnectionId> connections() {
    List<ConnectionId> ids = sets.keys();
    ids.sort(null);
    return ids;
  }

  private boolean isCurrent(ConnectionId id, Lease lease) {
    Extra e = extras.get(id);
    return e != null
        && e.leaseOwner != null
        && e.leaseFence == lease.fencingToken()
        && lease.owner().equals(e.leaseOwner);
  }

  private void checkFence(ConnectionId id, Lease lease) {
    if (!isCurrent(id, lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  private long version(ConnectionId id) {
    TokenSet t = sets.get(id);
    return t == null ? 0 : t.version();
  }

  @Override
  public synchronized TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    checkFence(id, lease);
    Tombstone tombstone = extras.get(id).tombstone;
    if (tombstone != null) {
      throw new TombstonedException(id, tombstone);
    }
    long actual = version(id);
    if (actual != expectedVersion) {
      throw new VersionConflictException(id, expectedVersion, actual);
    }
    if (actual == 0) {
      changed(id);
    }
    return save(id, tokens, actual + 1);
  }

  private TokenSet save(ConnectionId id, TokenSet tokens, long version) {
    TokenSet saved = tokens.withVersion(version);
    sets.put(id, saved);
    Extra e = extras.get(id);
    if (e != null) {
      e.renewingSinceMillis = -1;
    }
    return saved;
  }

  @Override
  public synchronized TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    checkFence(id, lease);
    Extra e = extras.get(id);
    long floor = Math.max(version(id), e.tombstone == null ? 0 : e.tombstone.version());
    e.tombstone = null;
    if (e.health != null) {
      e.health = null;
      e.healthVersion++; // a clear: the version moves on, and stays
    }
    changed(id);
    return save(id, tokens, floor + 1);
  }

  @Override
  public synchronized StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Extra e = extras.get(id);
    if ((e == null || e.tombstone == null) && tokens.version() > version(id)) {
      sets.put(id, tokens);
      changed(id);
    }
    return read(id);
  }

  @Override
  public synchronized void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    checkFence(id, lease);
    Extra e = extras.get(id);
    long version = Math.max(version(id), tombstone.version());
    if (e.tombstone != null) {
      version = Math.max(version, e.tombstone.version());
    }
    e.tombstone = new Tombstone(tombstone.reason(), tombstone.at(), version);
    e.renewingSinceMillis = -1;
    sets.remove(id);
    changed(id);
  }

  private void changed(ConnectionId id) {
    // Never stamped before the last change: after the clock went back, a change would otherwise
    // sit behind a "newer" one, and changedSince, which stops at the first older entry, would miss
    // it (the contract allows more than changed, never less).
    lastChangeMillis = Math.max(lastChangeMillis, clock.millis());
    changes.add(lastChangeMillis, id);
  }

  @Override
  public synchronized List<ConnectionId> changedSince(Instant since) {
    return changes.since(since.toEpochMilli());
  }

  @Override
  public synchronized boolean putOnce(String key, byte[] value, Instant expiresAt) {
    OnceKeys.check(key);
    long now = clock.millis();
    once.values().removeIf(o -> o.expiresAtMillis <= now);
    if (once.containsKey(key)) {
      return false;
    }
    once.put(key, new Once(value.clone(), expiresAt.toEpochMilli()));
    return true;
  }

  @Override
  public synchronized byte @Nullable [] takeOnce(String key) {
    OnceKeys.check(key);
    Once o = once.remove(key);
    return o == null || o.expiresAtMillis <= clock.millis() ? null : o.value.clone();
  }

  @Override
  public synchronized @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    Extra e = extras.get(id);
    long now = clock.millis();
    if (e != null
        && e.leaseOwner != null
        && !owner.equals(e.leaseOwner)
        && now < e.leaseExpiresAtMillis) {
      return null;
    }
    return grant(id, owner, ttl, minFence, now);
  }

  @Override
  public synchronized Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return grant(id, owner, ttl, minFence, clock.millis());
  }

  private Lease grant(ConnectionId id, String owner, Duration ttl, long minFence, long now) {
    Extra e = extra(id);
    Instant cutShort =
        e.leaseOwner != null && e.renewingSinceMillis >= 0
            ? Instant.ofEpochMilli(e.renewingSinceMillis)
            : null;
    fence = Math.max(fence, minFence) + 1;
    e.leaseFence = fence;
    e.leaseOwner = owner;
    e.leaseExpiresAtMillis = now + ttl.toMillis();
    // The marker stays until the new holder marks, saves or releases: a grant whose reply was lost
    // must not erase the only report of a renewal cut short.
    return new Lease(id, owner, fence, Instant.ofEpochMilli(e.leaseExpiresAtMillis), cutShort);
  }

  @Override
  public synchronized @Nullable Lease extendLease(Lease lease, Duration ttl) {
    if (!isCurrent(lease.connection(), lease)) {
      return null;
    }
    Extra e = extras.get(lease.connection());
    e.leaseExpiresAtMillis = clock.millis() + ttl.toMillis();
    return lease.withExpiry(Instant.ofEpochMilli(e.leaseExpiresAtMillis));
  }

  @Override
  public synchronized void markRenewing(Lease lease) {
    checkFence(lease.connection(), lease);
    extras.get(lease.connection()).renewingSinceMillis = clock.millis();
  }

  @Override
  public synchronized void releaseLease(Lease lease) {
    if (isCurrent(lease.connection(), lease)) {
      Extra e = extras.get(lease.connection());
      e.leaseOwner = null;
      e.renewingSinceMillis = -1;
      tidy(lease.connection());
    }
  }

  @Override
  public synchronized boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Extra e = extras.get(id);
    long actual = e == null ? 0 : e.healthVersion;
    if (actual != expectedVersion) {
      return false;
    }
    e = extra(id);
    e.healthVersion = actual + 1; // a clear moves it too, and it stays
    e.health = next == null ? null : next.withVersion(e.healthVersion);
    return true;
  }

  /**
   * Test support: forgets everything about {@code id}, as a store restarted empty would (fences
   * keep growing: a restarted store that also forgot its fences is covered by the callers' {@code
   * minFence}; so does the health version, which has no such floor: the health record goes, its
   * version stays, so that a writer's view from before the loss never matches a record written
   * after it).
   *
   * @param id the connection
   */
  public synchronized void forget(ConnectionId id) {
    sets.remove(id);
    Extra e = extras.remove(id);
    if (e != null && e.healthVersion > 0) {
      extra(id).healthVersion = e.healthVersion;
    }
  }

  @Override
  public String toString() {
    return "InMemoryTokenStore";
  }
}
