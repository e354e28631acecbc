package dev.tokenbroker.store;

import dev.tokenbroker.TokenSet;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link TokenStore} holds for one connection, read at once.
 *
 * @param tokens the token set with its version, or null (never authorized, lost, or tombstoned)
 * @param health the failure state, or null (ACTIVE)
 * @param tombstone set after a revocation or uninstall; then {@code tokens} is null
 */
public record StoredConnection(
    @Nullable TokenSet tokens, @Nullable HealthRecord health, @Nullable Tombstone tombstone) {

  /** Nothing stored. */
  public static final StoredConnection EMPTY = new StoredConnection(null, null, null);

  /**
   * The stored token set's version; 0 when none.
   *
   * @return the stored token set's version; 0 when none
   */
  public long version() {
    return tokens == null ? 0 : tokens.version();
  }

  /**
   * The stored health record's version; 0 when none.
   *
   * @return the stored health record's version; 0 when none
   */
  public long healthVersion() {
    return health == null ? 0 : health.version();
  }
}
