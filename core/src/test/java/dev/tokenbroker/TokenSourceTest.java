package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.InMemoryTokenStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link TokenSource} serves exactly what {@link TokenBroker#accessToken} serves. */
class TokenSourceTest {
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

  private TokenBroker broker(boolean ownCache) {
    return broker(ownCache, e -> {});
  }

  private TokenBroker broker(boolean ownCache, TokenListener listener) {
    TokenBrokerBuilder b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .withoutKeepAlive()
            .connection(id, provider)
            .listener(listener);
    if (ownCache) {
      b.cache(TokenCache.unbounded());
    }
    TokenBroker broker = b.build();
    brokers.add(broker);
    return broker;
  }

  @ParameterizedTest(name = "application''s own cache: {0}")
  @ValueSource(booleans = {false, true})
  void followsTheBrokerThroughFreshStaleExpiredAndRevoked(boolean ownCache) throws Exception {
    TokenSet seeded = store.put(id, provider.seed());
    CountDownLatch refreshed = new CountDownLatch(1);
    TokenBroker broker =
        broker(
            ownCache,
            e -> {
              if (e.type() == TokenEvent.Type.REFRESHED) {
                refreshed.countDown(); // emitted once the new set is saved and cached
              }
            });
    TokenSource source = broker.tokenSource(id);

    assertThat(source.id()).isEqualTo(id);
    assertThat(source.accessToken()).isEqualTo(seeded.accessToken());
    assertThat(source.tokenSet()).isEqualTo(broker.tokenSet(id));
    assertThat(provider.calls).hasValue(0);

    // STALE (inside the 5-minute margin): the current token is served while the one background
    // renewal is blocked inside the provider.
    CountDownLatch entered = provider.hold();
    clock.advance(Duration.ofHours(2).minusMinutes(4));
    assertThat(source.accessToken()).isEqualTo(seeded.accessToken());
    assertThat(entered.await(30, TimeUnit.SECONDS)).as("background renewal started").isTrue();
    Flight background = broker.connection(id).inflight();
    for (int i = 0; i < 100; i++) {
      assertThat(source.accessToken()).isEqualTo(seeded.accessToken());
      assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    }
    assertThat(broker.connection(id).inflight()).as("still the one renewal").isSameAs(background);
    provider.release();
    assertThat(refreshed.await(30, TimeUnit.SECONDS)).as("background renewal done").isTrue();
    background.future.get(30, TimeUnit.SECONDS); // its slot is free again: the clock may move
    String renewedInBackground = source.accessToken();
    assertThat(renewedInBackground).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);

    // EXPIRED (2-hour tokens): the source waits for the renewal like accessToken does.
    clock.advance(Duration.ofHours(2));
    String renewed = source.accessToken();
    assertThat(renewed).isEqualTo("access-3");
    assertThat(provider.calls).hasValue(2);
    assertThat(broker.accessToken(id)).isEqualTo(renewed);

    // A renewal through the broker is seen by the source at once.
    TokenSet forced = broker.refresh(id);
    assertThat(source.accessToken()).isEqualTo(forced.accessToken());

    // Revoked: the source does not keep serving the old token.
    broker.revoke(id);
    assertThatThrownBy(source::accessToken).isInstanceOf(ReauthorizationRequiredException.class);
  }

  @Test
  void staleToken_servedWhileOneRenewalRunsInTheBackground() throws Exception {
    TokenSet seeded = store.put(id, provider.seed());
    CountDownLatch refreshed = new CountDownLatch(1);
    TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.REFRESHED) {
                    refreshed.countDown(); // emitted once the new set is cached
                  }
                })
            .build();
    brokers.add(broker);
    TokenSource source = broker.tokenSource(id);
    assertThat(source.accessToken()).isEqualTo(seeded.accessToken());

    CountDownLatch entered = provider.hold();
    clock.advance(Duration.ofHours(2).minusMinutes(4)); // inside the 5-minute renewal margin
    assertThat(source.accessToken()).isEqualTo(seeded.accessToken());
    assertThat(entered.await(30, TimeUnit.SECONDS)).as("background renewal started").isTrue();
    assertThat(source.accessToken()).isEqualTo(seeded.accessToken());
    provider.release();
    assertThat(refreshed.await(30, TimeUnit.SECONDS)).as("background renewal done").isTrue();
    assertThat(source.accessToken())
        .isNotEqualTo(seeded.accessToken())
        .isEqualTo(broker.accessToken(id));
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void manyCallersOnAnExpiredToken_oneRenewal() throws Exception {
    store.put(id, provider.seed());
    TokenBroker broker = broker(false);
    TokenSource source = broker.tokenSource(id);
    source.accessToken();
    clock.advance(Duration.ofHours(3));

    CountDownLatch go = new CountDownLatch(1);
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      calls.add(
          pool.submit(
              () -> {
                go.await();
                return source.accessToken();
              }));
    }
    go.countDown();
    String first = calls.get(0).get();
    for (Future<String> call : calls) {
      assertThat(call.get()).isEqualTo(first);
    }
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void unknownConnection_failsWhenTheSourceIsMade_andToStringHasNoToken() {
    TokenSet seeded = store.put(id, provider.seed());
    TokenBroker broker = broker(false);
    assertThatThrownBy(() -> broker.tokenSource(ConnectionId.parse("fake:other")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fake:other");
    TokenSource source = broker.tokenSource(id);
    source.accessToken();
    assertThat(source).hasToString("TokenSource{fake:shop}").isEqualTo(broker.tokenSource(id));
    assertThat(source.toString()).doesNotContain(seeded.accessToken());
  }
}
