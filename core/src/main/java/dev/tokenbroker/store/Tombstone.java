package dev.tokenbroker.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Left in the store where a connection was revoked or uninstalled, so that no instance writes it
 * back (a renewal in flight, a restore after a store lost its records). Only a new authorization
 * replaces it.
 *
 * @param reason {@code revoked} or {@code uninstalled}
 * @param at when, by the clock of the instance that wrote it
 * @param version the token set version the connection had: versions continue from it
 */
public record Tombstone(String reason, Instant at, long version) {
  /**
   * Checks the fields.
   *
   * @param at when, by the clock of the instance that wrote it
   * @param reason why, one of the reason codes in {@link dev.tokenbroker.Health}
   * @param version the store version
   */
  public Tombstone {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(at, "at");
  }
}
