package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link TokenStore} contract, run against every implementation. A subclass supplies an empty
 * store on the given clock for each test. Published in core's test-jar: the JDBC and Redis modules
 * run this same contract against their stores.
 */
public abstract class TokenStoreContractTest {
  protected static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  protected static final Duration TTL = Duration.ofSeconds(30);

  protected final ContractClock clock = new ContractClock(T0);
  protected TokenStore store;

  /** An empty store whose leases expire by {@code clock}. */
  protected abstract TokenStore createStore(Clock clock) throws Exception;

  /** Makes {@code lease} expire; stores whose leases run on the store's clock advance it. */
  protected void expire(Lease lease) throws Exception {
    clock.set(lease.expiresAt().plusMillis(1));
  }

  @BeforeEach
  void openStore() throws Exception {
    store = createStore(clock);
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  protected static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  protected static final ConnectionId SELLER = ConnectionId.of("naver", "seller:12345");
  protected static final ConnectionId ODD = ConnectionId.of("kakao", "Shop/Bot..%7e~한글");

  /** The store's time now: the test clock, or the database's for stores on their own clock. */
  protected Instant storeNow() {
    return clock.instant();
  }

  protected static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
        .build();
  }

  /** A compare-and-set under a lease of its own, as a renewal makes it. */
  protected TokenSet cas(ConnectionId id, long expectedVersion, TokenSet tokens) {
    Lease lease = store.seizeLease(id, "writer", TTL, TokenStore.NO_FENCE);
    try {
      return store.compareAndSet(id, expectedVersion, tokens, lease);
    } finally {
      store.releaseLease(lease);
    }
  }

  // ---------------------------------------------------------------- load and compare-and-set

  @Test
  void load_nothingStored_returnsNull() {
    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_fromZero_savesVersionOne() {
    TokenSet saved = cas(MALL, 0, tokens("a"));

    assertThat(saved.version()).isEqualTo(1);
    assertThat(saved.sameTokensAs(tokens("a"))).isTrue();
    assertThat(store.load(MALL)).isEqualTo(saved);
  }

  @Test
  void compareAndSet_roundTripsEveryField() {
    TokenSet rich =
        TokenSet.builder()
            .accessToken("at.with.dots-and_ünïcode/+=")
            .tokenType("MAC")
            .refreshToken("rt\"quoted\\")
            .issuedAt(Instant.parse("2026-03-01T01:02:03.123456789Z"))
            .expiresAt(Instant.parse("2026-03-01T03:02:03.000000001Z"))
            .refreshExpiresAt(Instant.parse("2026-05-01T00:00:00Z"))
            .scopes(List.of("mall.read_product", "mall.write_order", "한글"))
            .extra("mall_id", "mymall")
            .extra("shop_no", "1")
            .extra("emoji", "🛒")
            .build();

    cas(ODD, 0, rich);

    TokenSet loaded = store.load(ODD);
    assertThat(loaded).isNotNull();
    assertThat(loaded.sameTokensAs(rich)).isTrue();
    assertThat(loaded.version()).isEqualTo(1);
  }

  @Test
  void compareAndSet_withoutRefreshToken_roundTrips() {
    TokenSet clientCredentials =
        TokenSet.builder()
            .accessToken("only-access")
            .issuedAt(T0)
            .expiresAt(T0.plusSeconds(10800))
            .build();

    cas(SELLER, 0, clientCredentials);

    TokenSet loaded = store.load(SELLER);
    assertThat(loaded.sameTokensAs(clientCredentials)).isTrue();
    assertThat(loaded.refreshToken()).isNull();
    assertThat(loaded.refreshExpiresAt()).isNull();
  }

  @Test
  void compareAndSet_successiveSaves_incrementTheVersion() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));
    TokenSet third = cas(MALL, 2, tokens("c"));

    assertThat(third.version()).isEqualTo(3);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-c");
  }

  @Test
  void compareAndSet_ignoresTheVersionOfTheGivenSet() {
    TokenSet saved = cas(MALL, 0, tokens("a").withVersion(42));

    assertThat(saved.version()).isEqualTo(1);
    assertThat(store.load(MALL).version()).isEqualTo(1);
  }

  @Test
  void compareAndSet_fromZeroWhenSomethingIsStored_conflictsAndKeepsTheStoredSet() {
    cas(MALL, 0, tokens("a"));

    assertThatThrownBy(() -> cas(MALL, 0, tokens("b")))
        .isInstanceOfSatisfying(
            VersionConflictException.class,
            e -> {
              assertThat(e.expectedVersion()).isZero();
              assertThat(e.actualVersion()).isEqualTo(1);
              assertThat(e.connection()).isEqualTo(MALL);
            });
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  void compareAndSet_staleVersion_conflictsWithTheActualVersion() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));

    assertThatThrownBy(() -> cas(MALL, 1, tokens("c")))
        .isInstanceOfSatisfying(
            VersionConflictException.class,
            e -> {
              assertThat(e.expectedVersion()).isEqualTo(1);
              assertThat(e.actualVersion()).isEqualTo(2);
            });
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-b");
  }

  @Test
  void compareAndSet_expectingAVersionWhenNothingIsStored_conflictsWithZero() {
    assertThatThrownBy(() -> cas(MALL, 3, tokens("a")))
        .isInstanceOfSatisfying(
            VersionConflictException.class, e -> assertThat(e.actualVersion()).isZero());
    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_conflictMessage_namesTheConnectionAndNoToken() {
    cas(MALL, 0, tokens("secretvalue"));

    assertThatThrownBy(() -> cas(MALL, 0, tokens("othersecret")))
        .hasMessageContaining(MALL.toString())
        .hasMessageNotContaining("secretvalue")
        .hasMessageNotContaining("othersecret");
  }

  @Test
  void connections_keepTheirOwnSets() {
    cas(MALL, 0, tokens("mall"));
    cas(SELLER, 0, tokens("seller"));
    cas(SELLER, 1, tokens("seller2"));

    assertThat(store.load(MALL).accessToken()).isEqualTo("access-mall");
    assertThat(store.load(MALL).version()).isEqualTo(1);
    assertThat(store.load(SELLER).accessToken()).isEqualTo("access-seller2");
    assertThat(store.load(SELLER).version()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- list

  @Test
  void connections_listsEveryStoredConnectionSorted() {
    assertThat(store.connections()).isEmpty();

    cas(SELLER, 0, tokens("1"));
    cas(ODD, 0, tokens("2"));
    cas(MALL, 0, tokens("3"));

    assertThat(store.connections()).containsExactly(MALL, ODD, SELLER);
  }

  // ---------------------------------------------------------------- lease

  @Test
  void tryAcquireLease_free_grantsItUntilNowPlusTtl() {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    assertThat(lease).isNotNull();
    assertThat(lease.connection()).isEqualTo(MALL);
    assertThat(lease.owner()).isEqualTo("instance-a");
    assertThat(lease.expiresAt()).isEqualTo(T0.plus(TTL));
  }

  @Test
  void tryAcquireLease_heldByAnother_returnsNull() {
    store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
  }

  @Test
  void tryAcquireLease_oneMillisecondBeforeExpiry_isStillHeld() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    clock.set(a.expiresAt().minusMillis(1));

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
  }

  @Test
  void tryAcquireLease_bySameOwner_extendsItWithALargerFence() {
    Lease first = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    clock.set(T0.plusSeconds(10));

    Lease second = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    assertThat(second).isNotNull();
    assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(second.expiresAt()).isEqualTo(T0.plusSeconds(10).plus(TTL));
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
  }

  @Test
  void tryAcquireLease_afterExpiry_grantsAnotherOwnerALargerFence() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    expire(a);

    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);

    assertThat(b).isNotNull();
    assertThat(b.owner()).isEqualTo("instance-b");
    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
  }

  @Test
  void releaseLease_current_freesItForOthers() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    store.releaseLease(a);

    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);
    assertThat(b).isNotNull();
    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
  }

  @Test
  void releaseLease_withAnExpiredFence_leavesTheNewHolderAlone() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    expire(a);
    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);
    assertThat(b).isNotNull();

    store.releaseLease(a); // too late: b holds it now

    assertThat(store.tryAcquireLease(MALL, "instance-c", TTL, TokenStore.NO_FENCE)).isNull();
    store.releaseLease(b);
    assertThat(store.tryAcquireLease(MALL, "instance-c", TTL, TokenStore.NO_FENCE)).isNotNull();
  }

  @Test
  void releaseLease_afterOwnReacquire_staleFenceDoesNotRelease() {
    Lease first = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    Lease second = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    store.releaseLease(first);

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
    store.releaseLease(second);
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNotNull();
  }

  @Test
  void leases_arePerConnection() {
    assertThat(store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE)).isNotNull();

    assertThat(store.tryAcquireLease(SELLER, "instance-b", TTL, TokenStore.NO_FENCE)).isNotNull();
  }

  @Test
  void lease_onAConnectionWithNothingStored_doesNotListOrCreateIt() {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    assertThat(store.connections()).isEmpty();
    assertThat(store.load(MALL)).isNull();
    assertThat(store.compareAndSet(MALL, 0, tokens("a"), lease).version()).isEqualTo(1);
    store.releaseLease(lease);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  void lease_doesNotChangeTheStoredSet() {
    cas(MALL, 0, tokens("a"));
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    store.releaseLease(lease);

    assertThat(store.load(MALL).version()).isEqualTo(1);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  // ---------------------------------------------------------------- fenced writes

  private Lease lease(ConnectionId id, String owner) {
    Lease lease = store.tryAcquireLease(id, owner, TTL, TokenStore.NO_FENCE);
    assertThat(lease).as("lease for " + owner).isNotNull();
    return lease;
  }

  @Test
  void compareAndSet_underALeaseAnotherOwnerTookOver_isRejectedAndChangesNothing()
      throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = lease(MALL, "instance-a");
    expire(a);
    Lease b = lease(MALL, "instance-b");

    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("late"), a))
        .isInstanceOfSatisfying(
            StaleLeaseException.class, e -> assertThat(e.connection()).isEqualTo(MALL));
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
    assertThat(store.compareAndSet(MALL, 1, tokens("b"), b).version()).isEqualTo(2);
  }

  @Test
  void compareAndSet_underAnExpiredLeaseNobodyTookOver_isAccepted() throws Exception {
    Lease a = lease(MALL, "instance-a");
    expire(a);

    assertThat(store.compareAndSet(MALL, 0, tokens("a"), a).version()).isEqualTo(1);
  }

  @Test
  void compareAndSet_underAReleasedLease_isRejected() {
    Lease a = lease(MALL, "instance-a");
    store.releaseLease(a);

    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("a"), a))
        .isInstanceOf(StaleLeaseException.class);
    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_underALeaseOfAnotherConnection_isRejected() {
    Lease sellers = lease(SELLER, "instance-a");
    lease(MALL, "instance-b");

    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("a"), relabel(sellers, MALL)))
        .isInstanceOf(StaleLeaseException.class);
  }

  private static Lease relabel(Lease lease, ConnectionId id) {
    return new Lease(id, lease.owner(), lease.fencingToken(), lease.expiresAt());
  }

  @Test
  void seizeLease_heldByAnother_takesItAndFencesTheHolderOut() {
    cas(MALL, 0, tokens("a"));
    Lease renewal = lease(MALL, "instance-a");

    Lease seized = store.seizeLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);

    assertThat(seized.fencingToken()).isGreaterThan(renewal.fencingToken());
    assertThat(seized.owner()).isEqualTo("instance-b");
    assertThat(store.authorize(MALL, tokens("new-chain"), seized).version()).isEqualTo(2);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("old-chain"), renewal))
        .isInstanceOf(StaleLeaseException.class);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 2, tokens("old-chain"), renewal))
        .isInstanceOf(StaleLeaseException.class);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-new-chain");
    assertThat(store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE)).isNull();
  }

  @Test
  void extendLease_current_keepsTheFenceAndMovesTheExpiry() {
    Lease a = lease(MALL, "instance-a");
    clock.advance(Duration.ofSeconds(20));

    Lease extended = store.extendLease(a, TTL);

    assertThat(extended).isNotNull();
    assertThat(extended.fencingToken()).isEqualTo(a.fencingToken());
    assertThat(extended.expiresAt()).isAfter(a.expiresAt());
    clock.set(a.expiresAt().plusSeconds(1)); // past the first expiry, inside the extended one
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();
    assertThat(store.compareAndSet(MALL, 0, tokens("a"), extended).version()).isEqualTo(1);
  }

  @Test
  void extendLease_afterAnotherOwnerTookOver_returnsNull() throws Exception {
    Lease a = lease(MALL, "instance-a");
    expire(a);
    lease(MALL, "instance-b");

    assertThat(store.extendLease(a, TTL)).isNull();
  }

  @Test
  void tryAcquireLease_minFenceAboveTheStoresOwn_grantsAboveIt() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, 1_000);

    assertThat(a.fencingToken()).isGreaterThan(1_000);
    store.releaseLease(a);
    assertThat(lease(MALL, "instance-b").fencingToken()).isGreaterThan(a.fencingToken());
  }

  // ---------------------------------------------------------------- the renewal marker

  @Test
  void markRenewing_holderNeverSavedNorReleased_nextOwnerSeesTheRenewalCutShort() throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = lease(MALL, "instance-a");
    clock.advance(Duration.ofSeconds(3));
    Instant started = clock.instant();
    store.markRenewing(a);
    expire(a); // instance-a crashed mid-renewal

    Lease b = lease(MALL, "instance-b");

    assertThat(b.renewalCutShortAt()).isNotNull();
    assertThat(Duration.between(started, b.renewalCutShortAt()).abs())
        .isLessThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void markRenewing_theNextGrantsReplyLost_theOwnerAfterItStillSeesTheRenewalCutShort()
      throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = lease(MALL, "instance-a");
    store.markRenewing(a);
    expire(a); // instance-a crashed mid-renewal
    Lease b = lease(MALL, "instance-b");
    assertThat(b.renewalCutShortAt()).isNotNull();
    expire(b); // the grant's reply never reached instance-b: it neither marked nor released

    Lease c = store.seizeLease(MALL, "instance-c", Duration.ofSeconds(90), TokenStore.NO_FENCE);

    assertThat(c.renewalCutShortAt()).isEqualTo(b.renewalCutShortAt());
    store.compareAndSet(MALL, 1, tokens("c"), c); // a save under the lease clears it
    store.releaseLease(c);
    assertThat(lease(MALL, "instance-d").renewalCutShortAt()).isNull();
  }

  @Test
  void markRenewing_thenSaved_nextOwnerSeesNothingCutShort() throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = lease(MALL, "instance-a");
    store.markRenewing(a);
    store.compareAndSet(MALL, 1, tokens("b"), a);
    expire(a);

    assertThat(lease(MALL, "instance-b").renewalCutShortAt()).isNull();
  }

  @Test
  void markRenewing_thenReleased_nextOwnerSeesNothingCutShort() {
    Lease a = lease(MALL, "instance-a");
    store.markRenewing(a);
    store.releaseLease(a);

    assertThat(lease(MALL, "instance-b").renewalCutShortAt()).isNull();
  }

  @Test
  void lease_withoutAMarker_reportsNothingCutShort() throws Exception {
    Lease a = lease(MALL, "instance-a");
    expire(a);

    assertThat(lease(MALL, "instance-b").renewalCutShortAt()).isNull();
  }

  @Test
  void markRenewing_underAStaleLease_isRejected() throws Exception {
    Lease a = lease(MALL, "instance-a");
    expire(a);
    lease(MALL, "instance-b");

    assertThatThrownBy(() -> store.markRenewing(a)).isInstanceOf(StaleLeaseException.class);
  }

  // ---------------------------------------------------------------- authorize, tombstone, restore

  @Test
  void authorize_overAStoredSet_continuesTheVersionAndClearsHealth() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));
    store.compareAndSetHealth(MALL, 0, failing(2));
    Lease lease = store.seizeLease(MALL, "connect", TTL, TokenStore.NO_FENCE);

    TokenSet saved = store.authorize(MALL, tokens("fresh"), lease);

    assertThat(saved.version()).isEqualTo(3);
    StoredConnection read = store.read(MALL);
    assertThat(read.tokens().accessToken()).isEqualTo("access-fresh");
    assertThat(read.health()).isNull();
    assertThat(read.tombstone()).isNull();
  }

  @Test
  void authorize_underAStaleLease_isRejected() throws Exception {
    Lease a = lease(MALL, "instance-a");
    store.seizeLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);

    assertThatThrownBy(() -> store.authorize(MALL, tokens("a"), a))
        .isInstanceOf(StaleLeaseException.class);
  }

  @Test
  void tombstone_removesTheSetAndItsListingAndKeepsTheVersion() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));
    cas(SELLER, 0, tokens("s"));
    Lease lease = lease(MALL, "revoker");

    store.tombstone(MALL, new Tombstone("revoked", T0, 0), lease);

    StoredConnection read = store.read(MALL);
    assertThat(read.tokens()).isNull();
    assertThat(store.load(MALL)).isNull();
    assertThat(read.tombstone()).isNotNull();
    assertThat(read.tombstone().reason()).isEqualTo("revoked");
    assertThat(read.tombstone().version()).isEqualTo(2);
    assertThat(store.connections()).containsExactly(SELLER);
  }

  @Test
  void tombstone_blocksRenewalsAndRestoresButNotANewAuthorization() {
    cas(MALL, 0, tokens("a"));
    Lease revoke = lease(MALL, "revoker");
    store.tombstone(MALL, new Tombstone("revoked", T0, 1), revoke);
    store.releaseLease(revoke);

    Lease renewal = lease(MALL, "instance-a");
    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("late"), renewal))
        .isInstanceOf(TombstonedException.class);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("late"), renewal))
        .isInstanceOf(TombstonedException.class);
    store.releaseLease(renewal);
    StoredConnection afterRestore = store.restore(MALL, tokens("late").withVersion(9));
    assertThat(afterRestore.tokens()).isNull();
    assertThat(afterRestore.tombstone()).isNotNull();
    assertThat(store.load(MALL)).isNull();

    Lease connect = lease(MALL, "connect");
    TokenSet fresh = store.authorize(MALL, tokens("fresh"), connect);

    assertThat(fresh.version()).isEqualTo(2);
    assertThat(store.read(MALL).tombstone()).isNull();
    assertThat(store.connections()).containsExactly(MALL);
  }

  @Test
  void tombstone_underAStaleLease_isRejectedAndKeepsTheSet() throws Exception {
    cas(MALL, 0, tokens("a"));
    Lease a = lease(MALL, "instance-a");
    expire(a);
    lease(MALL, "instance-b");

    assertThatThrownBy(() -> store.tombstone(MALL, new Tombstone("revoked", T0, 1), a))
        .isInstanceOf(StaleLeaseException.class);
    assertThat(store.load(MALL)).isNotNull();
  }

  @Test
  void restore_nothingStored_savesTheSetWithItsOwnVersion() {
    StoredConnection after = store.restore(MALL, tokens("held").withVersion(7));

    assertThat(after.tokens().version()).isEqualTo(7);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-held");
    assertThat(store.load(MALL).version()).isEqualTo(7);
    assertThat(store.connections()).containsExactly(MALL);
    assertThat(cas(MALL, 7, tokens("next")).version()).isEqualTo(8);
  }

  @Test
  void restore_olderVersionStored_replacesIt() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));

    store.restore(MALL, tokens("held").withVersion(5));

    assertThat(store.load(MALL).accessToken()).isEqualTo("access-held");
    assertThat(store.load(MALL).version()).isEqualTo(5);
  }

  @Test
  void restore_sameOrNewerVersionStored_keepsTheStoredSet() {
    cas(MALL, 0, tokens("a"));
    cas(MALL, 1, tokens("b"));

    StoredConnection same = store.restore(MALL, tokens("held").withVersion(2));
    StoredConnection older = store.restore(MALL, tokens("held").withVersion(1));

    assertThat(same.tokens().accessToken()).isEqualTo("access-b");
    assertThat(older.tokens().accessToken()).isEqualTo("access-b");
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-b");
  }

  @Test
  void put_seedsAStoreOutsideAnyRenewal() {
    assertThat(store.put(MALL, tokens("a")).version()).isEqualTo(1);
    assertThat(store.put(MALL, tokens("b")).version()).isEqualTo(2);
    assertThat(lease(MALL, "instance-a")).isNotNull();
  }

  // ---------------------------------------------------------------- health

  protected static HealthRecord failing(long tokenVersion) {
    return new HealthRecord(
        Health.State.REAUTHORIZATION_REQUIRED,
        "refresh-token-rejected",
        "Invalid refresh_token",
        "invalid_grant",
        T0,
        null,
        null,
        1,
        tokenVersion,
        0);
  }

  protected static HealthRecord degraded(int failures) {
    return new HealthRecord(
        Health.State.DEGRADED,
        "rate-limited",
        "429 with Retry-After 8",
        "429",
        T0,
        T0.plusSeconds(8),
        T0.plusSeconds(8),
        failures,
        1,
        0);
  }

  @Test
  void health_nothingStored_isAbsent() {
    assertThat(store.read(MALL).health()).isNull();
    assertThat(store.read(MALL).healthVersion()).isZero();
  }

  @Test
  void compareAndSetHealth_roundTripsEveryFieldAndLeavesTheTokenVersionAlone() {
    cas(MALL, 0, tokens("a"));

    assertThat(store.compareAndSetHealth(MALL, 0, degraded(3))).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isEqualTo(degraded(3).withVersion(1));
    assertThat(read.tokens().version()).isEqualTo(1);
    assertThat(cas(MALL, 1, tokens("b")).version()).isEqualTo(2);
    assertThat(store.read(MALL).health()).isEqualTo(degraded(3).withVersion(1));
  }

  @Test
  void compareAndSetHealth_withoutATokenSet_isKept() {
    assertThat(store.compareAndSetHealth(MALL, 0, failing(0))).isTrue();

    assertThat(store.read(MALL).health().reason()).isEqualTo("refresh-token-rejected");
    assertThat(store.connections()).doesNotContain(MALL);
  }

  @Test
  void compareAndSetHealth_staleVersion_returnsFalseAndChangesNothing() {
    store.compareAndSetHealth(MALL, 0, degraded(1));
    store.compareAndSetHealth(MALL, 1, degraded(2));

    assertThat(store.compareAndSetHealth(MALL, 1, failing(1))).isFalse();
    assertThat(store.compareAndSetHealth(MALL, 0, failing(1))).isFalse();
    assertThat(store.read(MALL).health().failures()).isEqualTo(2);
    assertThat(store.read(MALL).health().version()).isEqualTo(2);
  }

  @Test
  void compareAndSetHealth_null_clearsIt() {
    store.compareAndSetHealth(MALL, 0, degraded(1));

    assertThat(store.compareAndSetHealth(MALL, 1, null)).isTrue();

    assertThat(store.read(MALL).health()).isNull();
  }

  @Test
  void compareAndSetHealth_eachSuccess_makesTheHealthVersionExactlyExpectedPlusOne() {
    cas(MALL, 0, tokens("m"));
    // Interleaved over two connections: each connection's versions are its own.
    long[] mall = {0};
    long[] seller = {0};
    for (int step = 0; step < 4; step++) {
      for (ConnectionId id : List.of(MALL, SELLER, MALL)) {
        long[] version = id.equals(MALL) ? mall : seller;
        HealthRecord next = step == 2 ? null : degraded(step + 1);

        assertThat(store.compareAndSetHealth(id, version[0], next)).isTrue();

        version[0]++;
        StoredConnection read = store.read(id);
        assertThat(read.healthVersion()).as("%s after step %d", id, step).isEqualTo(version[0]);
        assertThat(read.health()).isEqualTo(next == null ? null : next.withVersion(version[0]));
      }
    }
    assertThat(mall[0]).isEqualTo(8);
    assertThat(seller[0]).isEqualTo(4);
    assertThat(store.read(MALL).version()).as("health never moves the token set").isEqualTo(1);
  }

  @Test
  void compareAndSetHealth_aClear_removesTheRecordAndKeepsItsVersion() {
    cas(MALL, 0, tokens("a"));
    store.compareAndSetHealth(MALL, 0, degraded(1));
    store.compareAndSetHealth(MALL, 1, degraded(2));

    assertThat(store.compareAndSetHealth(MALL, 2, null)).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isNull();
    assertThat(read.healthVersion()).isEqualTo(3);
    assertThat(store.readAll(List.of(MALL)).get(MALL).healthVersion()).isEqualTo(3);
    assertThat(read.tokens().version()).isEqualTo(1);
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(9))).as("0: never written").isFalse();
    assertThat(store.compareAndSetHealth(MALL, 2, degraded(9))).isFalse();
    assertThat(store.compareAndSetHealth(MALL, 2, null)).isFalse();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(3);

    assertThat(store.compareAndSetHealth(MALL, 3, degraded(1))).isTrue();
    assertThat(store.read(MALL).health()).isEqualTo(degraded(1).withVersion(4));
  }

  @Test
  void compareAndSetHealth_clearingWhatWasNeverWritten_movesTheVersionToo() {
    assertThat(store.compareAndSetHealth(MALL, 0, null)).isTrue();

    assertThat(store.read(MALL).health()).isNull();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(1);
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isFalse();
    assertThat(store.connections()).doesNotContain(MALL);
  }

  @Test
  void compareAndSetHealth_writeClearWrite_isVersions1To3_andAWriterHoldingAnEarlierOneLoses() {
    cas(MALL, 0, tokens("a"));
    // Instance A records a failure and reads the record at version 1.
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isTrue();
    long heldByA = store.read(MALL).healthVersion();
    assertThat(heldByA).isEqualTo(1);
    // Instance B's renewal succeeds: it clears the record.
    assertThat(store.compareAndSetHealth(MALL, heldByA, null)).isTrue();
    long readByC = store.read(MALL).healthVersion();
    assertThat(readByC).isEqualTo(2);
    // Instance C sees a new failure and records it on what it read.
    assertThat(store.compareAndSetHealth(MALL, readByC, failing(1))).isTrue();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(3);

    // A, still holding version 1, must not overwrite C's record (nor clear it): the ABA a
    // version that restarts after a clear would let through.
    assertThat(store.compareAndSetHealth(MALL, heldByA, degraded(2))).isFalse();
    assertThat(store.compareAndSetHealth(MALL, heldByA, null)).isFalse();
    for (long earlier = 0; earlier < 3; earlier++) {
      assertThat(store.compareAndSetHealth(MALL, earlier, degraded(7))).isFalse();
    }
    assertThat(store.read(MALL).health()).isEqualTo(failing(1).withVersion(3));
  }

  @Test
  void authorize_clearsAStoredHealthRecord_movingItsVersionOn() {
    cas(MALL, 0, tokens("a"));
    store.compareAndSetHealth(MALL, 0, failing(1)); // read at version 1 by a slow instance
    Lease connect = store.seizeLease(MALL, "connect", TTL, TokenStore.NO_FENCE);

    store.authorize(MALL, tokens("fresh"), connect);

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isNull();
    assertThat(read.healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 1, failing(1)))
        .as("the failure of the old chain, recorded late")
        .isFalse();
    // With no record stored, a new authorization leaves the version as it is.
    store.authorize(MALL, tokens("again"), connect);
    assertThat(store.read(MALL).healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 2, degraded(1))).isTrue();
    assertThat(store.read(MALL).health().version()).isEqualTo(3);
  }

  @Test
  void tombstoneAndRestore_leaveTheHealthVersionAlone() {
    cas(MALL, 0, tokens("a"));
    store.compareAndSetHealth(MALL, 0, failing(1));
    store.compareAndSetHealth(MALL, 1, null);
    Lease revoke = store.seizeLease(MALL, "revoke", TTL, TokenStore.NO_FENCE);

    store.tombstone(MALL, new Tombstone("revoked", T0, 1), revoke);
    store.restore(MALL, tokens("b").withVersion(5));

    assertThat(store.read(MALL).tombstone()).isNotNull();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 2, failing(1))).isTrue();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(3);
  }

  @Test
  void readAll_returnsEachConnectionInTheOrderAsked() {
    cas(MALL, 0, tokens("m"));
    cas(SELLER, 0, tokens("s"));
    store.compareAndSetHealth(SELLER, 0, degraded(1));

    Map<ConnectionId, StoredConnection> all = store.readAll(List.of(SELLER, ODD, MALL));

    assertThat(all.keySet()).containsExactly(SELLER, ODD, MALL);
    assertThat(all.get(SELLER).tokens().accessToken()).isEqualTo("access-s");
    assertThat(all.get(SELLER).health()).isNotNull();
    assertThat(all.get(ODD)).isEqualTo(StoredConnection.EMPTY);
    assertThat(all.get(MALL).tokens().accessToken()).isEqualTo("access-m");
  }

  @Test
  void seizeLease_concurrentSeizers_eachGetsADistinctFenceAndOnlyTheLastCanWrite()
      throws Exception {
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Lease>> futures = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        String owner = "instance-" + t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  return store.seizeLease(MALL, owner, TTL, TokenStore.NO_FENCE);
                }));
      }
      start.countDown();
      Set<Long> fences = new java.util.TreeSet<>();
      Lease last = null;
      List<Lease> all = new ArrayList<>();
      for (Future<Lease> f : futures) {
        Lease l = f.get(60, TimeUnit.SECONDS);
        all.add(l);
        fences.add(l.fencingToken());
        if (last == null || l.fencingToken() > last.fencingToken()) {
          last = l;
        }
      }
      assertThat(fences).hasSize(threads);
      int accepted = 0;
      for (Lease l : all) {
        try {
          store.authorize(MALL, tokens(l.owner()), l);
          accepted++;
        } catch (StaleLeaseException e) {
          // expected for all but the newest
        }
      }
      assertThat(accepted).isEqualTo(1);
      assertThat(store.load(MALL).accessToken()).isEqualTo("access-" + last.owner());
    } finally {
      pool.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- concurrency

  @Test
  void compareAndSet_concurrentWriters_eachVersionIsWonByExactlyOne() throws Exception {
    int threads = 8;
    int savesEach = 15;
    Set<Long> won = ConcurrentHashMap.newKeySet();
    AtomicLong conflicts = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < savesEach; ) {
                    TokenSet current = store.load(MALL);
                    long v = current == null ? 0 : current.version();
                    try {
                      TokenSet saved = cas(MALL, v, tokens(thread + "-" + i));
                      assertThat(won.add(saved.version())).as("version won twice").isTrue();
                      i++;
                    } catch (VersionConflictException | StaleLeaseException e) {
                      conflicts.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(store.load(MALL).version()).isEqualTo((long) threads * savesEach);
    assertThat(won).hasSize(threads * savesEach);
  }

  @Test
  void tryAcquireLease_concurrentOwners_exactlyOneWins() throws Exception {
    int threads = 12;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Lease>> futures = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        String owner = "instance-" + t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  return store.tryAcquireLease(SELLER, owner, TTL, TokenStore.NO_FENCE);
                }));
      }
      start.countDown();
      int granted = 0;
      for (Future<Lease> f : futures) {
        if (f.get(60, TimeUnit.SECONDS) != null) {
          granted++;
        }
      }
      assertThat(granted).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- registry changes

  @Test
  void changedSince_seesAuthorizationsAndTombstones_notUntouchedConnections() {
    Instant before = storeNow().minusSeconds(1);
    store.put(MALL, tokens("a"));
    assertThat(store.changedSince(before)).contains(MALL).doesNotContain(SELLER);

    Lease lease = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("removed", T0, 1), lease);
    store.releaseLease(lease);
    assertThat(store.changedSince(before)).contains(MALL).doesNotContain(SELLER);
    assertThat(store.changedSince(storeNow().plus(Duration.ofHours(1))))
        .as("nothing changed after now")
        .isEmpty();
  }

  @Test
  void changedSince_seesAConnectionCreatedByCompareAndSetFromZero() {
    Instant before = storeNow().minusSeconds(1);
    cas(ODD, 0, tokens("a"));
    assertThat(store.changedSince(before)).contains(ODD);
  }

  // ---------------------------------------------------------------- one-time records

  @Test
  void putOnce_thenTakeOnce_returnsTheValueExactlyOnce() {
    Instant later = storeNow().plus(Duration.ofMinutes(10));
    assertThat(store.putOnce("state:abc", new byte[] {1, 2, 3}, later)).isTrue();
    assertThat(store.putOnce("state:abc", new byte[] {9}, later))
        .as("a key held is not overwritten")
        .isFalse();

    assertThat(store.takeOnce("state:abc")).containsExactly(1, 2, 3);
    assertThat(store.takeOnce("state:abc")).as("taken once").isNull();
    assertThat(store.takeOnce("state:never")).isNull();
  }

  @Test
  void putOnce_expiredValue_countsAsAbsent() {
    assertThat(store.putOnce("launch:x", new byte[] {1}, storeNow().minusSeconds(5))).isTrue();
    assertThat(store.takeOnce("launch:x")).as("expired").isNull();
    assertThat(store.putOnce("launch:x", new byte[] {2}, storeNow().plus(Duration.ofMinutes(1))))
        .as("an expired key is free again")
        .isTrue();
    assertThat(store.takeOnce("launch:x")).containsExactly(2);
  }

  @Test
  void putOnce_keysAreChecked_andBinaryValuesKeptExactly() {
    assertThatThrownBy(() -> store.putOnce("", new byte[] {1}, storeNow()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.putOnce("has space", new byte[] {1}, storeNow()))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] every = new byte[256];
    for (int i = 0; i < every.length; i++) {
      every[i] = (byte) i;
    }
    Instant later = storeNow().plus(Duration.ofMinutes(10));
    assertThat(store.putOnce("k", every, later)).isTrue();
    assertThat(store.putOnce("K", new byte[0], later)).as("keys are case-sensitive").isTrue();
    assertThat(store.takeOnce("k")).isEqualTo(every);
    assertThat(store.takeOnce("K")).isEmpty();
  }

  @Test
  void takeOnce_fromManyThreads_exactlyOneGetsTheValue() throws Exception {
    assertThat(store.putOnce("race", new byte[] {7}, storeNow().plus(Duration.ofMinutes(1))))
        .isTrue();
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        got.add(
            pool.submit(
                () -> {
                  start.await();
                  return store.takeOnce("race");
                }));
      }
      int winners = 0;
      for (Future<byte[]> f : got) {
        if (f.get(30, TimeUnit.SECONDS) != null) {
          winners++;
        }
      }
      assertThat(winners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /** A clock the contract moves by hand (the modules do not share a test clock class). */
  protected static final class ContractClock extends Clock {
    private volatile Instant now;

    public ContractClock(Instant start) {
      this.now = start;
    }

    public void set(Instant instant) {
      now = instant;
    }

    public void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
