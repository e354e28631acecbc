package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;

/** A write to a connection that was revoked or uninstalled: only a new authorization may write. */
public final class TombstonedException extends TokenStoreException {
  private static final long serialVersionUID = 1L;

  private final Tombstone tombstone;

  public TombstonedException(ConnectionId connection, Tombstone tombstone) {
    super(
        connection,
        "connection "
            + connection
            + " was "
            + tombstone.reason()
            + " at "
            + tombstone.at()
            + "; only a new authorization writes it again",
        null);
    this.tombstone = tombstone;
  }

  public Tombstone tombstone() {
    return tombstone;
  }
}
