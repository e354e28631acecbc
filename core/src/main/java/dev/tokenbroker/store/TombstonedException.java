package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;

/** A write to a connection that was revoked or uninstalled: only a new authorization may write. */
public final class TombstonedException extends TokenStoreException {
  private static final long serialVersionUID = 1L;

  /** The tombstone that refused the write. */
  private final Tombstone tombstone;

  /**
   * @param connection the connection
   * @param tombstone the tombstone that refused the write
   */
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

  /**
   * The tombstone that refused the write.
   *
   * @return the tombstone
   */
  public Tombstone tombstone() {
    return tombstone;
  }
}
