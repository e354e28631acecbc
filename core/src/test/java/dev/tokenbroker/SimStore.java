package dev.tokenbroker;

import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The one store every simulated instance shares: an {@link InMemoryTokenStore} behind faults the
 * world decides call by call. A read may fail; a write may fail before it takes effect, or take
 * effect and still report failure (the acknowledgement was lost). A call may also be where the
 * calling instance crashes, before or after the call takes effect. Which instance calls is the
 * world's {@linkplain SimWorld#current current} one (the simulation is single-threaded).
 */
final class SimStore extends ForwardingTokenStore {
  private final SimWorld world;

  SimStore(SimWorld world, InMemoryTokenStore inner) {
    super(inner);
    this.world = world;
  }

  private <T> T write(ConnectionId id, String what, Supplier<T> call) {
    SimInstance caller = world.caller();
    boolean crashAfter = world.enterCall(caller, what + " " + id);
    SimWorld.StoreFault fault = world.storeFault(id, true);
    if (fault == SimWorld.StoreFault.FAIL_BEFORE) {
      throw new TokenStoreException(
          id, "simulated store failure (" + what + ", not applied)", null);
    }
    T result = call.get();
    if (crashAfter) {
      throw world.crash(caller, "after store " + what + " " + id);
    }
    if (fault == SimWorld.StoreFault.FAIL_AFTER) {
      throw new TokenStoreException(id, "simulated store failure (" + what + ", applied)", null);
    }
    return result;
  }

  private void writeVoid(ConnectionId id, String what, Runnable call) {
    write(
        id,
        what,
        () -> {
          call.run();
          return null;
        });
  }

  @Override
  public StoredConnection read(ConnectionId id) {
    SimInstance caller = world.caller();
    boolean crashAfter = world.enterCall(caller, "read " + id);
    if (world.storeFault(id, false) != SimWorld.StoreFault.NONE) {
      throw new TokenStoreException(id, "simulated store failure (read)", null);
    }
    StoredConnection s = super.read(id);
    world.readFromStore(id, s);
    if (crashAfter) {
      throw world.crash(caller, "after store read " + id);
    }
    return s;
  }

  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    return read(id).tokens();
  }

  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (ConnectionId id : ids) {
      out.put(id, read(id));
    }
    return out;
  }

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return write(
        id, "compareAndSet", () -> super.compareAndSet(id, expectedVersion, tokens, lease));
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return write(
        id,
        "authorize",
        () -> {
          TokenSet saved = super.authorize(id, tokens, lease);
          world.authorized(tokens, true);
          return saved;
        });
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    return write(id, "restore", () -> super.restore(id, tokens));
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    writeVoid(
        id,
        "tombstone",
        () -> {
          super.tombstone(id, tombstone, lease);
          world.tombstoned(id);
        });
  }

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    Lease lease =
        write(id, "tryAcquireLease", () -> super.tryAcquireLease(id, owner, ttl, minFence));
    if (lease != null && lease.renewalCutShortAt() != null) {
      world.cutShortReported(id);
    }
    return lease;
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return write(id, "seizeLease", () -> granted(id, super.seizeLease(id, owner, ttl, minFence)));
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    return write(lease.connection(), "extendLease", () -> super.extendLease(lease, ttl));
  }

  /** Notes a grant over a holder that started a token request and neither saved nor released. */
  private @Nullable Lease granted(ConnectionId id, @Nullable Lease lease) {
    if (lease != null && lease.renewalCutShortAt() != null) {
      world.cutShortReported(id);
    }
    return lease;
  }

  @Override
  public void markRenewing(Lease lease) {
    writeVoid(lease.connection(), "markRenewing", () -> super.markRenewing(lease));
  }

  @Override
  public void releaseLease(Lease lease) {
    writeVoid(lease.connection(), "releaseLease", () -> super.releaseLease(lease));
  }

  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    return write(
        id, "compareAndSetHealth", () -> super.compareAndSetHealth(id, expectedVersion, next));
  }
}
