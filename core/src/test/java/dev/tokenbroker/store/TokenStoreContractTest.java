package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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

  protected static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .refreshExpiresAt(T0.plus(Duration.ofDays(14)))
        .build();
  }

  // ---------------------------------------------------------------- load and compare-and-set

  @Test
  void load_nothingStored_returnsNull() {
    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_fromZero_savesVersionOne() {
    TokenSet saved = store.compareAndSet(MALL, 0, tokens("a"));

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

    store.compareAndSet(ODD, 0, rich);

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

    store.compareAndSet(SELLER, 0, clientCredentials);

    TokenSet loaded = store.load(SELLER);
    assertThat(loaded.sameTokensAs(clientCredentials)).isTrue();
    assertThat(loaded.refreshToken()).isNull();
    assertThat(loaded.refreshExpiresAt()).isNull();
  }

  @Test
  void compareAndSet_successiveSaves_incrementTheVersion() {
    store.compareAndSet(MALL, 0, tokens("a"));
    store.compareAndSet(MALL, 1, tokens("b"));
    TokenSet third = store.compareAndSet(MALL, 2, tokens("c"));

    assertThat(third.version()).isEqualTo(3);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-c");
  }

  @Test
  void compareAndSet_ignoresTheVersionOfTheGivenSet() {
    TokenSet saved = store.compareAndSet(MALL, 0, tokens("a").withVersion(42));

    assertThat(saved.version()).isEqualTo(1);
    assertThat(store.load(MALL).version()).isEqualTo(1);
  }

  @Test
  void compareAndSet_fromZeroWhenSomethingIsStored_conflictsAndKeepsTheStoredSet() {
    store.compareAndSet(MALL, 0, tokens("a"));

    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("b")))
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
    store.compareAndSet(MALL, 0, tokens("a"));
    store.compareAndSet(MALL, 1, tokens("b"));

    assertThatThrownBy(() -> store.compareAndSet(MALL, 1, tokens("c")))
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
    assertThatThrownBy(() -> store.compareAndSet(MALL, 3, tokens("a")))
        .isInstanceOfSatisfying(
            VersionConflictException.class, e -> assertThat(e.actualVersion()).isZero());
    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_conflictMessage_namesTheConnectionAndNoToken() {
    store.compareAndSet(MALL, 0, tokens("secretvalue"));

    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("othersecret")))
        .hasMessageContaining(MALL.toString())
        .hasMessageNotContaining("secretvalue")
        .hasMessageNotContaining("othersecret");
  }

  @Test
  void connections_keepTheirOwnSets() {
    store.compareAndSet(MALL, 0, tokens("mall"));
    store.compareAndSet(SELLER, 0, tokens("seller"));
    store.compareAndSet(SELLER, 1, tokens("seller2"));

    assertThat(store.load(MALL).accessToken()).isEqualTo("access-mall");
    assertThat(store.load(MALL).version()).isEqualTo(1);
    assertThat(store.load(SELLER).accessToken()).isEqualTo("access-seller2");
    assertThat(store.load(SELLER).version()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- delete and list

  @Test
  void delete_removesTheSetAndItsListing() {
    store.compareAndSet(MALL, 0, tokens("a"));
    store.compareAndSet(SELLER, 0, tokens("b"));

    store.delete(MALL);

    assertThat(store.load(MALL)).isNull();
    assertThat(store.connections()).containsExactly(SELLER);
  }

  @Test
  void delete_nothingStored_doesNothing() {
    store.delete(MALL);

    assertThat(store.load(MALL)).isNull();
  }

  @Test
  void compareAndSet_afterDelete_startsFromZeroAgain() {
    store.compareAndSet(MALL, 0, tokens("a"));
    store.compareAndSet(MALL, 1, tokens("b"));
    store.delete(MALL);

    assertThatThrownBy(() -> store.compareAndSet(MALL, 2, tokens("c")))
        .isInstanceOf(VersionConflictException.class);
    assertThat(store.compareAndSet(MALL, 0, tokens("c")).version()).isEqualTo(1);
  }

  @Test
  void connections_listsEveryStoredConnectionSorted() {
    assertThat(store.connections()).isEmpty();

    store.compareAndSet(SELLER, 0, tokens("1"));
    store.compareAndSet(ODD, 0, tokens("2"));
    store.compareAndSet(MALL, 0, tokens("3"));

    assertThat(store.connections()).containsExactly(MALL, ODD, SELLER);
  }

  // ---------------------------------------------------------------- lease

  @Test
  void tryAcquireLease_free_grantsItUntilNowPlusTtl() {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL);

    assertThat(lease).isNotNull();
    assertThat(lease.connection()).isEqualTo(MALL);
    assertThat(lease.owner()).isEqualTo("instance-a");
    assertThat(lease.expiresAt()).isEqualTo(T0.plus(TTL));
  }

  @Test
  void tryAcquireLease_heldByAnother_returnsNull() {
    store.tryAcquireLease(MALL, "instance-a", TTL);

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL)).isNull();
  }

  @Test
  void tryAcquireLease_oneMillisecondBeforeExpiry_isStillHeld() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL);
    clock.set(a.expiresAt().minusMillis(1));

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL)).isNull();
  }

  @Test
  void tryAcquireLease_bySameOwner_extendsItWithALargerFence() {
    Lease first = store.tryAcquireLease(MALL, "instance-a", TTL);
    clock.set(T0.plusSeconds(10));

    Lease second = store.tryAcquireLease(MALL, "instance-a", TTL);

    assertThat(second).isNotNull();
    assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
    assertThat(second.expiresAt()).isEqualTo(T0.plusSeconds(10).plus(TTL));
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL)).isNull();
  }

  @Test
  void tryAcquireLease_afterExpiry_grantsAnotherOwnerALargerFence() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL);
    expire(a);

    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL);

    assertThat(b).isNotNull();
    assertThat(b.owner()).isEqualTo("instance-b");
    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
  }

  @Test
  void releaseLease_current_freesItForOthers() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL);

    store.releaseLease(a);

    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL);
    assertThat(b).isNotNull();
    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
  }

  @Test
  void releaseLease_withAnExpiredFence_leavesTheNewHolderAlone() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL);
    expire(a);
    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL);
    assertThat(b).isNotNull();

    store.releaseLease(a); // too late: b holds it now

    assertThat(store.tryAcquireLease(MALL, "instance-c", TTL)).isNull();
    store.releaseLease(b);
    assertThat(store.tryAcquireLease(MALL, "instance-c", TTL)).isNotNull();
  }

  @Test
  void releaseLease_afterOwnReacquire_staleFenceDoesNotRelease() {
    Lease first = store.tryAcquireLease(MALL, "instance-a", TTL);
    Lease second = store.tryAcquireLease(MALL, "instance-a", TTL);

    store.releaseLease(first);

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL)).isNull();
    store.releaseLease(second);
    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL)).isNotNull();
  }

  @Test
  void leases_arePerConnection() {
    assertThat(store.tryAcquireLease(MALL, "instance-a", TTL)).isNotNull();

    assertThat(store.tryAcquireLease(SELLER, "instance-b", TTL)).isNotNull();
  }

  @Test
  void lease_onAConnectionWithNothingStored_doesNotListOrCreateIt() {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL);

    assertThat(store.connections()).isEmpty();
    assertThat(store.load(MALL)).isNull();
    assertThat(store.compareAndSet(MALL, 0, tokens("a")).version()).isEqualTo(1);
    store.releaseLease(lease);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  void lease_doesNotChangeTheStoredSet() {
    store.compareAndSet(MALL, 0, tokens("a"));
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL);
    store.releaseLease(lease);

    assertThat(store.load(MALL).version()).isEqualTo(1);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  void fencingTokens_keepGrowingAcrossDelete() {
    store.compareAndSet(MALL, 0, tokens("a"));
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL);
    store.releaseLease(a);
    store.delete(MALL);

    Lease b = store.tryAcquireLease(MALL, "instance-b", TTL);

    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
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
                      TokenSet saved = store.compareAndSet(MALL, v, tokens(thread + "-" + i));
                      assertThat(won.add(saved.version())).as("version won twice").isTrue();
                      i++;
                    } catch (VersionConflictException e) {
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
                  return store.tryAcquireLease(SELLER, owner, TTL);
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
