package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The store lease between instances: one refresh for one expiry even when two instances were given
 * the same instance id, and no renewal claimed that did not happen.
 */
class LeaseAndRenewalClaimTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    provider.release();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  private TokenBroker broker(TokenBrokerBuilder b) {
    TokenBroker broker = b.build();
    brokers.add(broker);
    return broker;
  }

  private TokenBrokerBuilder builder(String instanceId, TokenStore s) {
    return TokenBroker.builder()
        .instanceId(instanceId)
        .clock(clock)
        .store(s)
        .withoutKeepAlive()
        .connection(id, provider);
  }

  /** Counts lease requests the store turned down because another owner holds the lease. */
  static final class LeaseMisses extends ForwardingTokenStore {
    final AtomicInteger misses = new AtomicInteger();

    LeaseMisses(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl, long minFence) {
      Lease lease = super.tryAcquireLease(id, owner, ttl, minFence);
      if (lease == null) {
        misses.incrementAndGet();
      }
      return lease;
    }
  }

  @Test
  void twoInstancesWithTheSameInstanceId_stillExcludeEachOther_oneRefreshForOneExpiry()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = broker(builder("pod", store));
    LeaseMisses bStore = new LeaseMisses(store);
    CountDownLatch bWaiting = new CountDownLatch(1);
    CountDownLatch bGoOn = new CountDownLatch(1);
    TokenBroker b =
        broker(
            builder("pod", bStore) // the same configured id, e.g. a copied deployment file
                .leasePause(
                    millis -> {
                      bWaiting.countDown();
                      bGoOn.await();
                    }));
    clock.advance(Duration.ofHours(3));

    CountDownLatch entered = provider.hold();
    Future<String> fromA = pool.submit(() -> a.accessToken(id));
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("A refreshes under its lease").isTrue();
    Future<String> fromB = pool.submit(() -> b.accessToken(id));
    assertThat(bWaiting.await(10, TimeUnit.SECONDS)).as("B is turned away by A's lease").isTrue();
    assertThat(bStore.misses.get()).isPositive();

    provider.release();
    assertThat(fromA.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    bGoOn.countDown();
    assertThat(fromB.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(store.load(id).version()).isEqualTo(2);
  }

  @Test
  void refresh_whileAnotherOwnerHoldsTheLeaseAndNeverRenews_throwsAndClaimsNoRenewal() {
    TokenSet seeded = store.put(id, provider.seed());
    TokenBroker broker =
        broker(builder("b", store).lease(Duration.ofSeconds(90), Duration.ofMillis(50)));
    assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    // an instance that took the lease and then hung (its lease has 90 s left by the store's clock)
    Lease held = store.tryAcquireLease(id, "hung-instance", Duration.ofSeconds(90), 0);
    assertThat(held).isNotNull();

    assertThatThrownBy(() -> broker.refresh(id))
        .isInstanceOf(TokenUnavailableException.class)
        .hasMessageContaining("another instance holds the renewal lease");
    assertThat(provider.calls).as("no token request without the lease").hasValue(0);
    assertThat(store.load(id).version()).isEqualTo(seeded.version());
    assertThat(broker.health(id).lastRenewalAt())
        .as("no renewal recorded: still the seeded set's issue time")
        .isEqualTo(seeded.issuedAt());
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
    // the current token is still served as it is
    assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());

    // once the holder lets go, refresh renews for real
    store.releaseLease(held);
    TokenSet renewed = broker.refresh(id);
    assertThat(renewed.version()).isGreaterThan(seeded.version());
    assertThat(renewed.accessToken()).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void expiredToken_whileAnotherOwnerHoldsTheLeaseAndNeverRenews_isUnavailable_notTheOldSet() {
    TokenSet seeded = store.put(id, provider.seed());
    TokenBroker broker =
        broker(builder("b", store).lease(Duration.ofSeconds(90), Duration.ofMillis(50)));
    clock.advance(Duration.ofHours(3));
    store.tryAcquireLease(id, "hung-instance", Duration.ofSeconds(90), 0);

    assertThatThrownBy(() -> broker.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .hasMessageContaining("another instance holds the renewal lease")
        .hasMessageNotContaining(seeded.accessToken());
    assertThat(provider.calls).hasValue(0);
    assertThat(provider.invalidGrants).hasValue(0);
  }
}
