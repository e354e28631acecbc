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
 */
public final class InMemoryTokenStore implements TokenStore {
  private final Clock clock;
  private final Map<ConnectionId, TokenSet> sets = new HashMap<>();
  private final Map<ConnectionId, Lease> leases = new HashMap<>();
  private long fence;

  /** A store whose leases expire by {@code clock}. */
  public InMemoryTokenStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public InMemoryTokenStore() {
    this(Clock.systemUTC());
  }

  @Override
  public synchronized @Nullable TokenSet load(ConnectionId id) {
    return sets.get(id);
  }

  @Override
  public synchronized TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens) {
    TokenSet current = sets.get(id);
    long actual = current == null ? 0 : current.version();
    if (actual != expectedVersion) {
      throw new VersionConflictException(id, expectedVersion, actual);
    }
    TokenSet saved = tokens.withVersion(actual + 1);
    sets.put(id, saved);
    return saved;
  }

  @Override
  public synchronized void delete(ConnectionId id) {
    sets.remove(id);
  }

  @Override
  public synchronized List<ConnectionId> connections() {
    List<ConnectionId> ids = new ArrayList<>(sets.keySet());
    ids.sort(null);
    return ids;
  }

  @Override
  public synchronized @Nullable Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl) {
    Instant now = clock.instant();
    Lease held = leases.get(id);
    if (held != null && !held.owner().equals(owner) && now.isBefore(held.expiresAt())) {
      return null;
    }
    Lease lease = new Lease(id, owner, ++fence, now.plus(ttl));
    leases.put(id, lease);
    return lease;
  }

  @Override
  public synchronized void releaseLease(Lease lease) {
    Lease held = leases.get(lease.connection());
    if (held != null && held.fencingToken() == lease.fencingToken()) {
      leases.remove(lease.connection());
    }
  }

  @Override
  public String toString() {
    return "InMemoryTokenStore";
  }
}
