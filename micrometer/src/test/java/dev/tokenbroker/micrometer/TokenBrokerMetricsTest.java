package dev.tokenbroker.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.testkit.FakeClock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics a real broker produces: a client-credentials test provider whose answers the test
 * scripts, a fake clock, a simple registry; assertions on counts and gauge values, never timings.
 */
class TokenBrokerMetricsTest {
  private static final String SECRET = "s3cr3t-client-secret";
  private final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ConnectionId shop = ConnectionId.parse("scripted:shop");
  private final ConnectionId other = ConnectionId.parse("scripted:other");
  private final Deque<RuntimeException> failures = new ArrayDeque<>();
  private final AtomicInteger issued = new AtomicInteger();
  private TokenBroker broker;

  @AfterEach
  void close() {
    if (broker != null) {
      broker.close();
    }
  }

  /** Client credentials; each call pops a scripted failure or issues a one-hour token. */
  private final class ScriptedProvider implements TokenProvider {
    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public GrantType grantType() {
      return GrantType.CLIENT_CREDENTIALS;
    }

    @Override
    public RenewalPolicy renewalPolicy() {
      return RenewalPolicy.of(Duration.ofMinutes(5), Duration.ZERO);
    }

    @Override
    public TokenSet obtain(@Nullable TokenSet current) {
      synchronized (failures) {
        RuntimeException f = failures.poll();
        if (f != null) {
          throw f;
        }
      }
      Instant now = clock.instant();
      return TokenSet.builder()
          .accessToken("token-" + issued.incrementAndGet())
          .issuedAt(now)
          .expiresAt(now.plus(Duration.ofHours(1)))
          .build();
    }
  }

  private TokenBroker broker(TokenBrokerMetrics metrics) {
    TokenProviderFactory factory =
        new TokenProviderFactory() {
          @Override
          public String name() {
            return "scripted";
          }

          @Override
          public TokenProvider create(Settings settings, ProviderContext context) {
            settings.require("client-secret");
            return new ScriptedProvider();
          }
        };
    broker =
        TokenBroker.builder()
            .clock(clock)
            .withoutKeepAlive()
            .backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
            .providerFactory(metrics.instrument(factory))
            .connection(shop, Map.of("client-secret", SECRET))
            .connection(other, Map.of("client-secret", SECRET))
            .listener(metrics)
            .build();
    metrics.monitor(broker);
    metrics.bindTo(registry);
    return broker;
  }

  private double counter(String name, String... tags) {
    var c = registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private double gauge(String name, String... tags) {
    var g = registry.find(name).tags(tags).gauge();
    assertThat(g).as(name + " " + List.of(tags)).isNotNull();
    return g.value();
  }

  private static void fails(ThrowingCallable call) {
    try {
      call.call();
    } catch (TokenUnavailableException e) {
      return;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    throw new AssertionError("did not fail");
  }

  private static TokenEndpointException endpointFailure(TokenEndpointException.Kind kind) {
    return TokenEndpointException.builder("scripted")
        .httpStatus(kind == TokenEndpointException.Kind.PERMANENT ? 401 : 503)
        .error(kind == TokenEndpointException.Kind.PERMANENT ? "invalid_client" : null)
        .kind(kind)
        .reason("scripted " + kind)
        .build();
  }

  @Test
  void renewals_countedByProviderAndOutcome_andTokenRequestsTimedWithAHistogram() {
    List<String> histograms = new java.util.concurrent.CopyOnWriteArrayList<>();
    registry
        .config()
        .meterFilter(
            new io.micrometer.core.instrument.config.MeterFilter() {
              @Override
              public io.micrometer.core.instrument.distribution.DistributionStatisticConfig
                  configure(
                      Meter.Id id,
                      io.micrometer.core.instrument.distribution.DistributionStatisticConfig
                          config) {
                if (Boolean.TRUE.equals(config.isPercentileHistogram())) {
                  histograms.add(id.getName());
                }
                return config;
              }
            });
    TokenBroker b = broker(TokenBrokerMetrics.builder().clock(clock).build());

    b.accessToken(shop);
    b.accessToken(other);
    clock.advance(Duration.ofHours(2));
    b.accessToken(shop);

    assertThat(counter("tokenbroker.renewals", "provider", "scripted", "outcome", "success"))
        .isEqualTo(3);
    assertThat(counter("tokenbroker.renewals", "outcome", "failure")).isZero();
    var timer =
        registry
            .find("tokenbroker.token.requests")
            .tags("provider", "scripted", "grant", "client-credentials", "outcome", "success")
            .timer();
    assertThat(timer).isNotNull();
    assertThat(timer.count()).isEqualTo(3);
    assertThat(histograms)
        .as("a percentile histogram is published, so it aggregates across instances")
        .containsOnly("tokenbroker.token.requests");
    assertThat(gauge("tokenbroker.connections", "state", "active")).isEqualTo(2);
    assertThat(gauge("tokenbroker.connections.unsaved")).isZero();
  }

  @Test
  void failures_countedByKind_andTheHealthGaugesFollowTheStates() {
    TokenBroker b = broker(TokenBrokerMetrics.builder().clock(clock).build());
    assertThat(gauge("tokenbroker.connections", "state", "active")).isEqualTo(2);

    failures.add(endpointFailure(TokenEndpointException.Kind.TRANSIENT));
    fails(() -> b.accessToken(shop));
    assertThat(counter("tokenbroker.renewals", "outcome", "failure")).isEqualTo(1);
    assertThat(counter("tokenbroker.renewal.failures", "provider", "scripted", "kind", "transient"))
        .isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "degraded")).isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "active")).isEqualTo(1);

    failures.add(endpointFailure(TokenEndpointException.Kind.PERMANENT));
    fails(() -> b.accessToken(other));
    assertThat(counter("tokenbroker.renewal.failures", "kind", "permanent")).isEqualTo(1);
    assertThat(counter("tokenbroker.reauthorization.required", "provider", "scripted"))
        .isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "reauthorization-required")).isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "degraded")).isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "active")).isZero();
    assertThat(
            registry.find("tokenbroker.token.requests").tags("outcome", "failure").timer().count())
        .isEqualTo(2);

    clock.advance(Duration.ofMinutes(1)); // past the backoff
    b.accessToken(shop);
    assertThat(gauge("tokenbroker.connections", "state", "active")).isEqualTo(1);
    assertThat(gauge("tokenbroker.connections", "state", "degraded")).isZero();
  }

  @Test
  void failureKind_readsTheExceptionChain() {
    assertThat(TokenBrokerMetrics.failureKind(null)).isEqualTo("transient");
    assertThat(
            TokenBrokerMetrics.failureKind(
                new IllegalStateException(
                    endpointFailure(TokenEndpointException.Kind.OUTCOME_UNKNOWN))))
        .isEqualTo("outcome-unknown");
    assertThat(
            TokenBrokerMetrics.failureKind(endpointFailure(TokenEndpointException.Kind.PERMANENT)))
        .isEqualTo("permanent");
  }

  @Test
  void expiryGauges_onlyForTheConnectionsAskedFor_inSecondsByTheClock() {
    TokenBroker b =
        broker(
            TokenBrokerMetrics.builder()
                .clock(clock)
                .expiryGauges(List.of(shop))
                .healthCacheFor(Duration.ZERO)
                .build());
    b.accessToken(shop);
    b.accessToken(other);
    clock.advance(Duration.ofMinutes(20));

    assertThat(gauge("tokenbroker.access.expiry", "connection", "scripted:shop"))
        .isEqualTo(Duration.ofMinutes(40).toSeconds());
    assertThat(gauge("tokenbroker.refresh.expiry", "connection", "scripted:shop")).isNaN();
    assertThat(
            registry.find("tokenbroker.access.expiry").tag("connection", "scripted:other").gauge())
        .isNull();
  }

  @Test
  void noMeterCarriesATokenOrSecret() {
    TokenBroker b =
        broker(
            TokenBrokerMetrics.builder().clock(clock).expiryGauges(List.of(shop, other)).build());
    String token = b.accessToken(shop);
    failures.add(endpointFailure(TokenEndpointException.Kind.PERMANENT));
    clock.advance(Duration.ofHours(2));
    fails(() -> b.accessToken(shop));

    assertThat(registry.getMeters()).isNotEmpty();
    for (Meter m : registry.getMeters()) {
      String id = m.getId().toString();
      assertThat(id).doesNotContain(token).doesNotContain(SECRET).doesNotContain("token-");
    }
  }

  @Test
  void aLostAnswer_isCountedAsOutcomeUnknown() {
    TokenBroker b = broker(TokenBrokerMetrics.builder().clock(clock).build());
    failures.add(endpointFailure(TokenEndpointException.Kind.OUTCOME_UNKNOWN));
    fails(() -> b.accessToken(shop));
    assertThat(counter("tokenbroker.renewal.failures", "kind", "outcome-unknown")).isEqualTo(1);
    assertThat(counter("tokenbroker.renewal.failures", "kind", "transient")).isZero();
  }
}
