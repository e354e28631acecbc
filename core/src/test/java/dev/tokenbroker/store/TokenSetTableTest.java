package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenSetTableTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private static TokenSet tokens(String access) {
    return TokenSet.builder()
        .accessToken(access)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(1)))
        .build();
  }

  private static ConnectionId id(String account) {
    return ConnectionId.of("fake", account);
  }

  /**
   * Ids whose hashes are all equal: "Aa" and "BB" have the same hashCode, so every string of {@code
   * pairs} such blocks has the same one.
   */
  private static List<ConnectionId> colliding(int pairs) {
    List<String> accounts = List.of("");
    for (int p = 0; p < pairs; p++) {
      List<String> longer = new ArrayList<>();
      for (String a : accounts) {
        longer.add(a + "Aa");
        longer.add(a + "BB");
      }
      accounts = longer;
    }
    List<ConnectionId> ids = new ArrayList<>();
    for (String a : accounts) {
      ids.add(id(a));
    }
    return ids;
  }

  /**
   * {@code n} ids whose home slot in {@code table} is {@code slot}, none of them in {@code not}.
   */
  private static List<ConnectionId> homedAt(TokenSetTable table, int slot, int n) {
    List<ConnectionId> ids = new ArrayList<>();
    for (int i = 0; ids.size() < n; i++) {
      ConnectionId id = id("homed-" + i);
      if (table.home(id) == slot) {
        ids.add(id);
      }
    }
    return ids;
  }

  /**
   * The table's invariants: at most 60% full, the size counts the keys, no key twice, and every key
   * reachable from its home slot (no empty slot between them), so that no lookup stops short.
   */
  private static void assertConsistent(TokenSetTable table) {
    int capacity = table.capacity();
    assertThat(Integer.bitCount(capacity)).isEqualTo(1);
    assertThat(table.size() * 5L).isLessThanOrEqualTo(capacity * 3L);
    int count = 0;
    for (int slot = 0; slot < capacity; slot++) {
      ConnectionId k = table.keyAt(slot);
      if (k == null) {
        continue;
      }
      count++;
      for (int i = table.home(k); i != slot; i = (i + 1) & (capacity - 1)) {
        assertThat(table.keyAt(i))
            .as("slot %d, on %s's chain from %d", i, k, table.home(k))
            .isNotNull();
      }
    }
    assertThat(count).isEqualTo(table.size());
    assertThat(new HashSet<>(table.keys())).hasSize(count);
  }

  @Test
  void putGetReplaceRemove() {
    TokenSetTable table = new TokenSetTable();
    ConnectionId mall = id("mall");
    TokenSet a = tokens("a");
    TokenSet b = tokens("b");

    assertThat(table.get(mall)).isNull();
    assertThat(table.put(mall, a)).isNull();
    assertThat(table.get(mall)).isSameAs(a);
    assertThat(table.get(ConnectionId.parse("fake:mall"))).as("an equal id").isSameAs(a);
    assertThat(table.size()).isEqualTo(1);

    assertThat(table.put(ConnectionId.parse("fake:mall"), b)).isSameAs(a);
    assertThat(table.get(mall)).isSameAs(b);
    assertThat(table.size()).isEqualTo(1);
    assertThat(table.keys()).containsExactly(mall);

    assertThat(table.remove(id("other"))).isNull();
    assertThat(table.remove(mall)).isSameAs(b);
    assertThat(table.remove(mall)).isNull();
    assertThat(table.get(mall)).isNull();
    assertThat(table.size()).isZero();
    assertThat(table.keys()).isEmpty();
  }

  @Test
  void aNullIdIsNeverPresent_andCannotBeStored() {
    TokenSetTable table = new TokenSetTable();
    table.put(id("mall"), tokens("a"));
    assertThat(table.get(null)).isNull();
    assertThat(table.remove(null)).isNull();
    assertThatThrownBy(() -> table.put(null, tokens("a"))).isInstanceOf(NullPointerException.class);
    assertThat(table.size()).isEqualTo(1);
  }

  @Test
  void growsByDoublingAtSixtyPercent_keepingEveryEntry() {
    TokenSetTable table = new TokenSetTable(2);
    List<Integer> capacities = new ArrayList<>();
    capacities.add(table.capacity());
    Map<ConnectionId, TokenSet> all = new HashMap<>();
    for (int i = 0; i < 5_000; i++) {
      ConnectionId id = id("shop-" + i);
      TokenSet t = tokens("t" + i);
      table.put(id, t);
      all.put(id, t);
      if (table.capacity() != capacities.get(capacities.size() - 1)) {
        capacities.add(table.capacity());
        assertConsistent(table);
      }
      assertThat(table.size() * 5L).isLessThanOrEqualTo(table.capacity() * 3L);
    }
    // 2, 4, ..., 16384: thirteen doublings, each when an insertion made it over 60% full.
    assertThat(capacities).hasSize(14);
    for (int i = 1; i < capacities.size(); i++) {
      assertThat(capacities.get(i)).isEqualTo(capacities.get(i - 1) * 2);
    }
    assertThat(table.size()).isEqualTo(5_000);
    all.forEach((id, t) -> assertThat(table.get(ConnectionId.parse(id.toString()))).isSameAs(t));
    assertThat(table.get(id("shop-5000"))).isNull();
    assertThat(new HashSet<>(table.keys())).isEqualTo(all.keySet());
    assertConsistent(table);
  }

  @Test
  void idsWhoseHashesCollide_formOneChain_andSurviveRemovalsFromItsMiddle() {
    List<ConnectionId> ids = colliding(4); // 16 ids, one hash
    assertThat(ids.get(0).hashCode()).isEqualTo(ids.get(15).hashCode());
    TokenSetTable table = new TokenSetTable(32); // room for 19: no growth
    Map<ConnectionId, TokenSet> expected = new HashMap<>();
    for (ConnectionId id : ids) {
      TokenSet t = tokens("t-" + id.account());
      table.put(id, t);
      expected.put(id, t);
    }
    assertThat(table.capacity()).isEqualTo(32);
    assertConsistent(table);

    // From the middle, the start and the end of the chain, then every other one.
    for (int i : new int[] {7, 0, 15, 3, 11, 1, 5, 9, 13}) {
      assertThat(table.remove(ids.get(i))).isSameAs(expected.remove(ids.get(i)));
      assertConsistent(table);
      expected.forEach((id, t) -> assertThat(table.get(id)).as("%s", id).isSameAs(t));
      assertThat(table.get(ids.get(i))).isNull();
    }
    // Put back: they take the freed slots, still found.
    for (int i : new int[] {0, 7, 15}) {
      table.put(ids.get(i), tokens("again"));
      assertConsistent(table);
    }
    assertThat(table.size()).isEqualTo(10);
    assertThat(table.get(ids.get(7)).accessToken()).isEqualTo("again");
  }

  @Test
  void chainsThatWrapPastTheLastSlot_shiftBackAcrossIt_passingEntriesAtHome() {
    TokenSetTable table = new TokenSetTable(16); // room for 9
    int last = table.capacity() - 1;
    List<ConnectionId> atLast = homedAt(table, last, 3); // slots 15, 0, 1
    List<ConnectionId> atZero = homedAt(table, 0, 2); // pushed on: 2, 3
    ConnectionId atFour = homedAt(table, 4, 1).get(0); // 4, its home
    ConnectionId atThree = homedAt(table, 3, 1).get(0); // pushed past 3 and 4: 5
    List<ConnectionId> all = new ArrayList<>(atLast);
    all.addAll(atZero);
    all.add(atFour);
    all.add(atThree);
    for (ConnectionId id : all) {
      table.put(id, tokens(id.account()));
    }
    assertThat(table.capacity()).isEqualTo(16);
    assertThat(table.keyAt(last)).isEqualTo(atLast.get(0));
    assertThat(table.keyAt(0)).isEqualTo(atLast.get(1));
    assertThat(table.keyAt(4)).isEqualTo(atFour);
    assertThat(table.keyAt(5)).isEqualTo(atThree);
    assertConsistent(table);

    // Removing the entry in the last slot pulls the chain back across the end of the arrays; the
    // entry at its home (4) stays, and the one behind it moves over it into the freed slot 3.
    assertThat(table.remove(atLast.get(0))).isNotNull();
    assertThat(table.keyAt(last)).isEqualTo(atLast.get(1));
    assertThat(table.keyAt(0)).isEqualTo(atLast.get(2));
    assertThat(table.keyAt(1)).isEqualTo(atZero.get(0));
    assertThat(table.keyAt(2)).isEqualTo(atZero.get(1));
    assertThat(table.keyAt(3)).isEqualTo(atThree);
    assertThat(table.keyAt(4)).isEqualTo(atFour);
    assertThat(table.keyAt(5)).isNull();
    assertConsistent(table);
    for (ConnectionId id : all.subList(1, all.size())) {
      assertThat(table.get(id)).as("%s", id).isNotNull();
    }

    // And from the slot the wrapped chain starts in.
    assertThat(table.remove(atLast.get(1))).isNotNull();
    assertConsistent(table);
    for (ConnectionId id : all.subList(2, all.size())) {
      assertThat(table.get(id)).as("%s", id).isNotNull();
    }
    assertThat(table.size()).isEqualTo(5);
  }

  @Test
  void matchesAHashMap_overRandomOperations() {
    Random random = new Random(20_260_301L);
    List<ConnectionId> pool = new ArrayList<>(colliding(5)); // 32 ids sharing one hash
    for (int i = 0; i < 400; i++) {
      pool.add(id("shop-" + i));
    }
    TokenSetTable table = new TokenSetTable(2);
    Map<ConnectionId, TokenSet> reference = new HashMap<>();
    int maxCapacity = 0;
    for (int op = 0; op < 50_000; op++) {
      // Equal ids made anew, not the pool's instances: equality, not identity.
      ConnectionId id = ConnectionId.parse(pool.get(random.nextInt(pool.size())).toString());
      int kind = random.nextInt(100);
      // Phases: mostly puts, then mostly removals, so that the table grows and empties again.
      boolean filling = (op / 5_000) % 2 == 0;
      if (kind < (filling ? 60 : 25)) {
        TokenSet t = tokens("t" + op);
        assertThat(table.put(id, t)).isSameAs(reference.put(id, t));
      } else if (kind < 85) {
        assertThat(table.remove(id)).isSameAs(reference.remove(id));
      } else {
        assertThat(table.get(id)).isSameAs(reference.get(id));
      }
      assertThat(table.size()).isEqualTo(reference.size());
      maxCapacity = Math.max(maxCapacity, table.capacity());
      if (op % 500 == 0) {
        assertConsistent(table);
        assertThat(new HashSet<>(table.keys())).isEqualTo(reference.keySet());
      }
    }
    assertConsistent(table);
    for (ConnectionId id : pool) {
      assertThat(table.get(id)).isSameAs(reference.get(id));
    }
    assertThat(maxCapacity).as("grew through several doublings").isGreaterThanOrEqualTo(512);
  }

  @Test
  void aCapacityThatIsNotAPowerOfTwo_isRejected() {
    assertThatThrownBy(() -> new TokenSetTable(12)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TokenSetTable(1)).isInstanceOf(IllegalArgumentException.class);
  }
}
