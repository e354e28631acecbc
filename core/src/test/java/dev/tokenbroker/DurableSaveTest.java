package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A rotated token set the store refuses keeps its renewal lease until it is saved, so no other
 * instance renews from the older stored set and spends a refresh token the platform killed.
 * Instance A saves through a hook that fails on demand; instance B shares the underlying store.
 */
class DurableSaveTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch recovered = new CountDownLatch(1);
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    provider.release();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  /** Fails token-set saves while told to, with the exception {@code kind} names. */
  static class FailingSaves extends ForwardingTokenStore {
    final String kind;
    final AtomicInteger remaining = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicReference<String> savedBy = new AtomicReference<>();

    FailingSaves(TokenStore delegate, String kind) {
      super(delegate);
      this.kind = kind;
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      if (remaining.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        failed.incrementAndGet();
        throw kind.equals("TokenStoreException")
            ? new TokenStoreException(id, "No space left on device", null)
            : new IllegalStateException("connection pool shut down"); // not a TokenStoreException
      }
      TokenSet saved = super.compareAndSet(id, expectedVersion, tokens, lease);
      savedBy.set(Thread.currentThread().getName());
      return saved;
    }
  }

  /** Instance A: saves through {@code saves}, retries the save every few milliseconds. */
  private TokenBroker instanceA(TokenStore saves, Duration backoffInitial, Duration backoffMax) {
    TokenBroker a =
        TokenBroker.builder()
            .instanceId("a")
            .clock(clock)
            .store(saves)
            .withoutKeepAlive()
            .connection(id, provider)
            .backoff(backoffInitial, backoffMax)
            .listener(events::add)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.SAVE_RECOVERED) {
                    recovered.countDown();
                  }
                })
            .build();
    brokers.add(a);
    return a;
  }

  private List<TokenEvent.Type> eventTypes() {
    List<TokenEvent.Type> types = new ArrayList<>();
    events.forEach(e -> types.add(e.type()));
    return types;
  }

  @ParameterizedTest(name = "store throws {0}")
  @ValueSource(strings = {"TokenStoreException", "IllegalStateException"})
  void unsavedSet_keepsItsLease_otherInstanceWaitsWithoutRenewing_thenGetsTheSavedSet(String kind)
      throws Exception {
    store.put(id, provider.seed());
    FailingSaves saves = new FailingSaves(store, kind);
    TokenBroker a = instanceA(saves, Duration.ofMillis(1), Duration.ofMillis(5));
    CountDownLatch bWaiting = new CountDownLatch(1);
    CountDownLatch bGoOn = new CountDownLatch(1);
    TokenBroker b =
        TokenBroker.builder()
            .instanceId("b")
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .connection(id, provider)
            .leasePause(
                millis -> { // B found the lease held by A: hold B there until the test says
                  bWaiting.countDown();
                  bGoOn.await();
                })
            .build();
    brokers.add(b);
    clock.advance(Duration.ofHours(3)); // both instances see an expired token

    saves.remaining.set(Integer.MAX_VALUE);
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // served although not saved
    assertThat(saves.failed.get()).isPositive();
    assertThat(store.load(id).accessToken()).isEqualTo("access-1"); // refresh-1 is dead now
    assertThat(a.health(id).unsaved()).isTrue();
    assertThat(eventTypes()).contains(TokenEvent.Type.SAVE_FAILED);
    assertThat(store.tryAcquireLease(id, "probe", Duration.ofSeconds(90), TokenStore.NO_FENCE))
        .as("A still holds the lease")
        .isNull();

    Future<String> fromB = pool.submit(() -> b.accessToken(id));
    assertThat(bWaiting.await(10, TimeUnit.SECONDS)).as("B waits for A's lease").isTrue();
    assertThat(provider.calls).as("B sent nothing").hasValue(1);

    saves.remaining.set(0); // the store takes writes again: A's next retry saves
    assertThat(recovered.await(10, TimeUnit.SECONDS)).as("SAVE_RECOVERED").isTrue();
    bGoOn.countDown();

    assertThat(fromB.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    TokenSet stored = store.load(id);
    assertThat(stored.accessToken()).isEqualTo("access-2");
    assertThat(stored.refreshToken()).isEqualTo("refresh-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).as("nobody sent the dead refresh token").hasValue(0);
    List<TokenEvent.Type> types = eventTypes();
    assertThat(types.indexOf(TokenEvent.Type.SAVE_FAILED))
        .isNotNegative()
        .isLessThan(types.indexOf(TokenEvent.Type.SAVE_RECOVERED));
    assertThat(a.health(id).unsaved()).isFalse();
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(b.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @ParameterizedTest(name = "store throws {0}")
  @ValueSource(strings = {"TokenStoreException", "IllegalStateException"})
  void unsavedSet_otherInstanceWhoseLeaseWaitRunsOut_reportsUnavailableAndSendsNothing(String kind)
      throws Exception {
    store.put(id, provider.seed());
    FailingSaves saves = new FailingSaves(store, kind);
    TokenBroker a = instanceA(saves, Duration.ofMillis(1), Duration.ofMillis(5));
    TokenBroker b =
        TokenBroker.builder()
            .instanceId("b")
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .connection(id, provider)
            .lease(Duration.ofSeconds(90), Duration.ofMillis(50)) // a short bound on B's wait
            .build();
    brokers.add(b);
    clock.advance(Duration.ofHours(3));

    saves.remaining.set(Integer.MAX_VALUE);
    assertThat(a.accessToken(id)).isEqualTo("access-2");

    assertThatThrownBy(() -> b.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .hasMessageContaining("another instance holds the renewal lease");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(store.load(id).accessToken()).isEqualTo("access-1");

    saves.remaining.set(0);
    assertThat(recovered.await(10, TimeUnit.SECONDS)).as("SAVE_RECOVERED").isTrue();
    assertThat(b.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(b.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @ParameterizedTest(name = "store throws {0}")
  @ValueSource(strings = {"TokenStoreException", "IllegalStateException"})
  void unsavedSet_storeFailsAFixedNumberOfTimes_isSavedByTheRetries(String kind) throws Exception {
    store.put(id, provider.seed());
    FailingSaves saves = new FailingSaves(store, kind);
    TokenBroker a = instanceA(saves, Duration.ofMillis(1), Duration.ofMillis(5));
    clock.advance(Duration.ofHours(3));

    saves.remaining.set(4); // the renewal's save and three retries fail
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(recovered.await(10, TimeUnit.SECONDS)).as("SAVE_RECOVERED").isTrue();
    assertThat(saves.failed).hasValue(4);
    assertThat(store.load(id).refreshToken()).isEqualTo("refresh-2");
    assertThat(eventTypes())
        .containsSubsequence(TokenEvent.Type.SAVE_FAILED, TokenEvent.Type.SAVE_RECOVERED);
    assertThat(eventTypes()).containsOnlyOnce(TokenEvent.Type.SAVE_FAILED);
    assertThat(a.health(id).unsaved()).isFalse();
    // the lease went back with the save: another owner can take it at once
    assertThat(store.tryAcquireLease(id, "probe", Duration.ofSeconds(90), TokenStore.NO_FENCE))
        .isNotNull();
  }

  @Test
  void close_savesAPendingSetWithOneLastAttempt_evenWhileARetryIsReplacingItsRecord()
      throws Exception {
    store.put(id, provider.seed());
    CountDownLatch retryFailing = new CountDownLatch(1);
    CountDownLatch letRetryFail = new CountDownLatch(1);
    FailingSaves saves =
        new FailingSaves(store, "TokenStoreException") {
          @Override
          public TokenSet compareAndSet(
              ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
            if (failed.get() == 1) { // the saver's first retry: hold it inside its attempt
              retryFailing.countDown();
              await(letRetryFail);
            }
            return super.compareAndSet(id, expectedVersion, tokens, lease);
          }
        };
    // the first retry runs at once; the next one would come 30 s later (a third of the lease)
    TokenBroker a = instanceA(saves, Duration.ofMinutes(1), Duration.ofMinutes(5));
    clock.advance(Duration.ofHours(3));

    saves.remaining.set(2); // the renewal's save and the first retry fail
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(retryFailing.await(10, TimeUnit.SECONDS)).isTrue();

    Thread closing = new Thread(a::close, "closing");
    closing.start();
    awaitBlocked(closing); // close() waits for the retry that holds the saver
    letRetryFail.countDown(); // the retry fails and replaces the pending record
    closing.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(closing.isAlive()).isFalse();

    assertThat(saves.savedBy.get()).as("saved by close(), not by a retry").isEqualTo("closing");
    assertThat(store.load(id).refreshToken()).isEqualTo("refresh-2");
    assertThat(eventTypes())
        .containsSubsequence(TokenEvent.Type.SAVE_FAILED, TokenEvent.Type.SAVE_RECOVERED);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("test never opened the latch");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits until {@code t} waits to enter a monitor (the saver's, here). */
  private static void awaitBlocked(Thread t) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (t.getState() != Thread.State.BLOCKED) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(t.getName() + " never blocked; state " + t.getState());
      }
      Thread.onSpinWait();
    }
  }
}
