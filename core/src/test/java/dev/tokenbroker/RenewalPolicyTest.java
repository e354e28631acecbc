package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RenewalPolicyTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final MutableClock clock = new MutableClock();

  private static TokenSet token(Duration lifetime) {
    return TokenSet.builder().accessToken("a").issuedAt(T0).expiresAt(T0.plus(lifetime)).build();
  }

  @Test
  void twoHourToken_staleExactlyFiveMinutesBeforeExpiry_expiredThirtySecondsBefore() {
    RenewalPolicy p = RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));
    TokenSet t = token(Duration.ofHours(2));
    long expires = t.expiresAt().toEpochMilli();
    assertThat(p.renewAtMillis(t)).isEqualTo(expires - Duration.ofMinutes(5).toMillis());
    assertThat(p.expiredAtMillis(t)).isEqualTo(expires - 30_000);
  }

  @Test
  void brokerServesFreshTokenOneTickBeforeMargin_andRenewsFromTheMarginOn() {
    FakeProvider provider = FakeProvider.refreshing(clock);
    InMemoryTokenStore store = new InMemoryTokenStore(clock);
    ConnectionId id = ConnectionId.parse("fake:boundary");
    store.put(id, provider.seed());
    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .executor(Runnable::run)
            .build()) {
      String first = broker.accessToken(id);
      // one tick (1 ms) before the 5-minute margin: FRESH, no renewal
      clock.advance(Duration.ofHours(2).minusMinutes(5).minusMillis(1));
      assertThat(broker.accessToken(id)).isEqualTo(first);
      assertThat(provider.calls).hasValue(0);
      // exactly at the margin: STALE, the current token is served and one renewal runs
      clock.advance(Duration.ofMillis(1));
      assertThat(broker.accessToken(id)).isEqualTo(first);
      assertThat(provider.calls).hasValue(1);
      assertThat(broker.accessToken(id)).isNotEqualTo(first);
    }
  }

  @Test
  void expiredBoundary_oneTickBeforeSkewIsServedAtOnce_fromTheSkewOnTheCallerRenews() {
    FakeProvider provider = FakeProvider.refreshing(clock);
    ConnectionId id = ConnectionId.parse("fake:skew");
    InMemoryTokenStore store = new InMemoryTokenStore(clock);
    store.put(id, provider.seed());
    java.util.List<Runnable> queued = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean queue =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .executor(
                task -> {
                  if (queue.get()) {
                    queued.add(task); // background renewals wait for the test to run them
                  } else {
                    task.run();
                  }
                })
            .withoutKeepAlive()
            .build()) {
      String first = broker.accessToken(id);
      queue.set(true);
      clock.advance(Duration.ofHours(2).minusSeconds(30).minusMillis(1));
      // one tick before the 30-second skew: STALE, served without waiting; renewal only queued
      assertThat(broker.accessToken(id)).isEqualTo(first);
      assertThat(provider.calls).hasValue(0);
      assertThat(queued).hasSize(1);
      queued.get(0).run();
      assertThat(provider.calls).hasValue(1);
    }
    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .executor(Runnable::run)
            .withoutKeepAlive()
            .build()) {
      String second = broker.accessToken(id);
      clock.advance(Duration.ofHours(2).minusSeconds(30)); // exactly at the skew: EXPIRED
      assertThat(broker.accessToken(id)).isNotEqualTo(second); // the caller waited for a renewal
      assertThat(provider.calls).hasValue(2);
    }
  }

  @Test
  void marginsAreClampedForShortLifetimes_neverRenewingOnEveryCall() {
    RenewalPolicy p = RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));
    TokenSet oneSecond = token(Duration.ofSeconds(1));
    assertThat(p.renewAtMillis(oneSecond)).isEqualTo(T0.toEpochMilli() + 500);
    assertThat(p.expiredAtMillis(oneSecond)).isEqualTo(T0.toEpochMilli() + 750);
    TokenSet tenMinutes = token(Duration.ofMinutes(10));
    assertThat(p.renewAtMillis(tenMinutes))
        .isEqualTo(T0.plus(Duration.ofMinutes(5)).toEpochMilli());
  }

  @Test
  void naverStyleRule_exactlyThirtyMinutesLeftIsFresh_renewalStartsInsideTheLastThirty() {
    // Naver returns the same token while 30 minutes or more remain: a renewal at exactly 30
    // minutes left would be wasted. Its default margin is 25 minutes.
    RenewalPolicy p = RenewalPolicy.of(Duration.ofMinutes(25), Duration.ofSeconds(30));
    TokenSet threeHours = token(Duration.ofHours(3));
    long expires = threeHours.expiresAt().toEpochMilli();
    long thirtyLeft = expires - Duration.ofMinutes(30).toMillis();
    assertThat(thirtyLeft).isLessThan(p.renewAtMillis(threeHours)); // FRESH at exactly 30 left
    assertThat(p.renewAtMillis(threeHours)).isEqualTo(expires - Duration.ofMinutes(25).toMillis());
    assertThat(p.renewAtMillis(threeHours) - 1).isLessThan(p.renewAtMillis(threeHours));
  }

  @Test
  void naverStyleRule_renewsOnlyInsideTheLastThirtyMinutes() {
    RenewalPolicy p = RenewalPolicy.of(Duration.ofMinutes(25), Duration.ofSeconds(30));
    TokenSet threeHours = token(Duration.ofHours(3));
    long renewAt = p.renewAtMillis(threeHours);
    assertThat(threeHours.expiresAt().toEpochMilli() - renewAt)
        .isLessThan(Duration.ofMinutes(30).toMillis());
  }

  @Test
  void keepAlive_isTheWindowBeforeRefreshExpiry_clampedToHalfTheRefreshLife() {
    RenewalPolicy p =
        RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30))
            .withKeepAliveBefore(Duration.ofDays(30));
    TokenSet kakao =
        token(Duration.ofHours(6)).toBuilder()
            .refreshToken("r")
            .refreshExpiresAt(T0.plus(Duration.ofDays(60)))
            .build();
    assertThat(p.keepAliveAt(kakao)).isEqualTo(T0.plus(Duration.ofDays(30)));
    TokenSet shortRefresh =
        token(Duration.ofHours(2)).toBuilder()
            .refreshToken("r")
            .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
            .build();
    assertThat(p.keepAliveAt(shortRefresh)).isEqualTo(T0.plus(Duration.ofDays(7)));
    assertThat(p.keepAliveAt(token(Duration.ofHours(2)))).isNull();
  }

  @Test
  void skewLargerThanMargin_isRejected() {
    assertThatThrownBy(() -> RenewalPolicy.of(Duration.ofSeconds(10), Duration.ofSeconds(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expirySkew");
  }
}
