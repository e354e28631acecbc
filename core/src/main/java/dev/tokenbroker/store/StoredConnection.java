package dev.tokenbroker.store;

import dev.tokenbroker.TokenSet;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link TokenStore} holds for one connection, read at once.
 *
 * @param tokens the token set with its version, or null (never authorized, lost, or tombstoned)
 * @param health the failure state, or null (ACTIVE)
 * @param tombstone set after a revocation or uninstall; then {@code tokens} is null
 * @param healthVersion the connection's health version, what {@link TokenStore#compareAndSetHealth}
 *     compares: the version of {@code health} when there is one, and also when there is none, since
 *     a clear keeps the version (0: no health record was ever written or cleared)
 */
public record StoredConnection(
    @Nullable TokenSet tokens,
    @Nullable HealthRecord health,
    @Nullable Tombstone tombstone,
    long healthVersion) {

  /** Nothing stored. */
  public static final StoredConnection EMPTY = new StoredConnection(null, null, null, 0);

  /**
   * Checks that a health record carries the health version.
   *
   * @param tokens the token set with its version, or null
   * @param health the failure state, or null (ACTIVE)
   * @param tombstone the tombstone, or null
   * @param healthVersion the connection's health version
   */
  public StoredConnection {
    if (healthVersion < 0) {
      throw new IllegalArgumentException("healthVersion must be >= 0, got " + healthVersion);
    }
    if (health != null && health.version() != healthVersion) {
      throw new IllegalArgumentException(
          "the health record has version "
              + health.version()
              + " but the health version is "
              + healthVersion);
    }
  }

  /**
   * What a store holds whose health version is that of {@code health} (0 when there is none): for a
   * connection whose health record was never cleared.
   *
   * @param tokens the token set with its version, or null
   * @param health the failure state, or null (ACTIVE)
   * @param tombstone the tombstone, or null
   */
  public StoredConnection(
      @Nullable TokenSet tokens, @Nullable HealthRecord health, @Nullable Tombstone tombstone) {
    this(tokens, health, tombstone, health == null ? 0 : health.version());
  }

  /**
   * The stored token set's version; 0 when none.
   *
   * @return the stored token set's version; 0 when none
   */
  public long version() {
    return tokens == null ? 0 : tokens.version();
  }
}
