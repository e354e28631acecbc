package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Edges between instances that the seeded simulation found, each forced here step by step: a revoke
 * that fails after seizing a lease, a revoke that lands between a code exchange and its save, a
 * health record cleared on one instance and rewritten on another, and a revoke whose tombstone the
 * store refuses after the platform revoked the tokens. Every store call runs on the test thread
 * ({@code executor(Runnable::run)}); the durable saver's retries run only when the test says
 * ({@link HeldRetries}).
 */
class CrossInstanceEdgesTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final List<TokenBroker> brokers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
  }

  /** The durable saver's retries, held until {@link #runAll}. */
  static final class HeldRetries extends ScheduledThreadPoolExecutor {
    private final List<Runnable> due = new ArrayList<>();

    HeldRetries() {
      super(1);
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      due.add(task);
      return new Held();
    }

    void runAll() {
      List<Runnable> now;
      synchronized (this) {
        now = new ArrayList<>(due);
        due.clear();
      }
      now.forEach(Runnable::run);
    }

    private static final class Held implements ScheduledFuture<Object> {
      @Override
      public long getDelay(TimeUnit unit) {
        return 0;
      }

      @Override
      public int compareTo(Delayed o) {
        return 0;
      }

      @Override
      public boolean cancel(boolean mayInterruptIfRunning) {
        return false;
      }

      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public boolean isDone() {
        return false;
      }

      @Override
      public @Nullable Object get() {
        return null;
      }

      @Override
      public @Nullable Object get(long timeout, TimeUnit unit) {
        return null;
      }
    }
  }

  /** One instance's view of the shared store, failing the calls the test names, once each. */
  static final class Faults extends ForwardingTokenStore {
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger authorizes = new AtomicInteger();
    final AtomicInteger seizes = new AtomicInteger();
    final AtomicInteger tombstones = new AtomicInteger();
    final AtomicInteger saves = new AtomicInteger();
    final AtomicInteger marks = new AtomicInteger();
    final AtomicInteger healths = new AtomicInteger();
    final AtomicInteger savesAppliedButFailed = new AtomicInteger();

    Faults(TokenStore delegate) {
      super(delegate);
    }

    private static void failIf(AtomicInteger n, ConnectionId id, String what) {
      if (n.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0) {
        throw new TokenStoreException(id, "simulated store failure (" + what + ")", null);
      }
    }

    @Override
    public StoredConnection read(ConnectionId id) {
      failIf(reads, id, "read");
      return super.read(id);
    }

    @Override
    public void markRenewing(Lease lease) {
      failIf(marks, lease.connection(), "markRenewing");
      super.markRenewing(lease);
    }

    final AtomicInteger healthsAppliedButFailed = new AtomicInteger();

    @Override
    public boolean compareAndSetHealth(
        ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
      failIf(healths, id, "compareAndSetHealth");
      boolean moved = super.compareAndSetHealth(id, expectedVersion, next);
      failIf(healthsAppliedButFailed, id, "compareAndSetHealth, applied");
      return moved;
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      failIf(saves, id, "compareAndSet");
      TokenSet saved = super.compareAndSet(id, expectedVersion, tokens, lease);
      failIf(savesAppliedButFailed, id, "compareAndSet, applied");
      return saved;
    }

    @Override
    public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
      failIf(authorizes, id, "authorize");
      return super.authorize(id, tokens, lease);
    }

    /** Seizes after which the next read fails (the seize itself succeeds). */
    final AtomicInteger readsFailingAfterSeize = new AtomicInteger();

    @Override
    public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
      failIf(seizes, id, "seizeLease");
      Lease seized = super.seizeLease(id, owner, ttl, minFence);
      if (readsFailingAfterSeize.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0) {
        reads.incrementAndGet();
      }
      return seized;
    }

    @Override
    public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
      failIf(tombstones, id, "tombstone");
      super.tombstone(id, tombstone, lease);
    }
  }

  private TokenBroker instance(
      String name, TokenStore view, TokenProvider p, @Nullable HeldRetries retries) {
    TokenBrokerBuilder b =
        TokenBroker.builder()
            .instanceId(name)
            .clock(clock)
            .store(view)
            .withoutKeepAlive()
            .executor(Runnable::run)
            .connection(id, p);
    if (retries != null) {
      b.scheduler(retries);
    }
    TokenBroker broker = b.build();
    brokers.add(broker);
    return broker;
  }

  /** {@code p}, except that the platform refuses a revocation's access token (it expired there). */
  private static TokenProvider rejectingRevoke(TokenProvider p) {
    return new ForwardingProvider(p) {
      @Override
      public void revoke(TokenSet current, Revocation revocation) {
        throw TokenEndpointException.builder("fake")
            .httpStatus(401)
            .kind(TokenEndpointException.Kind.TOKEN_REJECTED)
            .reason("access token rejected")
            .build();
      }
    };
  }

  private static TokenSet connect(TokenBroker broker, ConnectionId id) {
    AuthorizationRequest request = broker.startAuthorization(id);
    return broker.completeAuthorization(
        id, "https://app.example/cb?code=c&state=" + request.state());
  }

  // ------------------------------------------------------------------------------------------

  @Test
  void revokeThatFailsAfterSeizingTheLease_doesNotDropAnAuthorizationMadeBeforeIt() {
    store.put(id, provider.seed());
    Faults bView = new Faults(store);
    TokenBroker b = instance("b", bView, provider, null);
    b.revoke(id); // an old revocation: the connection waits for a person
    clock.advance(Duration.ofMinutes(1));

    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenBroker a = instance("a", aView, provider, aRetries);
    aView.authorizes.set(1);
    TokenSet connected = connect(a, id); // exchanged; its save failed: held with its lease
    assertThat(a.health(id).unsaved()).isTrue();
    clock.advance(Duration.ofSeconds(1));

    bView.reads.set(1);
    assertThatThrownBy(() -> b.revoke(id)) // seizes A's lease, then fails before any write
        .isInstanceOf(TokenStoreException.class);
    assertThat(store.read(id).tombstone().at()).isBefore(connected.issuedAt());

    aRetries.runAll(); // lease lost: only the old tombstone is there
    aRetries.runAll(); // seizes again and saves
    assertThat(a.health(id).unsaved()).isFalse();
    StoredConnection now = store.read(id);
    assertThat(now.tombstone()).as("the authorization won over the older revocation").isNull();
    assertThat(now.tokens().accessToken()).isEqualTo(connected.accessToken());
    assertThat(a.accessToken(id)).isEqualTo(connected.accessToken());
    assertThat(b.accessToken(id)).isEqualTo(connected.accessToken());
  }

  @Test
  void revokeBetweenACodeExchangeAndItsSave_theAuthorizationCompletedLaterWins() {
    store.put(id, provider.seed());
    TokenBroker b = instance("b", store, provider, null);
    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenProvider revokedDuringExchange =
        new ForwardingProvider(provider) {
          @Override
          public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
            TokenSet issued = super.exchangeCode(code, codeVerifier);
            clock.advance(Duration.ofMillis(1));
            b.revoke(id); // lands after the exchange, before the authorization completes
            clock.advance(Duration.ofMillis(1));
            return issued;
          }
        };
    TokenBroker a = instance("a", aView, revokedDuringExchange, aRetries);
    aView.seizes.set(1); // the save cannot even start: held without a lease
    TokenSet connected = connect(a, id);
    Tombstone revoked = store.read(id).tombstone();
    assertThat(revoked.at()).isAfter(connected.issuedAt());

    aRetries.runAll();
    assertThat(a.health(id).unsaved()).isFalse();
    assertThat(store.read(id).tombstone()).isNull();
    assertThat(store.read(id).tokens().accessToken()).isEqualTo(connected.accessToken());
    assertThat(b.accessToken(id)).isEqualTo(connected.accessToken());
  }

  @Test
  void healthClearedOnOneInstance_neverLetsItsStaleViewOverwriteAnotherInstancesVerdict() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    TokenBroker a = instance("a", aView, provider, null);
    TokenBroker b = instance("b", store, provider, null);
    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.transientFailure());
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(store.read(id).health()).isNotNull();
    clock.advance(Duration.ofMinutes(10)); // past the backoff
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // clears the record A wrote
    assertThat(store.read(id).health()).isNull();

    clock.advance(Duration.ofHours(3));
    provider.failNext(FakeProvider.permanentFailure());
    assertThatThrownBy(() -> b.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    HealthRecord verdict = store.read(id).health();
    assertThat(verdict.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);

    aView.reads.set(1); // A's renewal cannot read the store: a store failure, recorded
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    HealthRecord after = store.read(id).health();
    assertThat(after.state())
        .as("B's verdict, not A's store failure built on a record A never saw")
        .isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(after.reason()).isEqualTo(verdict.reason());
    assertThat(a.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(provider.calls).as("A's 503, A's renewal, B's rejected one; none after").hasValue(3);
  }

  @Test
  void aRefreshFromAnUnsavedSetLosesItsAnswer_itsLaterSaveReportsTheUnknownOutcome_notActive() {
    store.put(id, provider.seed());
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenBroker a = instance("a", aView, losing, aRetries);
    clock.advance(Duration.ofHours(3));
    aView.saves.set(1);
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // refresh-2 held unsaved, with the lease
    assertThat(a.health(id).unsaved()).isTrue();

    aView.saves.set(
        1); // the save tried first fails again: the refresh goes on from the unsaved set
    losing.loseAfterProcessing = true; // the platform rotates refresh-2; the answer is lost
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(a.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");

    aRetries.runAll(); // the store is back: refresh-2 is saved, but it may be spent
    StoredConnection now = store.read(id);
    assertThat(now.tokens().accessToken()).isEqualTo("access-2");
    assertThat(now.health()).as("not cleared as if the set had been renewed").isNotNull();
    assertThat(now.health().reason()).isEqualTo("rotation-outcome-unknown");
    assertThat(now.health().tokenVersion()).isEqualTo(now.version());
    assertThat(a.health(id).reasonCode()).isEqualTo("rotation-outcome-unknown");
  }

  /**
   * Instance {@code a} holds refresh-2 unsaved (its save failed, it kept the lease), then refreshes
   * from it: the platform rotates refresh-2 and the answer is lost, and the store refuses every
   * report of the unknown outcome.
   */
  private final class LostAnswerWhileUnsaved {
    final OutcomeUnknownTest.LosingProvider losing =
        new OutcomeUnknownTest.LosingProvider(provider);
    final Faults view = new Faults(store);
    final HeldRetries retries = new HeldRetries();

    LostAnswerWhileUnsaved() {
      store.put(id, provider.seed());
      TokenBroker a = instance("a", view, losing, retries);
      clock.advance(Duration.ofHours(3));
      view.saves.set(1);
      assertThat(a.accessToken(id)).isEqualTo("access-2"); // held unsaved, with the lease
      view.saves.set(1);
      view.healths.set(10);
      losing.loseAfterProcessing = true;
      assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    }
  }

  /**
   * A fresh instance's renewal must be the one deliberate try after the report, not an ordinary
   * one.
   */
  private void nextHolderReportsTheUnknownOutcomeFirst() {
    TokenBroker b = instance("b", store, provider, null);
    assertThatThrownBy(() -> b.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e ->
                assertThat(((ReauthorizationRequiredException) e).health().reasonCode())
                    .as("the one deliberate try after the report, not an ordinary renewal")
                    .isEqualTo("rotation-outcome-unknown"));
  }

  @Test
  void
      anUnsavedSetWhoseRefreshLostItsAnswerIsSaved_butTheStoreRefusesTheReport_theLeaseStaysMarked_andTheNextHolderReportsFirst() {
    LostAnswerWhileUnsaved a = new LostAnswerWhileUnsaved();

    // The store is back for the save, but still refuses the report, and the first try to mark the
    // lease (seeds 26465 and 4930): the save cleared the marker of the lost request, so nothing in
    // the store would say refresh-2 may be spent.
    a.view.marks.set(1);
    a.retries.runAll(); // saved
    assertThat(store.read(id).tokens().accessToken()).isEqualTo("access-2");
    assertThat(store.read(id).health()).isNull();
    a.retries.runAll(); // the lease is kept and marked on the next try
    a.losing.loseAfterProcessing = false;

    clock.advance(Duration.ofHours(3)); // a stopped, say: its lease lapsed; access-2 expired
    nextHolderReportsTheUnknownOutcomeFirst();
  }

  @Test
  void aSaveAppliedWhoseReplyWasLost_afterARefreshLostItsAnswer_putsTheMarkerBack() {
    LostAnswerWhileUnsaved a = new LostAnswerWhileUnsaved();

    // The saver's next save is applied, but its reply is lost (seed 14483): the save cleared the
    // marker of the request that lost its answer, and the saver believes nothing was saved.
    a.view.savesAppliedButFailed.set(1);
    a.retries.runAll();
    assertThat(store.read(id).tokens().accessToken()).isEqualTo("access-2");
    a.losing.loseAfterProcessing = false;

    clock.advance(Duration.ofHours(3)); // a stalls before its next retry: its lease lapses
    nextHolderReportsTheUnknownOutcomeFirst();
  }

  @Test
  void aSaveAppliedWhoseReplyWasLost_andTheMarkRefused_theNextAttemptDoesNotSaveItAgain() {
    LostAnswerWhileUnsaved a = new LostAnswerWhileUnsaved();

    a.view.savesAppliedButFailed.set(1); // saved, reply lost: the marker is gone ...
    a.view.marks.set(1); // ... and putting it back is refused too
    a.retries.runAll();
    long version = store.read(id).version();
    // The next attempt finds its set stored: it must not save (and unmark) it again.
    a.retries.runAll();
    assertThat(store.read(id).version()).as("not saved a second time").isEqualTo(version);
    a.losing.loseAfterProcessing = false;

    clock.advance(Duration.ofHours(3));
    nextHolderReportsTheUnknownOutcomeFirst();
  }

  /**
   * Instance {@code a}'s renewal sends refresh-1, the platform rotates it and the answer is lost,
   * and the store refuses the report: the lease's marker is then the store's only record that
   * refresh-1 may be spent, and it is left to lapse with the lease.
   */
  private void aRenewalCutShortIsOnlyOnTheLease() {
    store.put(id, provider.seed());
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults aView = new Faults(store);
    TokenBroker a = instance("a", aView, losing, new HeldRetries());
    clock.advance(Duration.ofHours(3));
    aView.healths.set(10);
    losing.loseAfterProcessing = true;
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(store.read(id).health()).as("the report was refused").isNull();
  }

  @Test
  void aLostDeliberateTryWhoseVerdictTheStoreRefused_keepsItsLease_overAnEarlierUnknownOutcome() {
    store.put(id, provider.seed());
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults aView = new Faults(store);
    TokenBroker a = instance("a", aView, losing, null);

    // a's refresh is lost on its way; the store takes the unknown outcome, but its reply is lost.
    losing.loseBeforeProcessing = true;
    aView.healthsAppliedButFailed.set(1);
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    HealthRecord first = store.read(id).health();
    assertThat(first.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(first.reason()).isEqualTo("rotation-outcome-unknown");

    // After the pause, the one deliberate try is lost too, and the store refuses its verdict: the
    // store still holds only the first report, which allows one more deliberate try.
    clock.advance(Duration.ofMinutes(1));
    losing.loseBeforeProcessing = true;
    aView.healths.set(1);
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.read(id).health().state()).isEqualTo(Health.State.DEGRADED);

    // So the lease must stay with its marker (seed 1304382): released, the next instance would
    // send the same refresh token at once, while a's lost request may still be in process.
    assertThat(store.tryAcquireLease(id, "probe", Duration.ofSeconds(30), 0))
        .as("the lease of the lost deliberate try is not released")
        .isNull();
  }

  @Test
  void anUnsavedAuthorizationWhoseSaveFailsAfterSeizingALeaseCutShort_leavesItsMarker() {
    aRenewalCutShortIsOnlyOnTheLease();
    Faults bView = new Faults(store);
    HeldRetries bRetries = new HeldRetries();
    TokenBroker b = instance("b", bView, provider, bRetries);
    bView.seizes.set(1); // b's authorization cannot take the lease: held unsaved, with none
    connect(b, id);
    assertThat(b.health(id).unsaved()).isTrue();

    // b's saver seizes the lease (its grant reports a's renewal cut short), then cannot read: it
    // gives up this attempt, and must not give the lease back, which would clear the marker (seed
    // 493522). b then stops before its next attempt.
    bView.readsFailingAfterSeize.set(1);
    bRetries.runAll();
    assertThat(b.health(id).unsaved()).isTrue();

    clock.advance(Duration.ofHours(3)); // every lease lapsed; the stored access token expired
    nextHolderReportsTheUnknownOutcomeFirst();
  }

  @Test
  void anImportRefusedAfterSeizingALeaseCutShort_leavesItsMarker() {
    aRenewalCutShortIsOnlyOnTheLease();
    TokenBroker b = instance("b", store, provider, null);
    // The store holds tokens, so the import is refused under the lease it seized; giving that
    // lease back would clear the marker of a's renewal.
    assertThatThrownBy(() -> b.importRefreshToken(id, "from-a-script"))
        .isInstanceOf(TokenBrokerException.class)
        .hasMessageContaining("already holds tokens");

    clock.advance(Duration.ofHours(3));
    nextHolderReportsTheUnknownOutcomeFirst();
  }

  @Test
  void storeForgetsDuringARenewal_andAnotherInstanceRecordsNotAuthorized_theHolderIsNotGivenUp() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    TokenBroker b = instance("b", store, provider, null);
    TokenProvider storeForgetsMeanwhile =
        new ForwardingProvider(provider) {
          @Override
          public TokenSet refresh(TokenSet current) {
            TokenSet issued = super.refresh(current);
            store.forget(id); // Redis restarted empty while the request was out
            // b, holding nothing, finds nothing and records that a person must connect it
            assertThatThrownBy(() -> b.accessToken(id))
                .isInstanceOf(ReauthorizationRequiredException.class);
            assertThat(store.read(id).health().reason()).isEqualTo("not-authorized");
            aView.reads.set(1); // and a cannot read the store when its save is refused
            return issued;
          }
        };
    TokenBroker a = instance("a", aView, storeForgetsMeanwhile, new HeldRetries());
    clock.advance(Duration.ofHours(3));

    // a holds the new set (unsaved): "nothing is held anywhere" is not true, so a reports the
    // store's failure, not a connection that needs a person (seed 616730).
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(TokenUnavailableException.class)
        .isNotInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.read(id).health().reason())
        .as("the stale verdict in the store is replaced by what failed")
        .isEqualTo("store-unavailable");

    // Once a can read the store, it writes its set back instead of giving the connection up.
    String served = a.accessToken(id);
    assertThat(store.read(id).tokens().accessToken()).isEqualTo(served);
    assertThat(b.accessToken(id)).isEqualTo(served);
  }

  @Test
  void anExplicitRefreshOfAnUnsavedSet_isNotSentWhileALostRequestMayBeInProcess() {
    store.put(id, provider.seed());
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults view = new Faults(store);
    TokenBroker a = instance("a", view, losing, new HeldRetries());
    clock.advance(Duration.ofHours(3));
    view.saves.set(1);
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // held unsaved, with the lease
    view.saves.set(1);
    losing.loseAfterProcessing = true; // the platform rotates refresh-2; the answer is lost
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    int sent = losing.requests.get();

    // At once, still unsaved: the lost request may still be in process at the platform, so not
    // even an explicit refresh sends refresh-2 again (seed 652613), as on the path from the store.
    view.saves.set(1);
    assertThatThrownBy(() -> a.refresh(id))
        .isInstanceOf(TokenUnavailableException.class)
        .satisfies(
            e ->
                assertThat(((TokenUnavailableException) e).health().reasonCode())
                    .isEqualTo("rotation-outcome-unknown"));
    assertThat(losing.requests).as("nothing sent during the pause").hasValue(sent);
  }

  @Test
  void aLostRefreshOfAnUnsavedAuthorization_isAnUnknownOutcome_notSupersededByTheOldChain() {
    TokenSet old = provider.seed();
    store.put(id, old); // the old chain, version 1
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults view = new Faults(store);
    HeldRetries retries = new HeldRetries();
    TokenBroker a = instance("a", view, losing, retries);
    clock.advance(Duration.ofMinutes(1));
    view.authorizes.set(1); // the new authorization is kept unsaved, with the lease it seized
    connect(a, id);
    assertThat(a.health(id).unsaved()).isTrue();

    view.authorizes.set(1); // still unsaved when the refresh goes out from it
    losing.loseAfterProcessing = true; // the platform rotates; the answer is lost
    // The stored set has a higher version than an unsaved one (which has none), but it is the old
    // chain, issued before: not a newer set that makes this failure moot (seed 812716).
    assertThatThrownBy(() -> a.refresh(id))
        .isInstanceOf(TokenUnavailableException.class)
        .satisfies(
            e ->
                assertThat(((TokenUnavailableException) e).health().reasonCode())
                    .isEqualTo("rotation-outcome-unknown"));

    retries.runAll(); // saved at last: the store must say its refresh token may be spent
    StoredConnection now = store.read(id);
    assertThat(now.tokens().accessToken()).isNotEqualTo(old.accessToken());
    assertThat(now.health()).isNotNull();
    assertThat(now.health().reason()).isEqualTo("rotation-outcome-unknown");
  }

  @Test
  void anUnsavedAuthorization_isServedOnceThePreviousChainsCachedTokenIsDue() {
    TokenSet seeded = provider.seed(); // expires in 2 h, due 5 min before
    store.put(id, seeded);
    Faults view = new Faults(store);
    HeldRetries retries = new HeldRetries();
    TokenBroker a = instance("a", view, provider, retries);
    assertThat(a.accessToken(id)).isEqualTo(seeded.accessToken());

    clock.advance(Duration.ofHours(1));
    view.authorizes.set(1_000); // the store refuses the new chain for the whole test
    TokenSet issued = connect(a, id);
    assertThat(a.health(id).unsaved()).isTrue();
    assertThat(a.accessToken(id))
        .as("FRESH: the previous chain's cached token, still valid at the platform")
        .isEqualTo(seeded.accessToken());

    clock.advance(Duration.ofMinutes(56)); // the old token is due, the new set is FRESH
    assertThat(a.accessToken(id))
        .as("a STALE hit returns what it found, and starts the background renewal")
        .isEqualTo(seeded.accessToken());
    assertThat(a.accessToken(id))
        .as("then the unsaved authorization, not a renewal of the old chain")
        .isEqualTo(issued.accessToken());
    assertThat(provider.calls).hasValue(0);
    assertThat(a.health(id).unsaved()).isTrue();

    // The renewal's save attempt failed and replaced the saver's record: the retry queued for the
    // old record stops at the swap, so the new record must have its own, or nothing would retry.
    view.authorizes.set(0);
    retries.runAll();
    assertThat(a.health(id).unsaved()).as("saved by the queued retry").isFalse();
    assertThat(store.read(id).tokens().accessToken()).isEqualTo(issued.accessToken());
  }

  @Test
  void aLostRefreshOfAnUnsavedAuthorization_underTheOldChainsVerdict_isSavedAsAnUnknownOutcome() {
    store.put(id, provider.seed());
    clock.advance(Duration.ofHours(3));
    TokenBroker b = instance("b", store, provider, null);
    provider.failNext(
        TokenEndpointException.builder("fake")
            .httpStatus(400)
            .error("invalid_grant")
            .kind(TokenEndpointException.Kind.PERMANENT)
            .reason("refresh token rejected")
            .build());
    assertThatThrownBy(() -> b.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.read(id).health().state())
        .as("the old chain's verdict")
        .isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);

    // A person reconnects through a; the store refuses the new chain, and keeps refusing it while
    // a refresh of it goes out and loses its answer (the platform rotated).
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    Faults view = new Faults(store);
    HeldRetries retries = new HeldRetries();
    TokenBroker a = instance("a", view, losing, retries);
    view.authorizes.set(2);
    connect(a, id);
    assertThat(a.health(id).unsaved()).isTrue();
    losing.loseAfterProcessing = true;
    // The failure is recorded under the store's record about the old chain, which outranks it
    // (seed 1389769): the health this instance reports says nothing of the lost answer.
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(TokenUnavailableException.class);

    retries.runAll(); // the store takes the new chain at last
    StoredConnection now = store.read(id);
    assertThat(now.tokens()).isNotNull();
    assertThat(now.health())
        .as("saved with the report that its refresh token may be spent, not as a plain renewal")
        .isNotNull();
    assertThat(now.health().reason()).isEqualTo("rotation-outcome-unknown");
  }

  @Test
  void aRevokesRefreshThatLosesItsRequest_holdsOffTheNextRenewal_evenAfterTheStoreForgets() {
    store.put(id, provider.seed());
    OutcomeUnknownTest.LosingProvider losing = new OutcomeUnknownTest.LosingProvider(provider);
    TokenBroker a = instance("a", store, rejectingRevoke(losing), null);
    a.accessToken(id); // a holds the set: it writes it back when the store loses the record
    losing.loseBeforeProcessing = true; // the refresh the revocation needs is lost on its way
    assertThatThrownBy(() -> a.revoke(id)).isInstanceOf(RuntimeException.class);
    int sent = losing.requests.get();

    store.forget(id); // and the store loses the record, the lease's marker with it
    clock.advance(Duration.ofMillis(10));
    assertThatThrownBy(() -> a.refresh(id))
        .as("held off: the lost request may still be in process at the platform (seed 1551872)")
        .isInstanceOf(TokenUnavailableException.class);
    assertThat(losing.requests).hasValue(sent);
  }

  @Test
  void anUnsavedSetDroppedAfterARevokeElsewhere_isNoLongerServedFromTheCache() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenBroker a = instance("a", aView, provider, aRetries);
    clock.advance(Duration.ofHours(3));
    aView.saves.set(1);
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // held unsaved, cached, with the lease

    TokenBroker b = instance("b", store, provider, null);
    b.revoke(id); // seizes the lease and leaves a tombstone
    aRetries.runAll(); // a's saver finds its lease gone and the tombstone: the set is dropped

    assertThat(a.health(id).unsaved()).isFalse();
    assertThatThrownBy(() -> a.accessToken(id))
        .as("the dropped set is not served from the cache after the revoke")
        .isInstanceOf(ReauthorizationRequiredException.class);
  }

  @Test
  void anUnsavedAuthorizationWithoutALease_doesNotWriteOverANewerAuthorizationSavedMeanwhile() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenBroker a = instance("a", aView, provider, aRetries);
    aView.seizes.set(1); // a's authorization cannot take the lease: held unsaved, with none
    TokenSet older = connect(a, id);
    assertThat(a.health(id).unsaved()).isTrue();

    clock.advance(Duration.ofMinutes(1));
    TokenBroker b = instance("b", store, provider, null);
    TokenSet newer = connect(b, id); // a person authorizes again, through another instance
    assertThat(newer.accessToken()).isNotEqualTo(older.accessToken());

    aRetries.runAll(); // a's saver seizes the lease at last: it must see b's set and give way
    assertThat(store.read(id).tokens().accessToken())
        .as("the newer authorization, not the older one saved late over it (seed 100333)")
        .isEqualTo(newer.accessToken());
    assertThat(a.health(id).unsaved()).isFalse();
    assertThat(a.accessToken(id)).isEqualTo(newer.accessToken());
  }

  @Test
  void storeForgetsDuringARenewal_andANewAuthorizationIsSaved_theOldChainsLaterAnswerLoses() {
    store.put(id, provider.seed()); // v1
    TokenBroker b = instance("b", store, provider, null);
    TokenProvider oldChainAnswersLate =
        new ForwardingProvider(provider) {
          @Override
          public TokenSet refresh(TokenSet current) {
            clock.advance(Duration.ofMillis(1));
            store.forget(id); // Redis restarted empty, versions and all
            connect(b, id); // a person reconnects: a new chain, saved as v1 again
            clock.advance(Duration.ofMillis(1));
            return TokenSet.builder() // then the old chain's answer arrives, issued last
                .accessToken("old-chain-access")
                .refreshToken("old-chain-refresh")
                .expiresAt(clock.instant().plus(Duration.ofHours(2)))
                .issuedAt(clock.instant())
                .build();
          }
        };
    TokenBroker a = instance("a", store, oldChainAnswersLate, null);
    clock.advance(Duration.ofHours(3));
    String served = a.accessToken(id);

    TokenSet stored = store.read(id).tokens();
    assertThat(stored.accessToken())
        .as("the new authorization, not the old chain written back over it")
        .isNotEqualTo("old-chain-access");
    assertThat(served).isEqualTo(stored.accessToken());
    assertThat(b.accessToken(id)).isEqualTo(stored.accessToken());
  }

  @Test
  void anUnsavedSetIsRenewedOnlyAfterTheStoreTookTheRenewalMarker() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    TokenBroker a = instance("a", aView, provider, new HeldRetries());
    clock.advance(Duration.ofHours(3));
    aView.saves.set(1);
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // refresh-2 held unsaved
    assertThat(provider.calls).hasValue(1);

    clock.advance(Duration.ofHours(3)); // access-2 expired, still unsaved
    aView.saves.set(1);
    aView.marks.set(1);
    assertThatThrownBy(() -> a.accessToken(id)).isInstanceOf(TokenUnavailableException.class);
    assertThat(provider.calls)
        .as("no request the store was not told of: a crash now would leave no trace")
        .hasValue(1);

    assertThat(a.accessToken(id)).isEqualTo("access-3"); // the store is back: saved, then renewed
    assertThat(store.read(id).tokens().accessToken()).isEqualTo("access-3");
  }

  @Test
  void revokeRenewingFromMemoryAfterTheStoreLostTheRecord_neverOverwritesANewerAuthorization() {
    store.put(id, provider.seed()); // v1
    Faults aView = new Faults(store);
    HeldRetries aRetries = new HeldRetries();
    TokenBroker a = instance("a", aView, rejectingRevoke(provider), aRetries);
    clock.advance(Duration.ofHours(3));
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    clock.advance(Duration.ofHours(3));
    assertThat(a.accessToken(id)).isEqualTo("access-3"); // A remembers version 3
    store.forget(id); // the store restarted empty
    clock.advance(Duration.ofSeconds(1));

    Faults bView = new Faults(store);
    HeldRetries bRetries = new HeldRetries();
    TokenBroker b =
        instance(
            "b",
            bView,
            new ForwardingProvider(provider) {
              @Override
              public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
                return TokenSet.builder()
                    .accessToken("new-chain-access")
                    .refreshToken("new-chain-refresh")
                    .expiresAt(clock.instant().plus(Duration.ofHours(2)))
                    .issuedAt(clock.instant())
                    .build();
              }
            },
            bRetries);
    bView.seizes.set(1);
    connect(b, id); // a person reconnects on B; the store cannot take it yet
    clock.advance(Duration.ofSeconds(1));

    aView.saves.set(1); // A's revoke renews the old chain from memory; that save fails
    assertThatThrownBy(() -> a.revoke(id)).isInstanceOf(TokenBrokerException.class);
    bRetries.runAll(); // B's authorization is saved (v1 of a store that forgot v3)
    assertThat(store.read(id).tokens().accessToken()).isEqualTo("new-chain-access");

    aRetries.runAll(); // A's old-chain set finds its lease seized
    assertThat(store.read(id).tokens().accessToken())
        .as("the old chain, renewed from A's memory, is not written over the new authorization")
        .isEqualTo("new-chain-access");
  }

  @Test
  void revokeWhoseTombstoneTheStoreRefuses_saysThePlatformRevoked_andKeepsTheLease() {
    store.put(id, provider.seed());
    Faults aView = new Faults(store);
    List<String> revokedAtPlatform = new ArrayList<>();
    TokenBroker a =
        instance(
            "a",
            aView,
            new ForwardingProvider(provider) {
              @Override
              public void revoke(TokenSet current, Revocation revocation) {
                revokedAtPlatform.add(current.accessToken());
              }
            },
            null);
    assertThat(a.accessToken(id)).isEqualTo("access-1");
    aView.tombstones.set(1);

    assertThatThrownBy(() -> a.revoke(id))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("revoked at the platform")
        .hasMessageContaining("run revoke again");
    assertThat(revokedAtPlatform).containsExactly("access-1");
    assertThat(a.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThatThrownBy(() -> a.accessToken(id))
        .as("the revoked token is not served from the cache")
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.tryAcquireLease(id, "probe", Duration.ofSeconds(90), TokenStore.NO_FENCE))
        .as("no instance renews from the dead stored set until the lease expires")
        .isNull();

    a.revoke(id); // the second revoke records it
    assertThat(store.read(id).tombstone()).isNotNull();
    assertThat(store.read(id).tokens()).isNull();
  }

  @Test
  void aFreshInstanceReportsTheStoredRenewal_andAStoreItCannotReadIsNotActive() {
    TokenSet seeded = provider.seed();
    store.put(id, seeded);
    clock.advance(Duration.ofMinutes(30));
    Faults view = new Faults(store);
    TokenBroker fresh = instance("fresh", view, provider, null);

    Health h = fresh.health(id);
    assertThat(h.state()).isEqualTo(Health.State.ACTIVE);
    assertThat(h.lastRenewalAt())
        .as("renewed by another process: the set's issue time, not 'never'")
        .isEqualTo(seeded.issuedAt());

    view.reads.set(1);
    Health unread = fresh.health(id);
    assertThat(unread.state())
        .as("a process that cannot read the store knows nothing to call ACTIVE")
        .isEqualTo(Health.State.DEGRADED);
    assertThat(unread.reasonCode()).isEqualTo("store-unavailable");
    assertThat(unread.reason()).contains("simulated store failure");
  }
}
