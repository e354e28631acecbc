package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenBrokerTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    provider.release();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  private TokenBroker broker() {
    return broker(store);
  }

  private TokenBroker broker(TokenStore s) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(s)
            .connection(id, provider)
            .listener(events::add)
            .backoff(Duration.ofSeconds(1), Duration.ofMinutes(5))
            .build();
    brokers.add(b);
    return b;
  }

  private TokenSet seedStore() {
    return store.put(id, provider.seed());
  }

  private List<TokenEvent.Type> eventTypes() {
    List<TokenEvent.Type> types = new ArrayList<>();
    events.forEach(e -> types.add(e.type()));
    return types;
  }

  @Test
  void freshToken_isServedFromStoreThenCache_withoutProviderCall() {
    TokenSet seeded = seedStore();
    TokenBroker broker = broker();
    assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    assertThat(provider.calls).hasValue(0);
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @ParameterizedTest
  @ValueSource(ints = {64, 256})
  void callersReleasedAtOnceOnExpiredToken_causeExactlyOneRefresh(int callers) throws Exception {
    seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    clock.advance(Duration.ofHours(3));
    CountDownLatch entered = provider.hold();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      results.add(
          pool.submit(
              () -> {
                start.await();
                return broker.accessToken(id);
              }));
    }
    start.countDown();
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    provider.release();
    Set<String> tokens = ConcurrentHashMap.newKeySet();
    for (Future<String> f : results) {
      tokens.add(f.get(30, TimeUnit.SECONDS));
    }
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(tokens).containsExactly("access-2");
    assertThat(store.load(id).accessToken()).isEqualTo("access-2");
    assertThat(store.load(id).version()).isEqualTo(2);
  }

  @Test
  void failingRenewal_everyWaitingCallerGetsTheSameCause() throws Exception {
    seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    clock.advance(Duration.ofHours(3));
    TokenEndpointException failure = FakeProvider.transientFailure();
    provider.failNext(failure);
    CountDownLatch entered = provider.hold();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Throwable>> results = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      results.add(
          pool.submit(
              () -> {
                start.await();
                try {
                  broker.accessToken(id);
                  return null;
                } catch (TokenUnavailableException e) {
                  return e;
                }
              }));
    }
    start.countDown();
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    provider.release();
    for (Future<Throwable> f : results) {
      Throwable t = f.get(30, TimeUnit.SECONDS);
      assertThat(t).isInstanceOf(TokenUnavailableException.class).hasCause(failure);
      assertThat(((TokenUnavailableException) t).health().state()).isEqualTo(Health.State.DEGRADED);
    }
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void staleToken_isServedWhileExactlyOneBackgroundRenewalRuns() throws Exception {
    TokenSet seeded = seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // inside the 5-minute margin
    CountDownLatch entered = provider.hold();
    CountDownLatch refreshed = new CountDownLatch(1);
    TokenBroker observed =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.REFRESHED) {
                    refreshed.countDown();
                  }
                })
            .build();
    brokers.add(observed);
    assertThat(observed.accessToken(id)).isEqualTo(seeded.accessToken());
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 100; i++) {
      assertThat(observed.accessToken(id)).isEqualTo(seeded.accessToken());
    }
    provider.release();
    assertThat(refreshed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(observed.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void saveFailsOnce_rotatedTokenIsServedFromMemoryAndSavedOnRetry() throws Exception {
    seedStore();
    FlakyStore flaky = new FlakyStore(store);
    CountDownLatch recovered = new CountDownLatch(1);
    TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(flaky)
            .connection(id, provider)
            .listener(events::add)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.SAVE_RECOVERED) {
                    recovered.countDown();
                  }
                })
            .build();
    brokers.add(broker);
    broker.accessToken(id);
    clock.advance(Duration.ofHours(3));
    flaky.failSaves.set(1);
    assertThat(broker.accessToken(id)).isEqualTo("access-2"); // served although not yet saved
    assertThat(recovered.await(10, TimeUnit.SECONDS)).isTrue();
    TokenSet stored = store.load(id);
    assertThat(stored.accessToken()).isEqualTo("access-2");
    assertThat(stored.refreshToken()).isEqualTo("refresh-2");
    assertThat(eventTypes()).contains(TokenEvent.Type.SAVE_FAILED, TokenEvent.Type.SAVE_RECOVERED);
    assertThat(broker.health(id).unsaved()).isFalse();
  }

  @Test
  void saveKeepsFailing_nextRenewalUsesTheUnsavedRotatedRefreshToken() {
    seedStore();
    FlakyStore flaky = new FlakyStore(store);
    TokenBroker broker = broker(flaky);
    broker.accessToken(id);
    clock.advance(Duration.ofHours(3));
    flaky.failSaves.set(Integer.MAX_VALUE);
    assertThat(broker.accessToken(id)).isEqualTo("access-2");
    assertThat(broker.health(id).unsaved()).isTrue();
    clock.advance(Duration.ofHours(3));
    // refresh-1 is dead at the platform; only the in-memory refresh-2 works
    assertThat(broker.accessToken(id)).isEqualTo("access-3");
    assertThat(provider.invalidGrants).hasValue(0);
    flaky.failSaves.set(0);
    broker.refresh(id);
    assertThat(store.load(id).refreshToken()).isEqualTo("refresh-4");
    assertThat(broker.health(id).unsaved()).isFalse();
  }

  @Test
  void transientFailures_degradeWithJitteredBackoff_whileValidTokenIsServed() {
    TokenSet seeded = seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // STALE, still valid
    provider.failNext(FakeProvider.transientFailure());
    TokenBroker sync = syncBroker();
    assertThat(sync.accessToken(id)).isEqualTo(seeded.accessToken());
    Health h = sync.health(id);
    assertThat(h.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(h.errorCode()).isEqualTo("503");
    // equal jitter: between half and all of the 1-second initial delay
    assertThat(Duration.between(clock.instant(), h.nextAttemptAt()))
        .isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
    // during the backoff no call is made
    assertThat(sync.accessToken(id)).isEqualTo(seeded.accessToken());
    assertThat(provider.calls).hasValue(1);
    // recovery resets the health
    clock.advance(Duration.ofSeconds(1));
    sync.refresh(id);
    assertThat(sync.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(sync.health(id).consecutiveFailures()).isZero();
  }

  @ParameterizedTest(name = "jitter takes {0} of the random half")
  @ValueSource(strings = {"all", "none"})
  void transientFailures_backoffDoublesFromInitialUpToTheCap(String jitter) {
    seedStore();
    TokenBroker sync =
        registered(
            TokenBroker.builder()
                .clock(clock)
                .store(store)
                .connection(id, provider)
                .executor(Runnable::run)
                .withoutKeepAlive()
                .backoff(Duration.ofSeconds(1), Duration.ofMinutes(5))
                .backoffJitter(jitter.equals("all") ? half -> half : half -> 0));
    // the full delay after failure n is min(1 s * 2^(n-1), 5 min); without jitter it is half that
    long[] fullMillis = {
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000,
      300_000
    };
    for (int n = 1; n <= fullMillis.length; n++) {
      provider.failNext(FakeProvider.transientFailure());
      assertThatThrownBy(() -> sync.refresh(id)).isInstanceOf(TokenUnavailableException.class);
      Health h = sync.health(id);
      assertThat(h.consecutiveFailures()).isEqualTo(n);
      long full = fullMillis[n - 1];
      long expected = jitter.equals("all") ? full : full - full / 2;
      assertThat(Duration.between(clock.instant(), h.nextAttemptAt()))
          .as("delay after failure %d", n)
          .isEqualTo(Duration.ofMillis(expected));
      clock.advance(Duration.ofMillis(expected)); // exactly at the next attempt
    }
    assertThat(provider.calls).hasValue(fullMillis.length);
  }

  @Test
  void retryAfter_isHonouredByTheBackoff() {
    seedStore();
    TokenBroker sync = syncBroker();
    clock.advance(Duration.ofHours(3));
    provider.failNext(
        FakeProvider.transientFailure().toBuilder()
            .httpStatus(429)
            .retryAfter(Duration.ofSeconds(120))
            .build());
    assertThatThrownBy(() -> sync.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(Duration.between(clock.instant(), sync.health(id).nextAttemptAt()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(120));
    // an expired caller during the backoff fails fast, without a provider call
    clock.advance(Duration.ofSeconds(60));
    assertThatThrownBy(() -> sync.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.calls).hasValue(1);
    clock.advance(Duration.ofSeconds(61));
    assertThat(sync.accessToken(id)).isEqualTo("access-2");
  }

  @Test
  void permanentFailure_requiresReauthorization_andStopsCallingTheProvider() {
    seedStore();
    TokenBroker broker = broker();
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> broker.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .hasMessageContaining("fake:shop")
        .hasMessageContaining("client credentials rejected");
    Health h = broker.health(id);
    assertThat(h.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(h.errorCode()).isEqualTo("invalid_client");
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMinutes(10));
      assertThatThrownBy(() -> broker.accessToken(id))
          .isInstanceOf(ReauthorizationRequiredException.class);
    }
    assertThat(provider.calls).hasValue(1);
    assertThat(eventTypes()).contains(TokenEvent.Type.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void reauthorizationRequired_recoversWhenAnotherProcessStoresANewerSet() {
    TokenSet seeded = seedStore();
    TokenBroker broker = broker();
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> broker.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    // e.g. `tokenbroker connect` in another process writes a new authorization
    TestStores.cas(store, id, seeded.version(), provider.seed());
    clock.advance(Duration.ofSeconds(2));
    assertThat(broker.accessToken(id)).isEqualTo("access-2");
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void neverAuthorizedConnection_saysToRunConnect() {
    TokenBroker broker = broker();
    assertThat(broker.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(broker.health(id).reason()).contains("tokenbroker connect fake:shop");
    assertThatThrownBy(() -> broker.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .hasMessageContaining("tokenbroker connect fake:shop");
    assertThat(provider.calls).hasValue(0);
  }

  @Test
  void refreshWithoutNewRefreshToken_keepsTheStoredOne() {
    TokenSet seeded = seedStore();
    TokenProvider partial =
        new ForwardingProvider(provider) {
          @Override
          public TokenSet refresh(TokenSet current) {
            return provider.refresh(current).toBuilder()
                .refreshToken(null)
                .refreshExpiresAt(null)
                .scopes(List.of())
                .build();
          }
        };
    TokenBroker broker =
        TokenBroker.builder().clock(clock).store(store).connection(id, partial).build();
    brokers.add(broker);
    TokenSet renewed = broker.refresh(id);
    assertThat(renewed.refreshToken()).isEqualTo(seeded.refreshToken());
    assertThat(renewed.refreshExpiresAt()).isEqualTo(seeded.refreshExpiresAt());
    assertThat(store.load(id).refreshToken()).isEqualTo(seeded.refreshToken());
  }

  @Test
  void twoBrokersSharingAStore_renewOnceBetweenThem() throws Exception {
    seedStore();
    TokenBroker a = broker();
    LeaseMisses bStore = new LeaseMisses(store);
    TokenBroker b = broker(bStore);
    a.accessToken(id);
    b.accessToken(id);
    clock.advance(Duration.ofHours(3));
    CountDownLatch entered = provider.hold();
    Future<String> fa = pool.submit(() -> a.accessToken(id));
    assertThat(entered.await(10, TimeUnit.SECONDS))
        .isTrue(); // a holds the lease, inside the provider
    Future<String> fb = pool.submit(() -> b.accessToken(id));
    // b is shown waiting for a's lease before a may finish
    assertThat(bStore.firstMiss.await(10, TimeUnit.SECONDS)).as("b turned away").isTrue();
    assertThat(fb.isDone()).isFalse();
    provider.release();
    assertThat(fa.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(fb.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
  }

  /** Counts lease requests turned down because another instance holds the lease. */
  static final class LeaseMisses extends ForwardingTokenStore {
    final CountDownLatch firstMiss = new CountDownLatch(1);

    LeaseMisses(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl, long minFence) {
      Lease lease = super.tryAcquireLease(id, owner, ttl, minFence);
      if (lease == null) {
        firstMiss.countDown();
      }
      return lease;
    }
  }

  @Test
  void freshHotPath_allocatesNothing() {
    seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long self = Thread.currentThread().getId();
    for (int i = 0; i < 200_000; i++) {
      broker.accessToken(id); // warm up
    }
    long before = threads.getThreadAllocatedBytes(self);
    int sink = 0;
    for (int i = 0; i < 1_000_000; i++) {
      sink += broker.accessToken(id).length();
    }
    long allocated = threads.getThreadAllocatedBytes(self) - before;
    assertThat(sink).isPositive();
    // a single allocation per call would be >= 16 MB here; allow only measurement noise
    assertThat(allocated).isLessThan(64 * 1024);
  }

  @Test
  void unknownConnection_isAConfigurationErrorNamingIt() {
    TokenBroker broker = broker();
    assertThatThrownBy(() -> broker.accessToken(ConnectionId.parse("fake:other")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fake:other");
  }

  @Test
  void revoke_deletesTokensAndRequiresANewAuthorization() {
    seedStore();
    TokenBroker broker = broker();
    broker.accessToken(id);
    AtomicInteger revoked = new AtomicInteger();
    TokenBroker withRevoke =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(
                id,
                new ForwardingProvider(provider) {
                  @Override
                  public void revoke(TokenSet current, Revocation revocation) {
                    revoked.incrementAndGet();
                  }
                })
            .build();
    brokers.add(withRevoke);
    withRevoke.revoke(id);
    assertThat(revoked).hasValue(1);
    assertThat(store.load(id)).isNull();
    assertThat(withRevoke.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThatThrownBy(() -> withRevoke.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    // a new authorization stored by another process (e.g. `tokenbroker connect`) revives it
    store.put(id, provider.seed());
    clock.advance(Duration.ofSeconds(2));
    assertThat(withRevoke.accessToken(id)).isEqualTo("access-2");
  }

  private TokenBroker registered(TokenBrokerBuilder builder) {
    TokenBroker b = builder.build();
    brokers.add(b);
    return b;
  }

  /** A broker whose background renewals run on the calling thread, for deterministic tests. */
  private TokenBroker syncBroker() {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .listener(events::add)
            .executor(Runnable::run)
            .build();
    brokers.add(b);
    return b;
  }

  static final class FlakyStore extends ForwardingTokenStore {
    final AtomicInteger failSaves = new AtomicInteger();

    FlakyStore(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      if (failSaves.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        throw new TokenStoreException(id, "No space left on device", null);
      }
      return super.compareAndSet(id, expectedVersion, tokens, lease);
    }
  }
}
