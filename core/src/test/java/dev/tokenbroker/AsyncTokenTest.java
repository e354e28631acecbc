package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.InMemoryTokenStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenBroker#accessTokenAsync}, {@link TokenBroker#tokenSetAsync} and {@link
 * TokenBroker#tokenSetAfterRejectionAsync}: completed by the single flight, never blocking the
 * caller. The provider is held at a latch and time is a {@link MutableClock}, so the test decides
 * the order of every step; nothing sleeps.
 */
class AsyncTokenTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final CountDownLatch refreshed = new CountDownLatch(1);

  @AfterEach
  void tearDown() {
    provider.release();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  private TokenBroker broker(Duration renewalTimeout) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .renewalTimeout(renewalTimeout)
            .connection(id, provider)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.REFRESHED) {
                    refreshed.countDown();
                  }
                })
            .build();
    brokers.add(b);
    return b;
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("not failed");
  }

  @Test
  void fresh_completedAtOnce_withoutAProviderCall() {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    assertThat(broker.accessToken(id)).isEqualTo("access-1"); // loads the stored set

    CompletableFuture<String> token = broker.accessTokenAsync(id);
    CompletableFuture<TokenSet> set = broker.tokenSetAsync(id);

    assertThat(token).isCompletedWithValue("access-1");
    assertThat(set.join().refreshToken()).isEqualTo("refresh-1");
    assertThat(provider.calls).hasValue(0);
  }

  @Test
  void stale_completedAtOnceWithTheCurrentToken_andStartsOneBackgroundRenewal() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    assertThat(broker.accessToken(id)).isEqualTo("access-1");
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // inside the 5-minute renewal margin
    CountDownLatch entered = provider.hold();

    CompletableFuture<String> first = broker.accessTokenAsync(id);
    CompletableFuture<String> second = broker.accessTokenAsync(id);

    assertThat(first).isCompletedWithValue("access-1");
    assertThat(second).isCompletedWithValue("access-1");
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("a background renewal started").isTrue();
    provider.release();
    assertThat(broker.refresh(id).accessToken()).isNotEqualTo("access-1");
    // the background renewal, then the explicit refresh: the two STALE hits shared one renewal
    assertThat(provider.calls).hasValue(2);
  }

  @Test
  void expired_returnsAnIncompleteFuture_thatTheSingleFlightCompletes_forEveryCaller()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(3)); // expired
    CountDownLatch entered = provider.hold();

    CompletableFuture<String> first = broker.accessTokenAsync(id);
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the renewal started").isTrue();
    // the calling thread got its future while the provider is still held: it did not wait
    assertThat(first).isNotDone();
    CompletableFuture<TokenSet> second = broker.tokenSetAsync(id);
    Future<String> blocking = pool.submit(() -> broker.accessToken(id));
    assertThat(second).isNotDone();

    provider.release();

    assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(second.get(30, TimeUnit.SECONDS).accessToken()).isEqualTo("access-2");
    assertThat(blocking.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(provider.calls).as("one renewal for all three callers").hasValue(1);
    assertThat(store.load(id).accessToken())
        .as("saved before it was handed out")
        .isEqualTo("access-2");
  }

  @Test
  void expired_renewalFailsPermanently_everyAsyncCallerGetsItsOwnReauthorizationException() {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    CountDownLatch entered = provider.hold();

    CompletableFuture<String> first = broker.accessTokenAsync(id);
    CompletableFuture<String> second = broker.accessTokenAsync(id);
    assertThat(first).isNotDone();
    provider.release();

    Throwable a = failureOf(first);
    Throwable b = failureOf(second);
    assertThat(entered.getCount()).isZero();
    assertThat(a).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(b).isInstanceOf(ReauthorizationRequiredException.class).isNotSameAs(a);
    assertThat(((ReauthorizationRequiredException) a).connection()).isEqualTo(id);
    assertThat(provider.calls).hasValue(1);
    assertThat(broker.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void expired_renewalOutlastsTheTimeout_futureFailsAsUnavailable_butTheRenewalIsSaved()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofMillis(1));
    clock.advance(Duration.ofHours(3));
    CountDownLatch entered = provider.hold(); // held until after the timeout fired

    CompletableFuture<String> token = broker.accessTokenAsync(id);
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    Throwable failure;
    try {
      token.get(30, TimeUnit.SECONDS);
      throw new AssertionError("completed while the provider was held");
    } catch (ExecutionException e) {
      failure = e.getCause();
    }
    assertThat(failure)
        .isInstanceOf(TokenUnavailableException.class)
        .hasMessageContaining("did not finish within");

    provider.release();
    // the flight went on: its result is saved, and the next caller gets it (once it is: with a
    // 1 ms timeout a caller that joined the flight still under way would time out too)
    assertThat(refreshed.await(10, TimeUnit.SECONDS)).as("REFRESHED").isTrue();
    assertThat(broker.tokenSetAsync(id).get(30, TimeUnit.SECONDS).accessToken()).isIn("access-2");
    assertThat(store.load(id).accessToken()).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void afterRejection_ofTheCurrentToken_renewsOnce_sharedByConcurrentReports() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    assertThat(broker.accessToken(id)).isEqualTo("access-1");
    CountDownLatch entered = provider.hold();

    CompletableFuture<TokenSet> first = broker.tokenSetAfterRejectionAsync(id, "access-1");
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<TokenSet> second = broker.tokenSetAfterRejectionAsync(id, "access-1");
    assertThat(first).isNotDone();
    provider.release();

    assertThat(first.get(30, TimeUnit.SECONDS).accessToken()).isEqualTo("access-2");
    assertThat(second.get(30, TimeUnit.SECONDS).accessToken()).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    // a late report of the old token: someone renewed already, no second renewal
    assertThat(broker.tokenSetAfterRejection(id, "access-1").accessToken()).isEqualTo("access-2");
    assertThat(broker.tokenSetAfterRejectionAsync(id, "access-1")).isCompleted();
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void unknownConnectionOrClosedBroker_failsTheFuture_neverThrows() {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));

    assertThat(failureOf(broker.accessTokenAsync(ConnectionId.parse("fake:other"))))
        .isInstanceOf(ConfigurationException.class);
    clock.advance(Duration.ofHours(3));
    broker.close();
    assertThat(failureOf(broker.accessTokenAsync(id))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> broker.accessTokenAsync(null))
        .isInstanceOf(NullPointerException.class);
    assertThat(provider.calls).hasValue(0);
  }

  @Test
  void expired_joinsAnExplicitRefreshInFlight_insteadOfStartingASecondRenewal() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(3));
    CountDownLatch entered = provider.hold();
    Future<TokenSet> refresh = pool.submit(() -> broker.refresh(id));
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<String> token = broker.accessTokenAsync(id);
    assertThat(token).isNotDone();
    provider.release();

    assertThat(token.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(refresh.get(30, TimeUnit.SECONDS).accessToken()).isEqualTo("access-2");
    assertThat(provider.calls).as("the async caller joined the refresh").hasValue(1);
  }
}
