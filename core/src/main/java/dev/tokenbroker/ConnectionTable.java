package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * The broker's connections by id: an immutable open-addressing table (linear probing, a
 * power-of-two capacity at least twice the number of connections). One array slot per entry and no
 * entry objects, so it costs about 10 bytes per connection at 100,000, and a lookup of an id the
 * broker was configured with is one hash, one array read and an identity check.
 */
final class ConnectionTable {
  private final @Nullable Connection[] slots;
  private final int mask;

  ConnectionTable(Connection[] connections) {
    int capacity = Integer.highestOneBit(Math.max(2, connections.length) * 2 - 1) << 1;
    slots = new Connection[capacity];
    mask = capacity - 1;
    for (Connection c : connections) {
      int i = spread(c.id.hashCode()) & mask;
      while (slots[i] != null) {
        if (slots[i].id.equals(c.id)) {
          throw new IllegalArgumentException("connection " + c.id + " given twice");
        }
        i = (i + 1) & mask;
      }
      slots[i] = c;
    }
  }

  /** The connection configured as {@code id}, or null. */
  @Nullable Connection get(ConnectionId id) {
    int i = spread(id.hashCode()) & mask;
    Connection c;
    while ((c = slots[i]) != null) {
      if (c.id == id || c.id.equals(id)) {
        return c;
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  /** Folds the high bits in, as HashMap does: ids differing only there still spread. */
  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}
