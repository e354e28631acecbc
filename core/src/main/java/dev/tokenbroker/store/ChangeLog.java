package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@link InMemoryTokenStore}'s registry changes, oldest first: a ring buffer of two parallel
 * arrays (when, which connection) and no entry objects, 12 bytes a slot with compressed pointers.
 * It grows by half when full, as a large {@code ArrayDeque} does, and never shrinks. An entry is
 * dropped once it is older than the time kept, when the next change is added.
 *
 * <p>Not thread-safe: the store calls it under its monitor.
 */
final class ChangeLog {
  private static final int DEFAULT_CAPACITY = 16;

  private final long keptMillis;

  private long[] atMillis;
  private @Nullable ConnectionId[] ids;

  /** The slot of the oldest entry. */
  private int head;

  private int size;

  /**
   * An empty log.
   *
   * @param keptMillis how long an entry is kept, at least
   */
  ChangeLog(long keptMillis) {
    this(keptMillis, DEFAULT_CAPACITY);
  }

  /**
   * Test support: an empty log of {@code capacity} slots, so that tests can wrap it with a few
   * entries.
   *
   * @param keptMillis how long an entry is kept, at least
   * @param capacity the number of slots, at least 2
   */
  ChangeLog(long keptMillis, int capacity) {
    if (capacity < 2) {
      throw new IllegalArgumentException("capacity must be at least 2, got " + capacity);
    }
    this.keptMillis = keptMillis;
    atMillis = new long[capacity];
    ids = new ConnectionId[capacity];
  }

  /** The number of entries kept. */
  int size() {
    return size;
  }

  /** Test support: the number of slots. */
  int capacity() {
    return ids.length;
  }

  /** Test support: the slot of the oldest entry. */
  int head() {
    return head;
  }

  /** The slot of the entry {@code n} places after the oldest. */
  private int slot(int n) {
    int i = head + n;
    return i < ids.length ? i : i - ids.length;
  }

  /**
   * Records that {@code id} changed at {@code nowMillis}, then drops the oldest entries while they
   * are older than {@code nowMillis} minus the time kept (only from the oldest end: an entry behind
   * a newer one stays, should the clock have gone back).
   */
  void add(long nowMillis, ConnectionId id) {
    long cutoff = nowMillis - keptMillis;
    dropOlderThan(cutoff); // first, so that a log full of expired entries need not grow
    if (size == ids.length) {
      grow();
    }
    int tail = slot(size);
    atMillis[tail] = nowMillis;
    ids[tail] = id;
    size++;
    dropOlderThan(cutoff); // the new entry too, should nowMillis - keptMillis have overflowed
  }

  private void dropOlderThan(long cutoff) {
    while (size > 0 && atMillis[head] < cutoff) {
      ids[head] = null;
      head = slot(1);
      size--;
    }
  }

  private void grow() {
    int capacity = ids.length + (ids.length >> 1);
    long[] newAt = new long[capacity];
    ConnectionId[] newIds = new ConnectionId[capacity];
    int first = Math.min(size, ids.length - head); // from head to the end of the arrays
    System.arraycopy(atMillis, head, newAt, 0, first);
    System.arraycopy(ids, head, newIds, 0, first);
    System.arraycopy(atMillis, 0, newAt, first, size - first);
    System.arraycopy(ids, 0, newIds, first, size - first);
    atMillis = newAt;
    ids = newIds;
    head = 0;
  }

  /**
   * The connections of the entries at or after {@code fromMillis}, newest first, each once: from
   * the newest entry back to the first one older than {@code fromMillis}.
   */
  List<ConnectionId> since(long fromMillis) {
    Set<ConnectionId> out = new LinkedHashSet<>();
    for (int n = size - 1; n >= 0; n--) {
      int i = slot(n);
      if (atMillis[i] < fromMillis) {
        break;
      }
      out.add(ids[i]);
    }
    return new ArrayList<>(out);
  }
}
