package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.micrometer.TokenBrokerMetrics;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;

/**
 * Closing the application context closes the broker, which makes a last save attempt for a token
 * set it could not save: nothing the platform issued is lost on shutdown.
 */
class GracefulShutdownTest {
  private static final ConnectionId NAVER = ConnectionId.parse("naver:self");
  private final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  private final NaverEmulator naver = new NaverEmulator(clock);

  @AfterEach
  void stop() {
    naver.close();
  }

  /** Refuses saves while {@link #failing}; counts the refusals. */
  static final class FlakyStore extends ForwardingTokenStore {
    volatile boolean failing = true;
    final CountDownLatch refusals = new CountDownLatch(2);

    FlakyStore(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      if (failing) {
        refusals.countDown();
        throw new TokenStoreException(id, "store unavailable (test)", null);
      }
      return super.compareAndSet(id, expectedVersion, tokens, lease);
    }

    @Override
    public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
      if (failing) { // a connection's first set is saved this way
        refusals.countDown();
        throw new TokenStoreException(id, "store unavailable (test)", null);
      }
      return super.authorize(id, tokens, lease);
    }
  }

  @Test
  void closingTheContext_savesAPendingSet() throws Exception {
    naver.registerApplication(TestEmulators.NAVER_CLIENT, TestEmulators.NAVER_SECRET).start();
    InMemoryTokenStore memory = new InMemoryTokenStore(clock);
    FlakyStore store = new FlakyStore(memory);
    Map<String, Object> props =
        Map.of(
            "tokenbroker.keep-alive.enabled",
            "false",
            "tokenbroker.connections.[naver:self].client-id",
            TestEmulators.NAVER_CLIENT,
            "tokenbroker.connections.[naver:self].client-secret",
            TestEmulators.NAVER_SECRET,
            "tokenbroker.connections.[naver:self].base-url",
            naver.baseUrl());
    String[] served = new String[1];
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
        .withInitializer(
            c ->
                c.getEnvironment().getPropertySources().addFirst(new MapPropertySource("t", props)))
        .withBean(TokenBrokerAutoConfiguration.CLOCK_BEAN, Clock.class, () -> clock)
        .withBean(TokenStore.class, () -> store)
        // the saver's retries come an hour apart: only close() can save it during this test
        .withBean(
            TokenBrokerCustomizer.class,
            () ->
                b ->
                    b.backoff(Duration.ofHours(1), Duration.ofHours(1))
                        .lease(Duration.ofHours(3), Duration.ofSeconds(60)))
        .run(
            context -> {
              TokenBroker broker = context.getBean(TokenBroker.class);
              SimpleMeterRegistry meters = new SimpleMeterRegistry();
              context.getBean(TokenBrokerMetrics.class).bindTo(meters);
              served[0] = broker.accessToken(NAVER); // issued, served, not saved
              assertThat(store.refusals.await(30, TimeUnit.SECONDS))
                  .as("the save and its first retry were refused")
                  .isTrue();
              assertThat(broker.health(NAVER).unsaved()).isTrue();
              assertThat(memory.load(NAVER)).as("nothing saved yet").isNull();
              assertThat(
                      meters.get("tokenbroker.unsaved").tag("provider", "naver").counter().count())
                  .isEqualTo(1);
              assertThat(meters.get("tokenbroker.connections.unsaved").gauge().value())
                  .isEqualTo(1);

              store.failing = false; // the store is back; no retry is due for an hour
              context.close();
            });
    TokenSet saved = memory.load(NAVER);
    assertThat(saved).as("saved by the shutdown").isNotNull();
    assertThat(saved.accessToken()).isEqualTo(served[0]);
  }
}
