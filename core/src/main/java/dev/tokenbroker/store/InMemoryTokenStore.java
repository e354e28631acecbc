package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
  private final Map<ConnectionId, Entry> entries = new HashMap<>();

  /** Everything kept for one connection. */
  private static final class Entry {
    @Nullable TokenSet tokens;
    @Nullable HealthRecord health;
    @Nullable Tombstone tombstone;

    /** The highest token set version the connection ever had (survives tombstones). */
    long version;

    long fence;
    @Nullable String leaseOwner;
    long leaseExpiresAtMillis;

    /** Epoch millis at which the current holder started a token request, or -1. */
    long renewingSinceMillis = -1;

    StoredConnection snapshot() {
      return new StoredConnection(tokens, health, tombstone);
    }

    boolean leaseHeld() {
      return leaseOwner != null;
    }
  }

  /** A store whose leases expire by {@code clock}. */
  public InMemoryTokenStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public InMemoryTokenStore() {
    this(Clock.systemUTC());
  }

  private Entry entry(ConnectionId id) {
    return entries.computeIfAbsent(Objects.requireNonNull(id, "id"), k -> new Entry());
  }

  @Override
  public synchronized StoredConnection read(ConnectionId id) {
    Entry e = entries.get(id);
    return e == null ? StoredConnection.EMPTY : e.snapshot();
  }

  @Override
  public synchronized List<ConnectionId> connections() {
    List<ConnectionId> ids = new ArrayList<>();
    for (Map.Entry<ConnectionId, Entry> e : entries.entrySet()) {
      if (e.getValue().tokens != null) {
        ids.add(e.getKey());
      }
    }
    ids.sort(null);
    return ids;
  }

  private static void checkFence(Entry e, ConnectionId id, Lease lease) {
    if (!isCurrent(e, lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  private static boolean isCurrent(@Nullable Entry e, Lease lease) {
    return e != null
        && e.leaseHeld()
        && e.fence == lease.fencingToken()
        && lease.owner().equals(e.leaseOwner);
  }

  @Override
  public synchronized TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Entry e = entry(id);
    checkFence(e, id, lease);
    if (e.tombstone != null) {
      throw new TombstonedException(id, e.tombstone);
    }
    long actual = e.tokens == null ? 0 : e.tokens.version();
    if (actual != expectedVersion) {
      throw new VersionConflictException(id, expectedVersion, actual);
    }
    return save(e, tokens);
  }

  private static TokenSet save(Entry e, TokenSet tokens) {
    e.version = Math.max(e.version, e.tokens == null ? 0 : e.tokens.version()) + 1;
    TokenSet saved = tokens.withVersion(e.version);
    e.tokens = saved;
    e.renewingSinceMillis = -1;
    return saved;
  }

  @Override
  public synchronized TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Entry e = entry(id);
    checkFence(e, id, lease);
    if (e.tombstone != null) {
      e.version = Math.max(e.version, e.tombstone.version());
    }
    e.tombstone = null;
    e.health = null;
    return save(e, tokens);
  }

  @Override
  public synchronized StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Entry e = entry(id);
    long stored = e.tokens == null ? 0 : e.tokens.version();
    if (e.tombstone == null && tokens.version() > stored) {
      e.tokens = tokens;
      e.version = Math.max(e.version, tokens.version());
    }
    return e.snapshot();
  }

  @Override
  public synchronized void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Entry e = entry(id);
    checkFence(e, id, lease);
    long version = Math.max(e.version, e.tokens == null ? 0 : e.tokens.version());
    e.version = Math.max(version, tombstone.version());
    e.tombstone = new Tombstone(tombstone.reason(), tombstone.at(), e.version);
    e.tokens = null;
    e.renewingSinceMillis = -1;
  }

  @Override
  public synchronized @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    Entry e = entry(id);
    long now = clock.millis();
    if (e.leaseHeld() && !owner.equals(e.leaseOwner) && now < e.leaseExpiresAtMillis) {
      return null;
    }
    return grant(e, id, owner, ttl, minFence, now);
  }

  @Override
  public synchronized Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return grant(entry(id), id, owner, ttl, minFence, clock.millis());
  }

  private static Lease grant(
      Entry e, ConnectionId id, String owner, Duration ttl, long minFence, long now) {
    Instant cutShort =
        e.leaseHeld() && e.renewingSinceMillis >= 0
            ? Instant.ofEpochMilli(e.renewingSinceMillis)
            : null;
    e.fence = Math.max(e.fence, minFence) + 1;
    e.leaseOwner = owner;
    e.leaseExpiresAtMillis = now + ttl.toMillis();
    e.renewingSinceMillis = -1;
    return new Lease(id, owner, e.fence, Instant.ofEpochMilli(e.leaseExpiresAtMillis), cutShort);
  }

  @Override
  public synchronized @Nullable Lease extendLease(Lease lease, Duration ttl) {
    Entry e = entries.get(lease.connection());
    if (!isCurrent(e, lease)) {
      return null;
    }
    e.leaseExpiresAtMillis = clock.millis() + ttl.toMillis();
    return lease.withExpiry(Instant.ofEpochMilli(e.leaseExpiresAtMillis));
  }

  @Override
  public synchronized void markRenewing(Lease lease) {
    Entry e = entry(lease.connection());
    checkFence(e, lease.connection(), lease);
    e.renewingSinceMillis = clock.millis();
  }

  @Override
  public synchronized void releaseLease(Lease lease) {
    Entry e = entries.get(lease.connection());
    if (isCurrent(e, lease)) {
      e.leaseOwner = null;
      e.renewingSinceMillis = -1;
    }
  }

  @Override
  public synchronized boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Entry e = entry(id);
    long actual = e.health == null ? 0 : e.health.version();
    if (actual != expectedVersion) {
      return false;
    }
    e.health = next == null ? null : next.withVersion(actual + 1);
    return true;
  }

  /**
   * Test support: forgets everything about {@code id} but its fence, as a store restarted empty
   * would (a restarted store that also forgot its fences is covered by the callers' {@code
   * minFence}).
   */
  public synchronized void forget(ConnectionId id) {
    Entry e = entries.get(id);
    if (e != null) {
      e.tokens = null;
      e.health = null;
      e.tombstone = null;
      e.version = 0;
    }
  }

  @Override
  public String toString() {
    return "InMemoryTokenStore";
  }
}
