package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The {@link TokenStoreContractTest} for a store whose leases run on its database's clock, not on
 * the {@link java.time.Clock} it is given. Four cases of the contract state lease times in the
 * test's clock ({@code expiresAt == T0 + TTL}, a marker started at the clock's instant); this
 * class, in the contract's package so that it can override them, states the same expectations in
 * the database's time: "now" is {@link #databaseNow()}, and time passing for a lease is {@link
 * #moveLeaseExpiry}. Every other case of the contract runs unchanged, with {@link #expire}
 * overridden by the subclass to move the lease's expiry into the database's past.
 */
public abstract class DatabaseClockContractTest extends TokenStoreContractTest {

  /** The database's time now, as the store reads it. */
  protected abstract Instant databaseNow();

  /** One-time records expire and registry changes are stamped by the database's clock too. */
  @Override
  protected Instant storeNow() {
    return databaseNow();
  }

  /** Moves the stored expiry of {@code lease} by {@code by}, as if it had been granted earlier. */
  protected abstract void moveLeaseExpiry(Lease lease, Duration by);

  private Lease leaseOf(String owner) {
    Lease lease = store.tryAcquireLease(MALL, owner, TTL, TokenStore.NO_FENCE);
    assertThat(lease).as("lease for " + owner).isNotNull();
    return lease;
  }

  @Override
  @Test
  void tryAcquireLease_free_grantsItUntilNowPlusTtl() {
    Instant before = databaseNow();
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    Instant after = databaseNow();

    assertThat(lease).isNotNull();
    assertThat(lease.connection()).isEqualTo(MALL);
    assertThat(lease.owner()).isEqualTo("instance-a");
    assertThat(lease.expiresAt()).isBetween(before.plus(TTL), after.plus(TTL));
  }

  @Override
  @Test
  void tryAcquireLease_bySameOwner_extendsItWithALargerFence() {
    Lease first = leaseOf("instance-a");
    moveLeaseExpiry(first, Duration.ofSeconds(-10)); // granted 10 s ago

    Instant before = databaseNow();
    Lease second = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    Instant after = databaseNow();

    assertThat(second).isNotNull();
    assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(second.expiresAt()).isBetween(before.plus(TTL), after.plus(TTL));
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
  }

  @Override
  @Test
  void extendLease_current_keepsTheFenceAndMovesTheExpiry() {
    Lease a = leaseOf("instance-a");
    moveLeaseExpiry(a, Duration.ofSeconds(-20)); // 20 s of its TTL have passed
    Lease aged = a.withExpiry(a.expiresAt().minusSeconds(20));

    Instant before = databaseNow();
    Lease extended = store.extendLease(a, TTL);
    Instant after = databaseNow();

    assertThat(extended).isNotNull();
    assertThat(extended.fencingToken()).isEqualTo(a.fencingToken());
    assertThat(extended.expiresAt()).isAfter(aged.expiresAt());
    assertThat(extended.expiresAt()).isBetween(before.plus(TTL), after.plus(TTL));
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
    assertThat(store.compareAndSet(MALL, 0, tokens("a"), extended).version()).isEqualTo(1);
  }

  @Override
  @Test
  void markRenewing_holderNeverSavedNorReleased_nextOwnerSeesTheRenewalCutShort() throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = leaseOf("instance-a");
    Instant before = databaseNow();
    store.markRenewing(a);
    Instant after = databaseNow();
    expire(a); // instance-a crashed mid-renewal

    Lease b = leaseOf("instance-b");

    assertThat(b.renewalCutShortAt()).isNotNull().isBetween(before, after);
  }
}
