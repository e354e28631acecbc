package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.OnceKeys;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenStore} that keeps nothing on the heap, so that a heap measurement of a broker using
 * it counts the broker's own share: saves are accepted and forgotten, leases are granted and not
 * remembered, and {@link #read} answers what {@code onLoad} makes (a new token set standing for one
 * read from a database, or null). One-time records are accepted and forgotten too, and no registry
 * change is ever reported. Only for measuring; it is neither durable nor exclusive.
 */
final class DiscardingTokenStore implements TokenStore {
  private final Supplier<@Nullable TokenSet> onLoad;
  private final AtomicLong fence = new AtomicLong();

  DiscardingTokenStore(Supplier<@Nullable TokenSet> onLoad) {
    this.onLoad = onLoad;
  }

  @Override
  public StoredConnection read(ConnectionId id) {
    TokenSet t = onLoad.get();
    return t == null ? StoredConnection.EMPTY : new StoredConnection(t, null, null);
  }

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return tokens.withVersion(expectedVersion + 1);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return tokens.withVersion(1);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    return new StoredConnection(tokens, null, null);
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {}

  @Override
  public List<ConnectionId> connections() {
    return List.of();
  }

  @Override
  public Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return seizeLease(id, owner, ttl, minFence);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return new Lease(id, owner, fence.incrementAndGet(), Instant.now().plus(ttl));
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    return lease.withExpiry(Instant.now().plus(ttl));
  }

  @Override
  public void markRenewing(Lease lease) {}

  @Override
  public void releaseLease(Lease lease) {}

  /**
   * Accepted and forgotten: reads report no record under health version 0, as after a store lost
   * it.
   */
  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    return true;
  }

  /** Nothing is remembered, so nothing changed. */
  @Override
  public List<ConnectionId> changedSince(Instant since) {
    return List.of();
  }

  /** Accepted and forgotten, like a save: a later {@link #takeOnce} finds nothing. */
  @Override
  public boolean putOnce(String key, byte[] value, Instant expiresAt) {
    OnceKeys.check(key);
    return true;
  }

  @Override
  public byte @Nullable [] takeOnce(String key) {
    OnceKeys.check(key);
    return null;
  }
}
