package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The durable, shared truth about every connection's tokens, and the lease that lets only one
 * broker instance anywhere renew a connection at a time.
 *
 * <p>Implementations are thread-safe, may block on I/O, and never log tokens. A store shared by
 * several processes (file, JDBC, Redis) must make {@link #compareAndSet} atomic across all of them,
 * and {@link #tryAcquireLease} exclusive across all of them.
 */
public interface TokenStore extends AutoCloseable {

  /**
   * The stored set for {@code id} with its {@linkplain TokenSet#version() version}, or null.
   *
   * @throws TokenStoreException if the store cannot be read or the record is corrupt
   */
  @Nullable TokenSet load(ConnectionId id);

  /**
   * Saves {@code tokens} if the stored version is {@code expectedVersion} (0: nothing stored), and
   * returns it with the new version. Durable when it returns.
   *
   * @throws VersionConflictException if another version is stored
   * @throws TokenStoreException if the save failed; the previously stored set is intact
   */
  TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens);

  /**
   * Removes the stored set for {@code id} (after a revocation). Does nothing when none is stored.
   */
  void delete(ConnectionId id);

  /** Every connection with a stored set. */
  List<ConnectionId> connections();

  /**
   * Takes the renewal lease of {@code id} for {@code ttl}, or returns null at once when another
   * owner holds an unexpired one. Re-acquiring one's own lease extends it.
   */
  @Nullable Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl);

  /** Gives the lease back, if it is still the current one; otherwise does nothing. */
  void releaseLease(Lease lease);

  /** Releases resources the store opened itself. */
  @Override
  default void close() {}
}
