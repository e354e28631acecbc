package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@link InMemoryTokenStore}'s token sets by connection: an open-addressing hash table with
 * linear probing in two parallel arrays, keys and values, and no entry objects. The capacity is a
 * power of two, doubled whenever the table would be more than 60% full; a removal shifts the rest
 * of its probe chain back, so removals leave no tombstones and lookups never slow down with churn.
 * Each slot costs two references (8 bytes with compressed pointers), so a connection costs 13 to 27
 * bytes, where a {@code HashMap} costs a 32-byte node plus its table slot.
 *
 * <p>Not thread-safe: the store calls it under its monitor. Iteration order is the table's, which
 * is no order at all; the store sorts what it lists.
 */
final class TokenSetTable {
  private static final int DEFAULT_CAPACITY = 16;

  private @Nullable ConnectionId[] keys;
  private @Nullable TokenSet[] values;

  /** {@code 32 - log2(capacity)}: a hash's top bits, after mixing, pick its home slot. */
  private int shift;

  private int size;

  /** An empty table of the default capacity. */
  TokenSetTable() {
    this(DEFAULT_CAPACITY);
  }

  /**
   * Test support: an empty table of {@code capacity} slots, so that tests can make probe chains
   * with few keys.
   *
   * @param capacity a power of two, at least 2
   */
  TokenSetTable(int capacity) {
    if (capacity < 2 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("capacity must be a power of two >= 2, got " + capacity);
    }
    allocate(capacity);
  }

  private void allocate(int capacity) {
    keys = new ConnectionId[capacity];
    values = new TokenSet[capacity];
    shift = Integer.numberOfLeadingZeros(capacity) + 1;
  }

  /** The number of connections in the table. */
  int size() {
    return size;
  }

  /** Test support: the number of slots. */
  int capacity() {
    return keys.length;
  }

  /**
   * Test support: the slot where {@code id}'s probe chain starts. Fibonacci hashing: the multiply
   * carries every bit of the hash into the top ones, so ids whose hashes differ only in a few bits
   * (such as {@code shop-1}, {@code shop-2}) still land far apart instead of forming one cluster.
   */
  int home(ConnectionId id) {
    return (id.hashCode() * 0x9E3779B9) >>> shift;
  }

  /** Test support: the key in {@code slot}, or null. */
  @Nullable ConnectionId keyAt(int slot) {
    return keys[slot];
  }

  /** The slot holding {@code id}, or -1. */
  private int find(ConnectionId id) {
    int mask = keys.length - 1;
    int i = home(id);
    ConnectionId k;
    while ((k = keys[i]) != null) {
      if (k == id || k.equals(id)) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  /**
   * The token set stored for {@code id}, or null.
   *
   * @param id the connection; a null id is never present (as {@code HashMap.get(null)} found
   *     nothing in the store before, and the store's {@code read} relies on that)
   */
  @Nullable TokenSet get(ConnectionId id) {
    if (id == null) {
      return null;
    }
    int i = find(id);
    return i < 0 ? null : values[i];
  }

  /**
   * Stores {@code value} for {@code id}, replacing what was there.
   *
   * @return the set replaced, or null
   */
  @Nullable TokenSet put(ConnectionId id, TokenSet value) {
    int mask = keys.length - 1;
    int i = home(id); // throws NullPointerException for a null id, as nothing may be stored there
    ConnectionId k;
    while ((k = keys[i]) != null) {
      if (k == id || k.equals(id)) {
        TokenSet old = values[i];
        values[i] = value;
        return old;
      }
      i = (i + 1) & mask;
    }
    keys[i] = id;
    values[i] = value;
    size++;
    if (size * 5L > keys.length * 3L) { // more than 60% full: there is still a free slot
      grow();
    }
    return null;
  }

  private void grow() {
    ConnectionId[] oldKeys = keys;
    TokenSet[] oldValues = values;
    allocate(oldKeys.length * 2);
    int mask = keys.length - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      ConnectionId k = oldKeys[j];
      if (k != null) {
        int i = home(k);
        while (keys[i] != null) { // the keys are distinct: no equality checks
          i = (i + 1) & mask;
        }
        keys[i] = k;
        values[i] = oldValues[j];
      }
    }
  }

  /**
   * Removes {@code id}'s entry.
   *
   * @param id the connection; null removes nothing
   * @return the set removed, or null
   */
  @Nullable TokenSet remove(ConnectionId id) {
    if (id == null) {
      return null;
    }
    int hole = find(id);
    if (hole < 0) {
      return null;
    }
    TokenSet old = values[hole];
    size--;
    // Backward shift: walk the rest of the chain; an entry whose home is not cyclically in
    // (hole, j] would be cut off from it by the hole, so it moves into the hole, which moves on.
    int mask = keys.length - 1;
    int j = hole;
    ConnectionId k;
    while ((k = keys[j = (j + 1) & mask]) != null) {
      if (((j - home(k)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = null;
    values[hole] = null;
    return old;
  }

  /** Every connection in the table, in table order (no order). */
  List<ConnectionId> keys() {
    List<ConnectionId> out = new ArrayList<>(size);
    for (ConnectionId k : keys) {
      if (k != null) {
        out.add(k);
      }
    }
    return out;
  }
}
