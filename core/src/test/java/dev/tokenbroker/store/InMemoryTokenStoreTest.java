package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What the in-memory store does beyond the {@link TokenStoreContractTest contract}: how long it
 * keeps registry changes, and its listing over many connections coming and going.
 */
class InMemoryTokenStoreTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private final TokenStoreContractTest.ContractClock clock =
      new TokenStoreContractTest.ContractClock(T0);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);

  private static TokenSet tokens(String access) {
    return TokenSet.builder()
        .accessToken(access)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  private static ConnectionId id(int i) {
    return ConnectionId.of("fake", "shop-" + i);
  }

  private void tombstone(ConnectionId id) {
    Lease lease = store.seizeLease(id, "revoker", Duration.ofSeconds(30), TokenStore.NO_FENCE);
    store.tombstone(id, new Tombstone("removed", clock.instant(), 0), lease);
    store.releaseLease(lease);
  }

  @Test
  void changedSince_afterTheClockWentBack_stillListsTheLaterChange() {
    store.put(id(1), tokens("a"));
    clock.advance(Duration.ofMinutes(10));
    store.put(id(2), tokens("b"));
    Instant asked = clock.instant().minusSeconds(5); // a poll's "since", a little before
    clock.set(T0.plus(Duration.ofMinutes(1))); // the clock goes back nine minutes
    store.put(id(3), tokens("c"));
    assertThat(store.changedSince(asked))
        .as("a change made after the poll's time, though the clock said earlier")
        .contains(id(3), id(2));
  }

  @Test
  void changedSince_keepsAnHourOfChanges_newestFirst() {
    store.put(id(1), tokens("a"));
    clock.advance(Duration.ofMinutes(30));
    store.put(id(2), tokens("b"));
    assertThat(store.changedSince(T0)).containsExactly(id(2), id(1));

    clock.advance(Duration.ofMinutes(31)); // T0 + 61 min: the first change is over an hour old
    assertThat(store.changedSince(T0)).as("dropped only at the next change").hasSize(2);
    tombstone(id(3));
    assertThat(store.changedSince(T0)).containsExactly(id(3), id(2));
    assertThat(store.changedSince(T0.plus(Duration.ofMinutes(30)))).containsExactly(id(3), id(2));
    assertThat(store.changedSince(T0.plus(Duration.ofMinutes(30)).plusMillis(1)))
        .containsExactly(id(3));
  }

  @Test
  void changedSince_afterManyChanges_seesEachConnectionOnceAndOnlyTheRecentOnes() {
    for (int i = 0; i < 3_000; i++) {
      store.put(id(i % 1_000), tokens("t" + i)); // an authorization: a change each time
      clock.advance(Duration.ofMillis(1));
    }
    assertThat(store.changedSince(T0)).hasSize(1_000);
    assertThat(store.changedSince(T0.plusMillis(2_990)))
        .containsExactly(
            id(999), id(998), id(997), id(996), id(995), id(994), id(993), id(992), id(991),
            id(990));

    clock.advance(Duration.ofHours(1));
    store.put(id(5_000), tokens("late"));
    assertThat(store.changedSince(T0)).containsExactly(id(5_000));
  }

  @Test
  void connections_staySortedAndExact_asConnectionsComeAndGo() {
    Random random = new Random(20_653L);
    TreeSet<ConnectionId> expected = new TreeSet<>();
    for (int op = 0; op < 5_000; op++) {
      ConnectionId id = id(random.nextInt(700));
      int kind = random.nextInt(10);
      if (kind < 6) {
        Lease lease = store.seizeLease(id, "w", Duration.ofSeconds(30), TokenStore.NO_FENCE);
        store.authorize(id, tokens("t" + op), lease);
        store.releaseLease(lease);
        expected.add(id);
      } else if (kind < 8) {
        tombstone(id);
        expected.remove(id);
      } else {
        store.forget(id);
        expected.remove(id);
      }
      if (op % 250 == 0) {
        assertThat(store.connections()).containsExactlyElementsOf(expected);
      }
    }
    assertThat(store.connections()).containsExactlyElementsOf(new ArrayList<>(expected));
    for (int i = 0; i < 700; i++) {
      assertThat(store.load(id(i)) != null).as("%s", id(i)).isEqualTo(expected.contains(id(i)));
    }
  }

  @Test
  void aNullId_readsAsNothingStored_asWithTheHashMap() {
    store.put(id(1), tokens("a"));
    assertThat(store.read(null)).isEqualTo(StoredConnection.EMPTY);
    store.forget(null);
    assertThat(store.connections()).containsExactly(id(1));
    List<ConnectionId> none = store.changedSince(T0.plusSeconds(1));
    assertThat(none).isEmpty();
  }
}
