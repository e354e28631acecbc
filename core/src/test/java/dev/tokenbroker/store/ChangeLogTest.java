package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangeLogTest {
  private static final long KEPT = 1_000;

  private static final ConnectionId A = ConnectionId.of("fake", "a");
  private static final ConnectionId B = ConnectionId.of("fake", "b");
  private static final ConnectionId C = ConnectionId.of("fake", "c");
  private static final ConnectionId D = ConnectionId.of("fake", "d");
  private static final ConnectionId E = ConnectionId.of("fake", "e");
  private static final ConnectionId F = ConnectionId.of("fake", "f");
  private static final ConnectionId G = ConnectionId.of("fake", "g");

  /** The store's change log before the ring buffer, word for word: the reference. */
  private static final class DequeLog {
    private final ArrayDeque<long[]> changes = new ArrayDeque<>();
    private final List<ConnectionId> ids = new ArrayList<>();

    void add(long now, ConnectionId id) {
      ids.add(id);
      changes.addLast(new long[] {now, ids.size() - 1});
      while (!changes.isEmpty() && changes.peekFirst()[0] < now - KEPT) {
        changes.removeFirst();
      }
    }

    List<ConnectionId> since(long from) {
      Set<ConnectionId> out = new LinkedHashSet<>();
      for (Iterator<long[]> it = changes.descendingIterator(); it.hasNext(); ) {
        long[] c = it.next();
        if (c[0] < from) {
          break;
        }
        out.add(ids.get((int) c[1]));
      }
      return new ArrayList<>(out);
    }

    int size() {
      return changes.size();
    }
  }

  @Test
  void answersNewestFirst_eachConnectionOnce_fromTheGivenTimeOn() {
    ChangeLog log = new ChangeLog(KEPT);
    log.add(100, A);
    log.add(200, B);
    log.add(300, A);
    log.add(300, C);

    assertThat(log.since(0)).containsExactly(C, A, B);
    assertThat(log.since(200)).containsExactly(C, A, B);
    assertThat(log.since(201)).containsExactly(C, A);
    assertThat(log.since(300)).containsExactly(C, A);
    assertThat(log.since(301)).isEmpty();
    assertThat(log.size()).isEqualTo(4);
  }

  @Test
  void wrapsAroundTheEndOfItsArrays_withoutGrowing() {
    ChangeLog log = new ChangeLog(KEPT, 4);
    log.add(0, A);
    log.add(100, B);
    log.add(600, C);
    log.add(700, D); // full: slots 0 to 3
    log.add(1_200, E); // drops A and B (older than 200), then goes in slot 0

    assertThat(log.capacity()).isEqualTo(4);
    assertThat(log.head()).isEqualTo(2);
    assertThat(log.size()).isEqualTo(3);
    assertThat(log.since(0)).containsExactly(E, D, C);
    assertThat(log.since(700)).containsExactly(E, D);

    log.add(1_250, F); // slot 1: full again, wrapped
    assertThat(log.capacity()).isEqualTo(4);
    assertThat(log.since(0)).containsExactly(F, E, D, C);
  }

  @Test
  void growsWhileWrapped_keepingTheOrder() {
    ChangeLog log = new ChangeLog(KEPT, 4);
    log.add(0, A);
    log.add(100, B);
    log.add(600, C);
    log.add(700, D);
    log.add(1_200, E);
    log.add(1_250, F); // C, D in slots 2 and 3; E, F wrapped into 0 and 1
    log.add(1_300, G); // full and nothing expired: grows by half, oldest first from slot 0

    assertThat(log.capacity()).isEqualTo(6);
    assertThat(log.head()).isZero();
    assertThat(log.size()).isEqualTo(5);
    assertThat(log.since(0)).containsExactly(G, F, E, D, C);
    assertThat(log.since(1_250)).containsExactly(G, F);

    log.add(1_700, A); // drops C (600 < 700); D at exactly 700 stays
    assertThat(log.since(0)).containsExactly(A, G, F, E, D);
    log.add(2_251, B); // drops everything up to F (1,250 < 1,251)
    assertThat(log.since(0)).containsExactly(B, A, G);
  }

  @Test
  void expiresEntriesOlderThanTheTimeKept_onlyWhenTheNextChangeIsAdded() {
    ChangeLog log = new ChangeLog(KEPT);
    log.add(0, A);
    log.add(500, B);
    assertThat(log.since(0)).as("kept until a change comes").containsExactly(B, A);

    log.add(1_000, C); // cutoff 0: A at 0 is not older than that
    assertThat(log.since(0)).containsExactly(C, B, A);
    log.add(1_001, D); // cutoff 1: A goes
    assertThat(log.since(0)).containsExactly(D, C, B);
    assertThat(log.size()).isEqualTo(3);

    log.add(10_000, E); // all the others go
    assertThat(log.since(0)).containsExactly(E);
    assertThat(log.size()).isEqualTo(1);
  }

  @Test
  void aLogFullOfExpiredEntries_doesNotGrow() {
    ChangeLog log = new ChangeLog(KEPT, 2);
    log.add(0, A);
    log.add(1, B);
    log.add(5_000, C);
    assertThat(log.capacity()).isEqualTo(2);
    assertThat(log.since(0)).containsExactly(C);
  }

  @Test
  void aClockThatWentBack_behavesAsTheDequeDid() {
    ChangeLog log = new ChangeLog(KEPT);
    log.add(1_000, A);
    log.add(500, B); // the clock went back
    log.add(1_100, C);
    // The answer stops at the first entry older than asked for, from the newest back: not A.
    assertThat(log.since(900)).containsExactly(C);

    log.add(1_600, D); // cutoff 600: A at the oldest end is newer, so B behind it stays too
    assertThat(log.since(0)).containsExactly(D, C, B, A);
    log.add(2_050, E); // cutoff 1,050: A, then B, go; C stays
    assertThat(log.since(0)).containsExactly(E, D, C);
  }

  @Test
  void aCapacityBelowTwo_isRejected() {
    assertThatThrownBy(() -> new ChangeLog(KEPT, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void matchesTheDequeItReplaced_overRandomChanges() {
    Random random = new Random(641_504L);
    List<ConnectionId> pool = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      pool.add(ConnectionId.of("fake", "shop-" + i));
    }
    ChangeLog log = new ChangeLog(KEPT, 2);
    DequeLog reference = new DequeLog();
    long now = 0;
    int maxCapacity = 0;
    for (int op = 0; op < 20_000; op++) {
      int r = random.nextInt(1_000);
      if (r < 5) {
        now += KEPT + random.nextInt((int) KEPT); // a quiet spell: everything expires
      } else if (r < 15) {
        now -= random.nextInt(300); // the clock went back
      } else if (op % 2_000 < 1_000) {
        now += random.nextInt(3); // a burst: many changes within the time kept
      } else {
        now += random.nextInt(40);
      }
      ConnectionId id = pool.get(random.nextInt(pool.size()));
      log.add(now, id);
      reference.add(now, id);
      assertThat(log.size()).isEqualTo(reference.size());
      maxCapacity = Math.max(maxCapacity, log.capacity());
      long from = now - random.nextInt((int) (2 * KEPT));
      assertThat(log.since(from)).as("op %d, since %d", op, from).isEqualTo(reference.since(from));
    }
    assertThat(maxCapacity).as("grew several times").isGreaterThan(100);
  }
}
