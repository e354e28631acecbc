package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;

/**
 * A compare-and-set found another version than expected: another writer saved this connection in
 * between. Reload and decide again.
 */
public final class VersionConflictException extends TokenStoreException {
  private static final long serialVersionUID = 1L;

  /** The version the write expected. */
  private final long expectedVersion;

  /** The version the store holds. */
  private final long actualVersion;

  /**
   * @param connection the connection
   * @param expectedVersion the version the write expected
   * @param actualVersion the version the store holds
   */
  public VersionConflictException(
      ConnectionId connection, long expectedVersion, long actualVersion) {
    super(
        connection,
        "connection "
            + connection
            + ": stored version is "
            + actualVersion
            + ", expected "
            + expectedVersion,
        null);
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  /**
   * The version the write expected.
   *
   * @return the expected version
   */
  public long expectedVersion() {
    return expectedVersion;
  }

  /**
   * The version found in the store; 0 when nothing is stored.
   *
   * @return the version found in the store; 0 when nothing is stored
   */
  public long actualVersion() {
    return actualVersion;
  }
}
