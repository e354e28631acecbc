package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A store that forgets or goes back in time, on the memory store: the instance holding the newest
 * set writes it back ({@code STORE_RESTORED}, newest version wins), a tombstone is never revived,
 * and a person is asked for only when no instance holds anything. The store's mishap is forced at a
 * chosen moment: between renewals ({@link InMemoryTokenStore#forget}, or an older set put back), or
 * in the middle of a renewal's save (a hook in the save that restarts the store empty or rolls it
 * back).
 */
class StoreForgetsTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final RestartableStore store = new RestartableStore(clock);
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
  }

  /**
   * A memory store that can be restarted empty — token sets, health, tombstones, leases and fences
   * all gone — or put back to an older set, with a hook run before each compare-and-set.
   */
  static final class RestartableStore extends ForwardingTokenStore {
    private final Clock clock;
    private volatile InMemoryTokenStore current;
    volatile @Nullable Consumer<RestartableStore> beforeSave;

    RestartableStore(Clock clock) {
      this(clock, new InMemoryTokenStore(clock));
    }

    private RestartableStore(Clock clock, InMemoryTokenStore first) {
      super(first);
      this.clock = clock;
      this.current = first;
    }

    /** A restart without persistence: nothing is left, not even fences. */
    void restartEmpty() {
      current = new InMemoryTokenStore(clock);
    }

    /** Goes back in time to {@code older}: restarted from an old snapshot. */
    void rollBackTo(ConnectionId id, TokenSet older) {
      restartEmpty();
      current.restore(id, older);
    }

    InMemoryTokenStore current() {
      return current;
    }

    /** Runs {@code hook} once, just before the next compare-and-set reaches the store. */
    void onceBeforeSave(Consumer<RestartableStore> hook) {
      AtomicInteger left = new AtomicInteger(1);
      beforeSave =
          s -> {
            if (left.getAndDecrement() > 0) {
              hook.accept(s);
            }
          };
    }

    @Override
    protected TokenStore delegate() {
      return current; // swapped by a restart
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      Consumer<RestartableStore> hook = beforeSave;
      if (hook != null) {
        hook.accept(this);
      }
      return super.compareAndSet(id, expectedVersion, tokens, lease);
    }
  }

  private TokenBroker instance() {
    return instance(store);
  }

  private TokenBroker instance(TokenStore s) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(s)
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

  private long count(TokenEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  /** Two instances serving the connection; the first renews it to version 2, both see it. */
  private TokenSet twoInstancesAtVersion2(TokenBroker a, TokenBroker b) {
    store.put(id, provider.seed());
    a.accessToken(id);
    b.accessToken(id);
    clock.advance(Duration.ofHours(3));
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    assertThat(b.accessToken(id)).isEqualTo("access-2");
    assertThat(provider.calls).hasValue(1);
    return store.load(id);
  }

  @Test
  void forgottenRecord_isWrittenBackByTheInstanceHoldingIt_andNobodyIsAskedToReconnect() {
    TokenBroker a = instance();
    TokenBroker b = instance();
    TokenSet v2 = twoInstancesAtVersion2(a, b);

    store.current().forget(id);

    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isEqualTo(1);
    assertThat(store.load(id)).isEqualTo(v2);
    // A new instance finds it as if nothing happened; the chain goes on from the live token.
    TokenBroker c = instance();
    assertThat(c.accessToken(id)).isEqualTo("access-2");
    clock.advance(Duration.ofHours(3));
    assertThat(c.accessToken(id)).isEqualTo("access-3");
    assertThat(b.accessToken(id)).isEqualTo("access-3");
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  @Test
  void forgottenRecord_atTheHoldersNextRenewal_isWrittenBackThenRenewed() {
    TokenBroker a = instance();
    TokenBroker b = instance();
    twoInstancesAtVersion2(a, b);

    store.current().forget(id);
    clock.advance(Duration.ofHours(2).minusMinutes(2)); // STALE: a renewal starts at once

    assertThat(b.accessToken(id)).isIn("access-2", "access-3");
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isEqualTo(1);
    assertThat(store.load(id).refreshToken()).isEqualTo("refresh-3");
    assertThat(store.load(id).version()).isEqualTo(3);
    assertThat(a.accessToken(id)).isIn("access-2", "access-3");
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  @Test
  void storeBackToAnOlderVersion_theNewerSetHeldIsWrittenBack() {
    TokenSet v1 = store.put(id, provider.seed());
    TokenBroker a = instance();
    a.accessToken(id);
    clock.advance(Duration.ofHours(3));
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // refresh-1 is spent

    store.rollBackTo(id, v1); // an old snapshot: version 1, with its dead refresh token

    assertThat(a.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isEqualTo(1);
    assertThat(store.load(id).version()).isEqualTo(2);
    assertThat(store.load(id).refreshToken()).isEqualTo("refresh-2");
    TokenBroker c = instance();
    clock.advance(Duration.ofHours(3));
    assertThat(c.accessToken(id)).isEqualTo("access-3");
    assertThat(provider.invalidGrants).hasValue(0);
  }

  @Test
  void storeRestartedEmptyWhileARenewalSaves_theRotatedSetIsWrittenBack_notDropped() {
    TokenBroker a = instance();
    TokenBroker b = instance();
    twoInstancesAtVersion2(a, b);
    clock.advance(Duration.ofHours(3));
    // Between the platform's answer and the save, the store restarts: the lease went with it.
    store.onceBeforeSave(RestartableStore::restartEmpty);

    assertThat(a.accessToken(id)).isEqualTo("access-3");
    TokenSet stored = store.load(id);
    assertThat(stored).as("the rotated set was written back").isNotNull();
    assertThat(stored.refreshToken()).isEqualTo("refresh-3");
    assertThat(stored.version()).isGreaterThan(2);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isEqualTo(1);

    clock.advance(Duration.ofHours(3));
    assertThat(b.accessToken(id)).isEqualTo("access-4");
    assertThat(provider.invalidGrants).hasValue(0);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  @Test
  void storeRolledBackWhileARenewalSaves_andAnOlderSetWrittenBackMeanwhile_theLiveSetWins() {
    TokenSet v1 = store.put(id, provider.seed());
    TokenBroker a = instance();
    a.accessToken(id);
    clock.advance(Duration.ofHours(3));
    assertThat(a.accessToken(id)).isEqualTo("access-2");
    TokenSet v2 = store.load(id);
    clock.advance(Duration.ofHours(3));
    // The save of version 3 finds the store rolled back to version 1 (the renewal's lease kept);
    // before its second try another instance writes back the version 2 it held.
    AtomicInteger saves = new AtomicInteger();
    store.beforeSave =
        s -> {
          int n = saves.incrementAndGet();
          if (n == 1) {
            Lease held = s.current().seizeLease(id, "ignored", Duration.ofSeconds(1), 0);
            s.current().forget(id);
            s.current().restore(id, v1);
            s.current().releaseLease(held);
          } else if (n == 2) {
            s.current().restore(id, v2);
          }
        };
    String served;
    try {
      served = a.accessToken(id);
    } catch (TokenUnavailableException e) {
      served = null;
    }
    store.beforeSave = null;
    TokenSet stored = store.load(id);
    assertThat(stored.refreshToken())
        .as("the store holds the live refresh token, not the one the renewal spent")
        .isEqualTo("refresh-3");
    assertThat(stored.version()).isGreaterThan(2);
    assertThat(served).isEqualTo("access-3");

    clock.advance(Duration.ofHours(3));
    assertThat(instance().accessToken(id)).isEqualTo("access-4");
    assertThat(provider.invalidGrants).hasValue(0);
  }

  @Test
  void revokedConnection_isNeverWrittenBack_byAnInstanceStillHoldingItsTokens() {
    TokenBroker a = instance();
    TokenBroker b = instance();
    twoInstancesAtVersion2(a, b);

    b.revoke(id);
    assertThat(store.read(id).tombstone()).isNotNull();

    // The other instance still holds version 2 and reads the store: it must not revive it.
    assertThat(a.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(a.health(id).reasonCode()).isEqualTo("revoked");
    clock.advance(Duration.ofHours(3));
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThatThrownBy(() -> a.refresh(id)).isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.read(id).tokens()).isNull();
    assertThat(store.read(id).tombstone()).isNotNull();
    assertThat(store.connections()).doesNotContain(id);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isZero();
    assertThat(provider.calls).hasValue(1);
  }

  @Test
  void revokedWhileTheOnlyCopyOfARotatedSetWasUnsaved_itIsDropped_notWrittenBack() {
    store.put(id, provider.seed());
    FailingSaves failing = new FailingSaves(store);
    TokenBroker a = instance(failing);
    TokenBroker b = instance();
    a.accessToken(id);
    clock.advance(Duration.ofHours(3));
    failing.failing = true;
    assertThat(a.accessToken(id)).isEqualTo("access-2"); // served, unsaved, lease kept
    assertThat(a.health(id).unsaved()).isTrue();

    b.revoke(id); // seizes the lease and leaves a tombstone
    failing.failing = false;

    clock.advance(Duration.ofHours(3));
    assertThatThrownBy(() -> a.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class);
    assertThat(store.read(id).tombstone()).isNotNull();
    assertThat(store.read(id).tokens()).isNull();
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isZero();
  }

  @Test
  void nobodyHoldsAnything_aPersonIsAskedFor() {
    TokenBroker a = instance();
    TokenBroker b = instance();
    twoInstancesAtVersion2(a, b);
    a.close();
    b.close();
    store.restartEmpty(); // and every instance that held the connection is gone too

    // A new instance cannot tell a record the store lost from one never written: either way a
    // person must connect it again, and nothing is sent.
    TokenBroker c = instance();
    assertThatThrownBy(() -> c.accessToken(id))
        .isInstanceOf(ReauthorizationRequiredException.class)
        .satisfies(
            e ->
                assertThat(((ReauthorizationRequiredException) e).health().reasonCode())
                    .isIn("store-lost-record", "not-authorized"));
    assertThat(c.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isEqualTo(1);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isZero();
    assertThat(provider.calls).hasValue(1);
  }

  /** Fails every save while {@link #failing}, as a full disk would. */
  static final class FailingSaves extends ForwardingTokenStore {
    volatile boolean failing;

    FailingSaves(TokenStore delegate) {
      super(delegate);
    }

    @Override
    public TokenSet compareAndSet(
        ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
      if (failing) {
        throw new TokenStoreException(id, "No space left on device", null);
      }
      return super.compareAndSet(id, expectedVersion, tokens, lease);
    }

    @Override
    public StoredConnection restore(ConnectionId id, TokenSet tokens) {
      if (failing) {
        throw new TokenStoreException(id, "No space left on device", null);
      }
      return super.restore(id, tokens);
    }
  }
}
