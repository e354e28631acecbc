package dev.tokenbroker;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The broker's connections: by id for lookups ({@link ConnectionTable}: one probe, no entry
 * objects) and in configuration order for passes over all of them. Fixed when the broker is built.
 */
final class ConnectionRegistry {
  private final ConnectionTable byId;
  private final Connection[] inOrder;

  ConnectionRegistry(Connection[] inOrder) {
    this.inOrder = inOrder.clone();
    this.byId = new ConnectionTable(this.inOrder);
  }

  /** The connection configured as {@code id}, or null (the hot path's lookup). */
  @org.jspecify.annotations.Nullable
  Connection find(ConnectionId id) {
    return byId.get(id);
  }

  /**
   * The connection configured as {@code id}.
   *
   * @throws ConfigurationException if there is none
   */
  Connection get(ConnectionId id) {
    Connection c = byId.get(Objects.requireNonNull(id, "id"));
    if (c == null) {
      throw new ConfigurationException(
          id, null, "no such connection is configured; configured: " + sample());
    }
    return c;
  }

  /** Every connection, in configuration order. Do not modify. */
  Connection[] inOrder() {
    return inOrder;
  }

  int size() {
    return inOrder.length;
  }

  Set<ConnectionId> ids() {
    TreeSet<ConnectionId> ids = new TreeSet<>();
    for (Connection c : inOrder) {
      ids.add(c.id);
    }
    return Collections.unmodifiableSet(ids);
  }

  /** The configured ids for an error message: all of a few, the first ten of many. */
  private String sample() {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < inOrder.length && i < 10; i++) {
      b.append(i == 0 ? "" : ", ").append(inOrder[i].id);
    }
    if (inOrder.length > 10) {
      b.append(", … ").append(inOrder.length - 10).append(" more");
    }
    return b.append(']').toString();
  }
}
