package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.InMemoryTokenStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Interrupts and {@code close()} against a renewal in flight, on the broker's real threads (the
 * default executor), with the provider held at a latch so that every step happens in the order the
 * test says.
 */
class InterruptTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch refreshed = new CountDownLatch(1);
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final AtomicReference<String> renewalThread = new AtomicReference<>();

  @AfterEach
  void tearDown() {
    provider.release();
    brokers.forEach(TokenBroker::close);
    pool.shutdownNow();
  }

  /** A broker on the default executor; its provider records the thread each refresh runs on. */
  private TokenBroker broker(Duration renewalTimeout) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .renewalTimeout(renewalTimeout)
            .connection(
                id,
                new ForwardingProvider(provider) {
                  @Override
                  public TokenSet refresh(TokenSet current) {
                    renewalThread.set(Thread.currentThread().getName());
                    return super.refresh(current);
                  }
                })
            .listener(events::add)
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

  /** What a caller saw: its token or its exception, and its interrupt flag afterwards. */
  private static final class Outcome {
    volatile String token;
    volatile RuntimeException error;
    volatile boolean interruptedAfter;
  }

  @Test
  void accessToken_callerInterruptedWhileWaiting_endsOnlyItsWait_refreshCompletesAndIsSaved()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(3)); // expired: callers must wait for the renewal
    CountDownLatch entered = provider.hold();

    Outcome interrupted = new Outcome();
    Thread caller =
        new Thread(
            () -> {
              try {
                interrupted.token = broker.accessToken(id);
              } catch (RuntimeException e) {
                interrupted.error = e;
              }
              interrupted.interruptedAfter = Thread.currentThread().isInterrupted();
            },
            "interrupted-caller");
    caller.start();
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the caller's renewal started").isTrue();
    Future<String> other = pool.submit(() -> broker.accessToken(id)); // a second waiter

    caller.interrupt(); // while the refresh it asked for is inside the provider
    caller.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(caller.isAlive()).as("the interrupted caller returned").isFalse();

    // Its wait ended, and only its wait: the exception, the flag restored, health untouched.
    assertThat(interrupted.token).isNull();
    assertThat(interrupted.error)
        .isInstanceOf(TokenUnavailableException.class)
        .hasMessageContaining("interrupted");
    assertThat(((TokenUnavailableException) interrupted.error).health().state())
        .isEqualTo(Health.State.ACTIVE);
    assertThat(interrupted.interruptedAfter).as("interrupt flag restored").isTrue();
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(other.isDone()).as("the other caller still waits for the renewal").isFalse();
    assertThat(renewalThread.get()).startsWith("tokenbroker-renew");

    // The refresh in flight completes and is saved; the other caller gets it.
    provider.release();
    assertThat(other.get(30, TimeUnit.SECONDS)).isEqualTo("access-2");
    assertThat(refreshed.await(30, TimeUnit.SECONDS)).isTrue();
    TokenSet stored = store.load(id);
    assertThat(stored.accessToken()).isEqualTo("access-2");
    assertThat(stored.refreshToken()).isEqualTo("refresh-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(events).noneMatch(e -> e.type() == TokenEvent.Type.REFRESH_FAILED);
    assertThat(events).noneMatch(e -> e.type() == TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    assertThat(broker.accessToken(id)).isEqualTo("access-2");
  }

  @Test
  void accessToken_callerAlreadyInterrupted_failsAtOnce_butTheRenewalItStartedIsSaved()
      throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(3));
    CountDownLatch entered = provider.hold(); // the renewal cannot finish before the caller waits

    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> broker.accessToken(id))
          .isInstanceOf(TokenUnavailableException.class)
          .hasMessageContaining("interrupted");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the renewal it started runs").isTrue();
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
    provider.release();
    assertThat(refreshed.await(30, TimeUnit.SECONDS)).as("renewal finished anyway").isTrue();
    assertThat(store.load(id).accessToken()).isEqualTo("access-2");
    assertThat(broker.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void close_withARenewalInFlight_waitsForItAndItIsSaved() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofSeconds(90));
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // STALE: one background renewal
    CountDownLatch entered = provider.hold();
    assertThat(broker.accessToken(id)).isEqualTo("access-1");
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    AtomicBoolean savedBeforeCloseReturned = new AtomicBoolean();
    Future<?> closing =
        pool.submit(
            () -> {
              broker.close();
              TokenSet stored = store.load(id);
              savedBeforeCloseReturned.set(
                  stored != null && "access-2".equals(stored.accessToken()));
            });
    // close() marks the broker closed before it drains: once it is, it waits for the flight,
    // which cannot end before the provider is released.
    awaitClosed(broker);
    assertThat(closing.isDone()).as("close waits for the renewal in flight").isFalse();
    provider.release();
    closing.get(30, TimeUnit.SECONDS);
    assertThat(savedBeforeCloseReturned).as("the renewal was saved before close returned").isTrue();
    assertThat(provider.calls).hasValue(1);
    assertThat(events).noneMatch(e -> e.type() == TokenEvent.Type.REFRESH_FAILED);
  }

  @Test
  void close_withARenewalStuckInTheProvider_returnsAfterTheRenewalTimeout() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(Duration.ofMillis(200));
    clock.advance(Duration.ofHours(2).minusMinutes(2));
    CountDownLatch entered = provider.hold(); // never released: the provider would wait 30 s
    broker.accessToken(id);
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    long start = System.nanoTime();
    broker.close();
    // bounded by the renewal timeout (200 ms), far below the 30 s the held provider would take
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
  }

  /** Waits until {@code close()} has begun: every entry point then says the broker is closed. */
  private static void awaitClosed(TokenBroker broker) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        broker.keepAlive(); // a no-op pass here (no keep-alive window), or "broker is closed"
      } catch (IllegalStateException closed) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("close() never started");
      }
      Thread.onSpinWait();
    }
  }
}
