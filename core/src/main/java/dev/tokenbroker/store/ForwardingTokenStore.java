package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenStore} that passes every call to another one: extend it and override the calls to
 * observe or change (metrics, fault injection in tests, a hook that holds a save on a latch).
 */
public abstract class ForwardingTokenStore implements TokenStore {
  private final TokenStore delegate;

  /**
   * @param delegate the store every call is forwarded to
   */
  protected ForwardingTokenStore(TokenStore delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /**
   * The store calls are passed to; every method forwards through it, so it may be overridden.
   *
   * @return the store calls are passed to; every method forwards through it, so it may be
   *     overridden
   */
  protected TokenStore delegate() {
    return delegate;
  }

  @Override
  public StoredConnection read(ConnectionId id) {
    return delegate().read(id);
  }

  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    return delegate().load(id);
  }

  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    return delegate().readAll(ids);
  }

  @Override
  public List<ConnectionId> connections() {
    return delegate().connections();
  }

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return delegate().compareAndSet(id, expectedVersion, tokens, lease);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return delegate().authorize(id, tokens, lease);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    return delegate().restore(id, tokens);
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    delegate().tombstone(id, tombstone, lease);
  }

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    return delegate().tryAcquireLease(id, owner, ttl, minFence);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return delegate().seizeLease(id, owner, ttl, minFence);
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    return delegate().extendLease(lease, ttl);
  }

  @Override
  public void markRenewing(Lease lease) {
    delegate().markRenewing(lease);
  }

  @Override
  public void releaseLease(Lease lease) {
    delegate().releaseLease(lease);
  }

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    return delegate().compareAndSetHealth(id, expectedVersion, next);
  }

  @Override
  public List<ConnectionId> changedSince(Instant since) {
    return delegate().changedSince(since);
  }

  @Override
  public boolean putOnce(String key, byte[] value, Instant expiresAt) {
    return delegate().putOnce(key, value, expiresAt);
  }

  @Override
  public byte @Nullable [] takeOnce(String key) {
    return delegate().takeOnce(key);
  }

  @Override
  public void close() {
    delegate().close();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "{" + delegate + "}";
  }
}
