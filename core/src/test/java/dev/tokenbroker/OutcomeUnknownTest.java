package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A refresh whose answer was lost (PROTOCOLS §4.1): "rotation outcome unknown" is reported first,
 * nothing is sent while the platform may still be processing the first request — whoever asks — and
 * then exactly one deliberate try decides. A renewal cut short by a crash (a holder that marked its
 * lease as renewing and died) is the same case for whoever holds the connection next.
 *
 * <p>Every interleaving is forced: the fake clock decides the pause, renewals run on the calling
 * thread, and the "lost" answers are thrown by the provider after (or before) it processed the
 * request.
 */
class OutcomeUnknownTest {
  private static final Duration PAUSE = Duration.ofSeconds(30);

  private final MutableClock clock = new MutableClock();
  private final FakeProvider platform = FakeProvider.refreshing(clock);
  private final LosingProvider provider = new LosingProvider(platform);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
  }

  /** The platform behind a connection that can lose the answer of the next refresh. */
  static final class LosingProvider extends ForwardingProvider {
    /** Refresh requests that reached the platform (or were lost on their way to it). */
    final AtomicInteger requests = new AtomicInteger();

    volatile boolean loseAfterProcessing;
    volatile boolean loseBeforeProcessing;

    LosingProvider(FakeProvider platform) {
      super(platform);
    }

    @Override
    public TokenSet refresh(TokenSet current) {
      requests.incrementAndGet();
      if (loseBeforeProcessing) {
        loseBeforeProcessing = false;
        throw lost();
      }
      TokenSet issued = delegate.refresh(current);
      if (loseAfterProcessing) {
        loseAfterProcessing = false;
        throw lost(); // the platform rotated; the answer never arrived
      }
      return issued;
    }

    static TokenEndpointException lost() {
      return TokenEndpointException.builder("fake")
          .kind(TokenEndpointException.Kind.OUTCOME_UNKNOWN)
          .reason("connection closed after the request was sent")
          .build();
    }
  }

  private TokenBroker broker() {
    return broker(TokenBroker.builder().outcomeUnknownPause(PAUSE));
  }

  private TokenBroker broker(TokenBrokerBuilder builder) {
    TokenBroker b =
        builder
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .listener(events::add)
            .executor(Runnable::run)
            .backoff(Duration.ofSeconds(1), Duration.ofMinutes(5))
            .backoffJitter(half -> half)
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    return b;
  }

  private TokenSet seed() {
    return store.put(id, platform.seed());
  }

  private List<TokenEvent.Type> types() {
    List<TokenEvent.Type> t = new ArrayList<>();
    events.forEach(e -> t.add(e.type()));
    return t;
  }

  private static Health healthOf(Throwable t) {
    return ((TokenUnavailableException) t).health();
  }

  /** Every way to ask for a renewal; none may send a request. */
  private void everyoneAsks(TokenBroker... instances) {
    for (TokenBroker b : instances) {
      List<ThrowingCallable> asks =
          List.of(() -> b.accessToken(id), () -> b.tokenSet(id), () -> b.refresh(id));
      for (ThrowingCallable ask : asks) {
        assertThatThrownBy(ask)
            .isInstanceOf(TokenUnavailableException.class)
            .satisfies(
                e -> assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown"));
      }
      b.keepAlive();
      assertThat(b.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");
    }
  }

  @Test
  void
      lostAnswer_isReportedFirst_nothingIsSentDuringThePause_thenOneRetry_invalidGrantNeedsAPerson() {
    seed();
    TokenBroker a = broker();
    a.accessToken(id);
    clock.advance(Duration.ofHours(3)); // expired: the caller must wait for a renewal
    provider.loseAfterProcessing = true;
    Instant lostAt = clock.instant();

    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .isNotInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e -> {
              assertThat(healthOf(e).state()).isEqualTo(Health.State.DEGRADED);
              assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown");
            });
    assertThat(types().get(0))
        .as("reported before anything else")
        .isEqualTo(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    assertThat(types()).doesNotContain(TokenEvent.Type.REAUTHORIZATION_REQUIRED);
    Health h = a.health(id);
    assertThat(h.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(h.reasonCode()).isEqualTo("rotation-outcome-unknown");
    assertThat(h.nextAttemptAt()).isEqualTo(lostAt.plus(PAUSE));
    assertThat(provider.requests).hasValue(1);

    // Callers, an explicit refresh, a keep-alive pass, another instance: nobody sends anything
    // while the platform may still be processing the first request.
    TokenBroker b = broker();
    clock.advance(PAUSE.minusSeconds(1));
    everyoneAsks(a, b);
    assertThat(provider.requests).as("requests sent during the pause").hasValue(1);

    // After the pause: the one deliberate try. The lost request had rotated the token.
    clock.advance(Duration.ofSeconds(2));
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e -> {
              assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown");
              assertThat(healthOf(e).errorCode()).isEqualTo("invalid_grant");
            });
    assertThat(provider.requests).hasValue(2);
    assertThat(types().indexOf(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN))
        .isLessThan(types().indexOf(TokenEvent.Type.REAUTHORIZATION_REQUIRED));
    assertThat(types()).containsOnlyOnce(TokenEvent.Type.REAUTHORIZATION_REQUIRED);

    // That was the one try: nothing more is sent, by anyone, without a person.
    clock.advance(Duration.ofHours(1));
    for (TokenBroker x : List.of(a, b)) {
      assertThatThrownBy(() -> x.accessToken(id))
          .isInstanceOf(ReauthorizationRequiredException.class);
      x.keepAlive();
      assertThat(x.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
      assertThat(x.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");
    }
    assertThat(provider.requests).hasValue(2);
  }

  @Test
  void lostBeforeProcessing_theOneDeliberateRetrySucceeds_andClearsTheReport() {
    seed();
    TokenBroker a = broker();
    clock.advance(Duration.ofHours(3));
    provider.loseBeforeProcessing = true;
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(a.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");

    clock.advance(PAUSE.plusSeconds(1));
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.requests).hasValue(2);
    assertThat(platform.invalidGrants).hasValue(0);
    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(broker().health(id).state()).as("for every instance").isEqualTo(Health.State.ACTIVE);
    assertThat(types())
        .containsSubsequence(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, TokenEvent.Type.REFRESHED);
  }

  @Test
  void explicitRefreshOfARejectedConnectionLosesItsAnswer_noOtherExplicitRefreshRacesIt() {
    seed();
    TokenBroker a = broker();
    TokenBroker b = broker();
    clock.advance(Duration.ofHours(3));
    platform.failNext( // the platform refused refresh-1 (spuriously, as it turns out)
        TokenEndpointException.builder("fake")
            .httpStatus(400)
            .error("invalid_grant")
            .kind(TokenEndpointException.Kind.PERMANENT)
            .reason("refresh token expired or already used")
            .build());
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(a.health(id).reasonCode()).isEqualTo("refresh-token-rejected");

    provider.loseBeforeProcessing = true; // an operator retries; the request may still arrive
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.requests).hasValue(2);

    clock.advance(PAUSE.minusSeconds(1));
    assertThatThrownBy(() -> b.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.requests)
        .as("nothing sent while the lost one may be in process")
        .hasValue(2);

    clock.advance(Duration.ofSeconds(2));
    assertThat(b.refresh(id).accessToken()).isEqualTo("access-2"); // the operator fixed it
    assertThat(provider.requests).hasValue(3);
  }

  @Test
  void theDeliberateRetryLostToo_isFinal() {
    seed();
    TokenBroker a = broker();
    clock.advance(Duration.ofHours(3));
    provider.loseBeforeProcessing = true;
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    clock.advance(PAUSE.plusSeconds(1));
    provider.loseAfterProcessing = true;
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(e -> assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown"));
    clock.advance(Duration.ofHours(1));
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.requests).hasValue(2);
  }

  @Test
  void defaultPause_isTwiceTheReadTimeout_andAtLeastTenSeconds() {
    seed();
    clock.advance(Duration.ofHours(3));
    TokenBroker slow =
        broker(
            TokenBroker.builder()
                .httpClient(new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(7)).build()));
    provider.loseBeforeProcessing = true;
    Instant lostAt = clock.instant();
    assertThatThrownBy(() -> slow.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(slow.health(id).nextAttemptAt()).isEqualTo(lostAt.plusSeconds(14));
    clock.advance(Duration.ofSeconds(13));
    assertThatThrownBy(() -> slow.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.requests).hasValue(1);
    clock.advance(Duration.ofSeconds(2));
    assertThat(slow.accessToken(id)).isEqualTo("access-2");

    clock.advance(Duration.ofHours(3));
    TokenBroker fast =
        broker(
            TokenBroker.builder()
                .httpClient(new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(2)).build()));
    provider.loseBeforeProcessing = true;
    lostAt = clock.instant();
    assertThatThrownBy(() -> fast.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(fast.health(id).nextAttemptAt()).isEqualTo(lostAt.plusSeconds(10));
  }

  /** A holder that marked its lease as renewing and died: nothing saved, nothing released. */
  private Lease crashedHolder(Duration leaseTtl) {
    Lease lease = store.tryAcquireLease(id, "crashed-instance", leaseTtl, TokenStore.NO_FENCE);
    assertThat(lease).isNotNull();
    store.markRenewing(lease);
    return lease;
  }

  @Test
  void renewalCutShortByACrash_isReportedBeforeTheOneTry_notActiveThenADeadRefreshToken() {
    TokenSet seeded = seed();
    clock.advance(Duration.ofHours(3));
    crashedHolder(Duration.ofSeconds(90));
    platform.refresh(seeded); // its request reached the platform: refresh-1 is spent
    clock.advance(Duration.ofSeconds(91)); // its lease ran out; the pause is over too

    TokenBroker next = broker();
    assertThatThrownBy(() -> next.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e -> {
              assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown");
              assertThat(healthOf(e).errorCode()).isEqualTo("invalid_grant");
            });
    assertThat(provider.requests).as("the one try").hasValue(1);
    assertThat(types().get(0)).isEqualTo(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    assertThat(types()).containsOnlyOnce(TokenEvent.Type.REAUTHORIZATION_REQUIRED);
    assertThat(types()).doesNotContain(TokenEvent.Type.REFRESHED);

    clock.advance(Duration.ofHours(1));
    TokenBroker another = broker();
    assertThat(another.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");
    assertThatThrownBy(() -> another.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.requests).hasValue(1);
  }

  @Test
  void renewalCutShortBeforeItsRequestLeft_theOneTryRenews_afterTheReport() {
    seed();
    clock.advance(Duration.ofHours(3));
    crashedHolder(Duration.ofSeconds(90));
    clock.advance(Duration.ofSeconds(91));

    TokenBroker next = broker();
    assertThat(next.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.requests).hasValue(1);
    assertThat(types())
        .containsSubsequence(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, TokenEvent.Type.REFRESHED);
    assertThat(next.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(broker().health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @Test
  void renewalCutShortMomentsAgo_nothingIsSentUntilThePauseIsOver() {
    seed();
    clock.advance(Duration.ofHours(3));
    Instant marked = clock.instant();
    crashedHolder(Duration.ofSeconds(5)); // a short lease: it lapses long before the pause
    clock.advance(Duration.ofSeconds(6));

    TokenBroker next = broker();
    assertThatThrownBy(() -> next.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .satisfies(e -> assertThat(healthOf(e).reasonCode()).isEqualTo("rotation-outcome-unknown"));
    assertThat(types().get(0)).isEqualTo(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN);
    assertThat(next.health(id).nextAttemptAt()).isEqualTo(marked.plus(PAUSE));

    clock.set(marked.plus(PAUSE).minusSeconds(1));
    TokenBroker other = broker();
    everyoneAsks(next, other);
    assertThat(provider.requests).hasValue(0);

    clock.set(marked.plus(PAUSE).plusSeconds(1));
    assertThat(other.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.requests).hasValue(1);
    assertThat(next.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }
}
