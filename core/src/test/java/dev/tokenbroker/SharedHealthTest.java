package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Health is shared and honest: a second broker instance on the same store — a new process, as far
 * as the broker can tell — sees what the first one recorded, without asking the platform, and
 * alerts fire once across instances. Each test runs on the memory store (one store object shared)
 * and on the file store (two store objects on one directory, as two processes have).
 */
class SharedHealthTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final List<TokenStore> stores = new ArrayList<>();
  private final InMemoryTokenStore memory = new InMemoryTokenStore(clock);

  @TempDir Path dir;

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
    stores.forEach(TokenStore::close);
  }

  /** One instance's view of the shared store: the memory store itself, or its own file store. */
  private TokenStore storeFor(String kind) {
    if (kind.equals("memory")) {
      return memory;
    }
    TokenStore s = FileTokenStore.builder(dir).clock(clock).build();
    stores.add(s);
    return s;
  }

  /** A new broker instance with its own listener. */
  private TokenBroker instance(String kind, List<TokenEvent> events) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(storeFor(kind))
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

  private TokenSet seed(String kind) {
    return storeFor(kind).put(id, provider.seed());
  }

  private static long count(List<TokenEvent> events, TokenEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  private static TokenEndpointException invalidGrant() {
    return TokenEndpointException.builder("fake")
        .httpStatus(400)
        .error("invalid_grant")
        .errorDescription("Invalid refresh_token")
        .kind(TokenEndpointException.Kind.PERMANENT)
        .reason("refresh token rejected")
        .build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void reauthorizationRequired_isWhatANewInstanceSees_withoutAskingThePlatform(String kind) {
    seed(kind);
    List<TokenEvent> firstEvents = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, firstEvents);
    clock.advance(Duration.ofHours(3));
    provider.failNext(invalidGrant());
    assertThatThrownBy(() -> first.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.calls).hasValue(1);

    List<TokenEvent> secondEvents = new CopyOnWriteArrayList<>();
    TokenBroker second = instance(kind, secondEvents);
    Health h = second.health(id);
    assertThat(h.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(h.reasonCode()).isEqualTo("refresh-token-rejected");
    assertThat(h.errorCode()).isEqualTo("invalid_grant");
    assertThat(provider.calls).as("health() never contacts the platform").hasValue(1);

    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(10));
      assertThatThrownBy(() -> second.accessToken(id))
          .isInstanceOf(ReauthorizationRequiredException.class)
          .satisfies(
              e ->
                  assertThat(((ReauthorizationRequiredException) e).health().reasonCode())
                      .isEqualTo("refresh-token-rejected"));
    }
    second.keepAlive();
    assertThat(provider.calls).as("the new instance sends nothing").hasValue(1);
    assertThat(count(firstEvents, TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isEqualTo(1);
    assertThat(count(secondEvents, TokenEvent.Type.REAUTHORIZATION_REQUIRED))
        .as("the alert fired once, on the instance that saw the failure")
        .isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void retryAfterAnsweredToTheFirstInstance_holdsTheSecondToo(String kind) {
    seed(kind);
    List<TokenEvent> events = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, events);
    clock.advance(Duration.ofHours(3));
    provider.failNext(
        TokenEndpointException.builder("fake")
            .httpStatus(429)
            .error("too_many_requests")
            .retryAfter(Duration.ofSeconds(8))
            .kind(TokenEndpointException.Kind.TRANSIENT)
            .reason("rate limited")
            .build());
    Instant answeredAt = clock.instant();
    assertThatThrownBy(() -> first.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.calls).hasValue(1);

    clock.advance(Duration.ofMillis(1300));
    TokenBroker second = instance(kind, events);
    Health h = second.health(id);
    assertThat(h.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(h.reasonCode()).isEqualTo("rate-limited");
    assertThat(h.errorCode()).isEqualTo("too_many_requests");
    assertThat(h.nextAttemptAt()).isEqualTo(answeredAt.plusSeconds(8));
    assertThatThrownBy(() -> second.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .isNotInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.calls).as("1.3 s later the second instance waits too").hasValue(1);

    clock.set(answeredAt.plusSeconds(8));
    assertThat(second.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(2);
    assertThat(first.health(id).state()).isEqualTo(Health.State.ACTIVE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void errorCode_namesThePlatformsError_never200(String kind) {
    seed(kind);
    TokenBroker first = instance(kind, new CopyOnWriteArrayList<>());
    clock.advance(Duration.ofHours(3));
    // A proxy's page answered with 200: no platform error at all.
    provider.failNext(
        TokenEndpointException.builder("fake")
            .httpStatus(200)
            .body("<html>maintenance</html>")
            .kind(TokenEndpointException.Kind.TRANSIENT)
            .reason("an HTML page instead of a token answer")
            .build());
    assertThatThrownBy(() -> first.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    TokenBroker second = instance(kind, new CopyOnWriteArrayList<>());
    for (TokenBroker b : List.of(first, second)) {
      assertThat(b.health(id).state()).isEqualTo(Health.State.DEGRADED);
      assertThat(b.health(id).errorCode()).isNull();
    }

    // An error the platform answered inside a 200.
    clock.advance(Duration.ofMinutes(1));
    provider.failNext(
        TokenEndpointException.builder("fake")
            .httpStatus(200)
            .error("invalid_grant")
            .platformCode("GW.AUTHN")
            .kind(TokenEndpointException.Kind.PERMANENT)
            .reason("refresh token rejected")
            .build());
    assertThatThrownBy(() -> second.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    TokenBroker third = instance(kind, new CopyOnWriteArrayList<>());
    for (TokenBroker b : List.of(first, second, third)) {
      Health h = b.health(id);
      assertThat(h.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
      assertThat(h.errorCode()).isEqualTo("GW.AUTHN").isNotEqualTo("200");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void explicitRefresh_retriesAConnectionMarkedForAPerson_andSuccessClearsItForEveryone(
      String kind) {
    seed(kind);
    List<TokenEvent> events = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, events);
    TokenBroker second = instance(kind, events);
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure()); // invalid_client: a wrong secret
    assertThatThrownBy(() -> first.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(second.health(id).reasonCode()).isEqualTo("client-rejected");
    assertThatThrownBy(() -> second.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(provider.calls).hasValue(1);

    // The operator fixed the secret and asks the other instance to try again.
    TokenSet renewed = second.refresh(id);
    assertThat(renewed.accessToken()).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(2);

    assertThat(storeFor(kind).read(id).health()).as("the shared record is cleared").isNull();
    for (TokenBroker b : List.of(first, second, instance(kind, events))) {
      assertThat(b.health(id).state()).isEqualTo(Health.State.ACTIVE);
      assertThat(b.accessToken(id)).isEqualTo("access-2");
    }
    assertThat(provider.calls).hasValue(2);
    assertThat(provider.invalidGrants).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void reauthorizationAlert_firesOncePerStateChange_acrossInstances(String kind) {
    seed(kind);
    List<TokenEvent> a = new CopyOnWriteArrayList<>();
    List<TokenEvent> b = new CopyOnWriteArrayList<>();
    List<TokenEvent> c = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, a);
    TokenBroker second = instance(kind, b);
    clock.advance(Duration.ofHours(3));

    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> first.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    // The second instance is held off, then retries explicitly and is refused again.
    assertThatThrownBy(() -> second.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> second.refresh(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    TokenBroker third = instance(kind, c);
    assertThatThrownBy(() -> third.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    third.health(id);
    assertThat(
            count(a, TokenEvent.Type.REAUTHORIZATION_REQUIRED)
                + count(b, TokenEvent.Type.REAUTHORIZATION_REQUIRED)
                + count(c, TokenEvent.Type.REAUTHORIZATION_REQUIRED))
        .as("one alert for one state change, over three instances")
        .isEqualTo(1);
    assertThat(count(a, TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isEqualTo(1);

    // Fixed, then broken again: a new state change, one new alert, from whoever saw it.
    second.refresh(id);
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> third.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThatThrownBy(() -> first.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(
            count(a, TokenEvent.Type.REAUTHORIZATION_REQUIRED)
                + count(b, TokenEvent.Type.REAUTHORIZATION_REQUIRED)
                + count(c, TokenEvent.Type.REAUTHORIZATION_REQUIRED))
        .isEqualTo(2);
    assertThat(count(c, TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void recoveryFromDegraded_isAnnouncedOnce_byTheInstanceWhoseRenewalClearedIt(String kind) {
    seed(kind);
    List<TokenEvent> firstEvents = new CopyOnWriteArrayList<>();
    List<TokenEvent> secondEvents = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, firstEvents);
    TokenBroker second = instance(kind, secondEvents);
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.transientFailure());
    assertThatThrownBy(() -> first.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(second.health(id).state()).isEqualTo(Health.State.DEGRADED);

    clock.advance(Duration.ofMinutes(1)); // past the backoff
    assertThat(second.accessToken(id)).isNotNull();
    assertThat(first.accessToken(id)).isNotNull();

    assertThat(count(secondEvents, TokenEvent.Type.RECOVERED)).isEqualTo(1);
    assertThat(count(firstEvents, TokenEvent.Type.RECOVERED))
        .as("the instance that saw the failure did not clear it")
        .isZero();
    assertThat(secondEvents.stream().filter(e -> e.type() == TokenEvent.Type.RECOVERED))
        .allMatch(e -> e.message().contains("was DEGRADED"));
  }

  /** Counts the health writes that reach the store. */
  private static final class CountingStore extends ForwardingTokenStore {
    final AtomicInteger healthWrites = new AtomicInteger();

    CountingStore(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public boolean compareAndSetHealth(
        ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
      healthWrites.incrementAndGet();
      return super.compareAndSetHealth(id, expectedVersion, next);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void failuresInARow_eachWriteTheHealthRecordOnce_alsoAfterAClear(String kind) {
    seed(kind);
    // Another connection's failure first: each connection's health versions are its own.
    storeFor(kind)
        .compareAndSetHealth(
            ConnectionId.parse("fake:other"),
            0,
            new HealthRecord(
                Health.State.DEGRADED,
                "transient",
                "503",
                "503",
                clock.instant(),
                null,
                null,
                1,
                1,
                0));
    CountingStore counting = new CountingStore(storeFor(kind));
    AtomicInteger validationsToFail = new AtomicInteger();
    TokenProvider validating =
        new ForwardingProvider(provider) {
          @Override
          public TokenSet validate(TokenSet current) {
            if (validationsToFail.getAndDecrement() > 0) {
              throw FakeProvider.transientFailure();
            }
            return current;
          }
        };
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(counting)
            .connection(id, validating)
            .executor(Runnable::run)
            .backoff(Duration.ofSeconds(1), Duration.ofMinutes(5))
            .backoffJitter(half -> half)
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    assertThat(b.accessToken(id)).isNotNull(); // the set is held here now

    for (int round = 0; round < 2; round++) {
      // Two failures in a row seen by this instance, without reading the store in between: the
      // second write names the version the first made, expected + 1, and must not miss.
      counting.healthWrites.set(0);
      validationsToFail.set(2);
      for (int failure = 0; failure < 2; failure++) {
        assertThatThrownBy(() -> b.validate(id)).isInstanceOf(TokenUnavailableException.class);
      }
      assertThat(counting.healthWrites)
          .as("round %d: two failures, two health writes (no miss, no re-read)", round)
          .hasValue(2);
      assertThat(b.health(id).consecutiveFailures()).isEqualTo(2);

      // A renewal succeeds and clears the record, which makes the version expected + 1 too: the
      // next round's first write names it.
      counting.healthWrites.set(0);
      assertThat(b.refresh(id)).isNotNull();
      assertThat(counting.healthWrites).hasValue(1);
      assertThat(storeFor(kind).read(id).health()).isNull();
    }
    assertThat(storeFor(kind).read(id).healthVersion()).isEqualTo(6);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "file"})
  void recoveryByANewAuthorization_isAnnouncedOnce(String kind) {
    seed(kind);
    List<TokenEvent> firstEvents = new CopyOnWriteArrayList<>();
    List<TokenEvent> secondEvents = new CopyOnWriteArrayList<>();
    TokenBroker first = instance(kind, firstEvents);
    TokenBroker second = instance(kind, secondEvents);
    clock.advance(Duration.ofHours(3));
    provider.failNext(invalidGrant());
    assertThatThrownBy(() -> first.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);

    AuthorizationRequest request = second.startAuthorization(id);
    first.completeAuthorization(id, "https://app.example/cb?code=c&state=" + request.state());

    assertThat(second.accessToken(id)).isNotNull();
    assertThat(count(firstEvents, TokenEvent.Type.RECOVERED)).isEqualTo(1);
    assertThat(count(secondEvents, TokenEvent.Type.RECOVERED)).isZero();
    assertThat(firstEvents.stream().filter(e -> e.type() == TokenEvent.Type.RECOVERED))
        .allMatch(e -> e.message().contains("was REAUTHORIZATION_REQUIRED"));
  }
}
