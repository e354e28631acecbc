package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A revoke and a new authorization win over a renewal in flight: they seize the lease, so the
 * renewal's later writes are rejected. The renewal is held either inside the provider or just
 * before it marks its lease, and the revoke or the authorization runs in between.
 */
class RevokeAndConnectRaceTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final GatedStore gated = new GatedStore(store);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<String> revokedAtPlatform = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    provider.release();
    gated.go.countDown();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  /**
   * The renewing instance's view of the store: can hold the next {@link #markRenewing} at a latch,
   * and records every token-set save refused because the lease was no longer current.
   */
  static final class GatedStore extends ForwardingTokenStore {
    volatile CountDownLatch entered;
    final CountDownLatch go = new CountDownLatch(1);
    final List<String> staleWrites = new CopyOnWriteArrayList<>();
    final CountDownLatch twoFailedSaves = new CountDownLatch(2);
    volatile boolean failSaves;

    GatedStore(TokenStore delegate) {
      super(delegate);
    }

    CountDownLatch holdMarkRenewing() {
      entered = new CountDownLatch(1);
      return entered;
    }

    @Override
    public void markRenewing(Lease lease) {
      CountDownLatch e = entered;
      if (e != null) {
        entered = null;
        e.countDown();
        try {
          if (!go.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("test never let markRenewing go on");
          }
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(ex);
        }
      }
      super.markRenewing(lease);
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      if (failSaves) {
        twoFailedSaves.countDown();
        throw new TokenStoreException(id, "No space left on device", null);
      }
      try {
        return super.compareAndSet(id, expectedVersion, tokens, lease);
      } catch (StaleLeaseException e) {
        staleWrites.add(tokens.accessToken());
        throw e;
      }
    }
  }

  /** The renewing instance, on the default executor (real broker threads). */
  private TokenBroker renewing(TokenProvider p) {
    TokenBroker b =
        TokenBroker.builder()
            .instanceId("renewing")
            .clock(clock)
            .store(gated)
            .withoutKeepAlive()
            .connection(id, p)
            .listener(events::add)
            .build();
    brokers.add(b);
    return b;
  }

  private TokenBroker registered(TokenBrokerBuilder builder) {
    TokenBroker b = builder.build();
    brokers.add(b);
    return b;
  }

  /** Another instance on the same store, whose platform records what it revokes. */
  private TokenBroker other() {
    TokenBroker b =
        TokenBroker.builder()
            .instanceId("other")
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .connection(id, recordingRevokes(provider))
            .build();
    brokers.add(b);
    return b;
  }

  private TokenProvider recordingRevokes(TokenProvider p) {
    return new ForwardingProvider(p) {
      @Override
      public void revoke(TokenSet current, Revocation revocation) {
        revokedAtPlatform.add(current.accessToken());
      }
    };
  }

  /**
   * The platform still refreshes the old chain after the new authorization (no chain-wide kill).
   */
  private static final class OldChainStillRefreshes extends ForwardingProvider {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final FakeProvider fake;

    OldChainStillRefreshes(FakeProvider fake) {
      super(fake);
      this.fake = fake;
    }

    @Override
    public TokenSet refresh(TokenSet current) {
      entered.countDown();
      try {
        if (!release.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("test never released the provider");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      fake.calls.incrementAndGet();
      return TokenSet.builder()
          .accessToken("old-chain-access")
          .refreshToken("old-chain-refresh")
          .expiresAt(fake.clock.instant().plus(Duration.ofHours(2)))
          .refreshExpiresAt(fake.clock.instant().plus(Duration.ofDays(14)))
          .issuedAt(fake.clock.instant())
          .build();
    }
  }

  private static Throwable failureOf(Future<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected the renewal to fail, it succeeded");
  }

  private List<TokenEvent.Type> eventTypes() {
    List<TokenEvent.Type> types = new ArrayList<>();
    events.forEach(e -> types.add(e.type()));
    return types;
  }

  // ------------------------------------------------------------------------------------------
  // Revoke

  @Test
  void revokeElsewhere_whileARenewalIsInsideTheProvider_itsSaveIsRejected_andItsTokenNeverServed()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = renewing(provider);
    TokenBroker b = other();
    assertThat(a.accessToken(id)).isEqualTo("access-1"); // cached by A
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // STALE: valid, one background renewal
    CountDownLatch entered = provider.hold();
    assertThat(a.accessToken(id)).isEqualTo("access-1");
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    Flight renewal = a.connection(id).inflight();
    assertThat(renewal).isNotNull();

    b.revoke(id); // seizes the lease while A's refresh is inside the provider
    assertThat(revokedAtPlatform).containsExactly("access-1");
    assertThat(store.read(id).tombstone()).isNotNull();

    provider.release();
    assertThat(failureOf(renewal.future)).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(gated.staleWrites).as("A's save was rejected").containsExactly("access-2");
    assertThat(store.read(id).tokens()).isNull();
    assertThat(store.read(id).tombstone()).isNotNull();
    // A's old token is still inside its validity, but it is never served again
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(a.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(a.health(id).reasonCode()).isEqualTo("revoked");
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void revokeElsewhere_whileARenewalIsAboutToMarkItsLease_isReportedAsRevokedNotAsAStoreFailure()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = renewing(provider);
    TokenBroker b = other();
    assertThat(a.accessToken(id)).isEqualTo("access-1"); // cached by A
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // STALE: one background renewal
    CountDownLatch marking = gated.holdMarkRenewing();
    assertThat(a.accessToken(id)).isEqualTo("access-1");
    assertThat(marking.await(10, TimeUnit.SECONDS)).isTrue(); // A holds the lease, read v1
    Flight renewal = a.connection(id).inflight();

    b.revoke(id);
    gated.go.countDown(); // A's markRenewing now meets a seized lease

    assertThat(failureOf(renewal.future)).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.calls).as("no token request after the revoke").hasValue(0);
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(a.health(id).reasonCode()).isEqualTo("revoked");
    assertThat(eventTypes()).doesNotContain(TokenEvent.Type.REFRESH_FAILED);
    assertThat(store.read(id).health()).as("no store-unavailable record").isNull();
  }

  @Test
  void revokeElsewhere_whileAnUnsavedSetIsAboutToBeRenewedFrom_sendsNothingAndNeverServesIt()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a =
        registered(
            TokenBroker.builder()
                .instanceId("renewing")
                .clock(clock)
                .store(gated)
                .withoutKeepAlive()
                .connection(id, provider)
                .backoff(Duration.ofMinutes(1), Duration.ofMinutes(5))); // saver retries 30 s apart
    TokenBroker b = other();
    clock.advance(Duration.ofHours(3));
    gated.failSaves = true;
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // unsaved; the saver holds A's lease
    // the renewal's save and the saver's immediate retry failed; its next retry is 30 s away
    assertThat(gated.twoFailedSaves.await(10, TimeUnit.SECONDS)).isTrue();

    CountDownLatch marking = gated.holdMarkRenewing();
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // the unsaved set is STALE now
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(marking.await(10, TimeUnit.SECONDS)).as("renewing from the unsaved set").isTrue();
    Flight renewal = a.connection(id).inflight();

    b.revoke(id); // seizes the lease the saver holds
    gated.go.countDown();

    assertThat(failureOf(renewal.future)).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.calls).as("nothing sent from the superseded set").hasValue(1);
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(a.health(id).unsaved()).isFalse();
    assertThat(store.read(id).tokens()).isNull();
    assertThat(store.read(id).tombstone()).isNotNull();
  }

  @Test
  void revokeHere_duringARenewal_waitsForItAndRevokesTheNewSet() throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = renewing(recordingRevokes(provider));
    clock.advance(Duration.ofHours(3)); // expired
    CountDownLatch entered = provider.hold();
    Future<String> caller = pool.submit(() -> a.accessToken(id));
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    Future<?> revoking = pool.submit(() -> a.revoke(id));
    assertThat(revokedAtPlatform).isEmpty();
    provider.release();
    assertThat(caller.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    revoking.get(30, TimeUnit.SECONDS);

    // the saved new set is the one revoked: no live token is left behind at the platform
    assertThat(revokedAtPlatform).containsExactly("access-2");
    assertThat(store.read(id).tokens()).isNull();
    assertThat(store.read(id).tombstone()).isNotNull();
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
  }

  // ------------------------------------------------------------------------------------------
  // A new authorization

  @ParameterizedTest(name = "platform still refreshes the old chain: {0}")
  @ValueSource(booleans = {false, true})
  void completeAuthorization_whileARenewalIsInsideTheProvider_exchangesAtOnceAndTheNewChainWins(
      boolean oldChainStillRefreshes) throws Exception {
    store.put(id, provider.seed()); // access-1 / refresh-1
    OldChainStillRefreshes lenient = new OldChainStillRefreshes(provider);
    TokenBroker a = renewing(oldChainStillRefreshes ? lenient : provider);
    clock.advance(Duration.ofHours(3)); // expired: the caller waits for the renewal
    CountDownLatch entered = oldChainStillRefreshes ? lenient.entered : provider.hold();
    Future<String> caller = pool.submit(() -> a.accessToken(id));
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    AuthorizationRequest request = a.startAuthorization(id);
    String redirect = "https://app.example/callback?code=fresh-code&state=" + request.state();
    TokenSet connected =
        pool.submit(() -> a.completeAuthorization(id, redirect)).get(10, TimeUnit.SECONDS);

    // exchanged at once, while the renewal is still inside the provider
    assertThat(provider.exchanges).hasValue(1);
    assertThat(caller.isDone()).isFalse();
    assertThat(connected.accessToken()).isEqualTo("access-2");
    assertThat(store.load(id).accessToken()).isEqualTo("access-2");
    Health right = a.health(id);
    assertThat(right.state()).isEqualTo(Health.State.ACTIVE);
    assertThat(right.unsaved()).isFalse();

    if (oldChainStillRefreshes) {
      lenient.release.countDown();
    } else {
      provider.release(); // refresh-1 is dead: the platform answers invalid_grant
    }
    assertThat(caller.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    if (oldChainStillRefreshes) {
      assertThat(gated.staleWrites).as("the renewal's write").containsExactly("old-chain-access");
    } else {
      assertThat(provider.invalidGrants).hasValue(1);
    }
    TokenSet stored = store.load(id);
    assertThat(stored.accessToken()).isEqualTo("access-2");
    assertThat(stored.version()).isEqualTo(connected.version());
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(store.read(id).health()).isNull();
    assertThat(eventTypes())
        .contains(TokenEvent.Type.AUTHORIZED)
        .doesNotContain(
            TokenEvent.Type.REFRESH_FAILED,
            TokenEvent.Type.REAUTHORIZATION_REQUIRED,
            TokenEvent.Type.SAVE_FAILED);
  }

  @Test
  void completeAuthorization_whileARenewalIsAboutToMarkItsLease_theRenewalServesTheNewChain()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = renewing(provider);
    clock.advance(Duration.ofHours(3));
    CountDownLatch marking = gated.holdMarkRenewing();
    Future<String> caller = pool.submit(() -> a.accessToken(id));
    assertThat(marking.await(10, TimeUnit.SECONDS)).isTrue(); // A holds the lease, read v1

    AuthorizationRequest request = a.startAuthorization(id);
    TokenSet connected =
        pool.submit(
                () ->
                    a.completeAuthorization(
                        id, "https://app.example/cb?code=c&state=" + request.state()))
            .get(10, TimeUnit.SECONDS);
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);

    gated.go.countDown(); // A's markRenewing now meets the lease the authorization seized
    assertThat(caller.get(30, TimeUnit.SECONDS)).isEqualTo(connected.accessToken());
    assertThat(provider.calls).as("the old chain was not refreshed").hasValue(0);
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(store.read(id).health()).isNull();
    assertThat(eventTypes()).doesNotContain(TokenEvent.Type.REFRESH_FAILED);
    assertThat(store.load(id).accessToken()).isEqualTo(connected.accessToken());
  }

  @Test
  void completeAuthorization_afterReauthorizationRequired_duringAnExplicitRefresh_isActiveAtOnce()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker a = renewing(provider);
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(a.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);

    // an operator retries by hand while a person reconnects
    CountDownLatch entered = provider.hold();
    Future<TokenSet> refresh = pool.submit(() -> a.refresh(id));
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    AuthorizationRequest request = a.startAuthorization(id);
    TokenSet connected =
        pool.submit(
                () ->
                    a.completeAuthorization(
                        id, "https://app.example/cb?code=c&state=" + request.state()))
            .get(10, TimeUnit.SECONDS);
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);

    provider.release(); // the old chain's refresh token is rejected now
    assertThat(refresh.get(30, TimeUnit.SECONDS).accessToken()).isEqualTo(connected.accessToken());
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(a.accessToken(id)).isEqualTo(connected.accessToken());
  }
}
