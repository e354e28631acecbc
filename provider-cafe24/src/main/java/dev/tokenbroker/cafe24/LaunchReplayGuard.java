package dev.tokenbroker.cafe24;

import java.time.Clock;
import java.time.Instant;

/**
 * Remembers one-time keys until they expire, so that a verified {@linkplain Cafe24AppLaunch app
 * launch} is accepted once: a copied launch URL opened a second time within its freshness window is
 * refused.
 *
 * <p>One implementation must be shared by every instance that can receive the launch (a load
 * balancer may send the second use elsewhere): back it by the shared token store in a deployed
 * service. {@link #inMemory} is for a single instance and tests. A functional interface, so a
 * method reference such as {@code store::firstUse} fits.
 *
 * <p>Implementations must be thread-safe and atomic: of two concurrent calls with the same key,
 * exactly one returns true.
 */
@FunctionalInterface
public interface LaunchReplayGuard {

  /**
   * Records {@code key} until {@code until}, if it is not recorded already.
   *
   * @param key a one-time key (no secret: a digest of the launch signature, the mall and the
   *     timestamp)
   * @param until when the key may be forgotten: after it, the launch is refused as stale anyway
   * @return true the first time {@code key} is seen before {@code until}; false for every later use
   */
  boolean firstUse(String key, Instant until);

  /**
   * A guard for one process: a concurrent map, forgetting keys after their {@code until} by the
   * given clock. Not shared between instances.
   *
   * @param clock the clock that decides when a key has expired
   * @return a new, empty in-memory guard
   */
  static LaunchReplayGuard inMemory(Clock clock) {
    return new InMemoryLaunchReplayGuard(clock);
  }
}
