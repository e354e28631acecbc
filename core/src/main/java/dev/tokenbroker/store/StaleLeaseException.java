package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;

/**
 * A write was made under a lease that is no longer the connection's current one: another owner took
 * the lease over (its own lease expired, or a revoke or new authorization seized it). The write did
 * not happen; whatever the new owner writes wins.
 */
public final class StaleLeaseException extends TokenStoreException {
  private static final long serialVersionUID = 1L;

  /** The fence of the rejected write. */
  private final long fence;

  /**
   * @param connection the connection
   * @param fence the fence of the write the store rejected
   */
  public StaleLeaseException(ConnectionId connection, long fence) {
    super(
        connection,
        "connection "
            + connection
            + ": the renewal lease with fence "
            + fence
            + " is no longer current",
        null);
    this.fence = fence;
  }

  /**
   * The fence of the stale lease.
   *
   * @return the fence of the stale lease
   */
  public long fence() {
    return fence;
  }
}
