package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;

class KeepAliveTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);

  @Test
  void idleConnectionsSurviveSixtyDays_withAboutOneRenewalPerKeepAliveWindow() {
    List<FakeProvider> providers = new ArrayList<>();
    List<TokenEvent> events = new CopyOnWriteArrayList<>();
    TokenBrokerBuilder builder =
        TokenBroker.builder().clock(clock).store(store).listener(events::add);
    for (int i = 0; i < 5; i++) {
      FakeProvider p = FakeProvider.refreshing(clock); // 2 h access, 14 d refresh, rotating
      p.policy = p.policy.withKeepAliveBefore(Duration.ofDays(7));
      ConnectionId id = ConnectionId.of("fake", "mall-" + i);
      store.put(id, p.seed());
      builder.connection(id, p);
      providers.add(p);
    }
    try (TokenBroker broker = builder.build()) {
      for (int day = 1; day <= 60; day++) {
        clock.advance(Duration.ofDays(1));
        broker.keepAlive();
        for (ConnectionId id : broker.connections()) {
          TokenSet stored = store.load(id);
          assertThat(stored.refreshExpiresAt())
              .as("%s on day %d", id, day)
              .isAfter(clock.instant());
          assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
        }
      }
      for (FakeProvider p : providers) {
        // renewing only inside the last 7 (jittered: 6.3 to 7) days of 14 means one renewal about
        // every 7 days: 60 days need at least 8 and, with daily passes, never more than 10
        assertThat(p.calls.get()).isBetween(8, 10);
        assertThat(p.invalidGrants).hasValue(0);
      }
      assertThat(events).anyMatch(e -> e.type() == TokenEvent.Type.REFRESH_TOKEN_EXPIRING_SOON);
    }
  }

  @Test
  void connectionOutsideItsWindow_isNotRenewed() {
    FakeProvider p = FakeProvider.refreshing(clock);
    p.policy = p.policy.withKeepAliveBefore(Duration.ofDays(7));
    ConnectionId id = ConnectionId.parse("fake:quiet");
    store.put(id, p.seed());
    try (TokenBroker broker =
        TokenBroker.builder().clock(clock).store(store).connection(id, p).build()) {
      clock.advance(Duration.ofDays(6));
      assertThat(broker.keepAlive()).isEmpty();
      clock.advance(Duration.ofDays(1).plusMillis(1));
      assertThat(broker.keepAlive()).containsExactly(id);
      assertThat(broker.keepAlive()).isEmpty(); // the new refresh token has 14 days again
      assertThat(p.calls).hasValue(1);
    }
  }

  @Test
  void twoInstancesRacingOneDueConnection_renewOnce_theSecondRechecksDuenessUnderTheLease()
      throws Exception {
    FakeProvider p = FakeProvider.refreshing(clock);
    p.policy = p.policy.withKeepAliveBefore(Duration.ofDays(7));
    ConnectionId id = ConnectionId.parse("fake:shared");
    store.put(id, p.seed());
    CountDownLatch bWaiting = new CountDownLatch(1);
    CountDownLatch bGoOn = new CountDownLatch(1);
    ExecutorService pool = Executors.newCachedThreadPool();
    try (TokenBroker a =
            TokenBroker.builder()
                .clock(clock)
                .store(store)
                .withoutKeepAlive()
                .connection(id, p)
                .build();
        TokenBroker b =
            TokenBroker.builder()
                .clock(clock)
                .store(store)
                .withoutKeepAlive()
                .connection(id, p)
                .leasePause(
                    millis -> { // B found A's lease: B read the connection as due before it
                      bWaiting.countDown();
                      bGoOn.await();
                    })
                .build()) {
      clock.advance(Duration.ofDays(8)); // inside the 7-day window: due on both instances
      CountDownLatch entered = p.hold();
      Future<List<ConnectionId>> passA = pool.submit(a::keepAlive);
      assertThat(entered.await(10, TimeUnit.SECONDS)).as("A renews under its lease").isTrue();
      Future<List<ConnectionId>> passB = pool.submit(b::keepAlive);
      assertThat(bWaiting.await(10, TimeUnit.SECONDS)).as("B found it due, waits").isTrue();

      p.release();
      assertThat(passA.get(30, TimeUnit.SECONDS)).containsExactly(id);
      bGoOn.countDown();
      // B takes the lease after A let it go, reads again, finds it no longer due: no renewal
      assertThat(passB.get(30, TimeUnit.SECONDS)).as("B renewed nothing").isEmpty();
      assertThat(p.calls).hasValue(1);
      assertThat(p.invalidGrants).hasValue(0);
      assertThat(store.load(id).version()).isEqualTo(2);
    } finally {
      p.release();
      pool.shutdownNow();
    }
  }
}
