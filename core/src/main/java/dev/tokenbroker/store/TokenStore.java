package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The durable, shared truth about every connection: its token set, the renewal lease that lets only
 * one broker instance anywhere renew it at a time, its health record and, after a revocation or an
 * uninstall, its tombstone.
 *
 * <h2>The contract</h2>
 *
 * <ul>
 *   <li><b>Versions.</b> Every saved token set gets a version one above the previous one for the
 *       connection. Versions never go backwards for a connection: a tombstone keeps the last
 *       version, and a new authorization continues from it.
 *   <li><b>Fenced writes.</b> Every write of a token set or tombstone names the {@link Lease} it
 *       was made under, and is rejected with {@link StaleLeaseException} unless that lease is still
 *       the connection's current one (same {@linkplain Lease#fencingToken() fence} and owner). A
 *       lease stays current until it is released or another owner is granted one; an expired lease
 *       nobody took over is still current. Fences grow with every grant and never go backwards: a
 *       grant is above both the highest fence the store remembers and the {@code minFence} the
 *       caller carries, so a store restored from an older copy cannot hand out a fence an instance
 *       has already seen.
 *   <li><b>Renewal marker.</b> {@link #markRenewing} records on the lease that a token request is
 *       about to be sent. A fenced save under the lease, or its release, clears it. A holder that
 *       dies in between leaves it behind, and the next owner's lease reports it ({@link
 *       Lease#renewalCutShortAt()}): the refresh token may have been spent.
 *   <li><b>Health beside the tokens.</b> The {@link HealthRecord} is kept next to the token set but
 *       a health write never changes the token set or its version. Health writes are
 *       compare-and-set on the connection's own <em>health version</em>, so that exactly one
 *       instance moves it to a new state.
 *   <li><b>Health versions.</b> Each connection's health version starts at 0 (no record was ever
 *       written or cleared) and only ever goes up: every successful {@link #compareAndSetHealth}, a
 *       write or a clear, makes it exactly {@code expectedVersion + 1}. A clear removes the record
 *       but keeps the version: a read then reports {@link StoredConnection#health()} null with
 *       {@link StoredConnection#healthVersion()} the version the clear made, and the next write
 *       must name it. {@link #authorize} clears a stored record the same way (the version goes one
 *       up; with no record stored it stays). {@link #tombstone}, {@link #restore} and token saves
 *       leave the health record and its version alone. So a writer holding an older version never
 *       succeeds, whatever writes and clears came in between. Only a store that lost its data
 *       (restarted empty, restored from an old copy) may start a connection's health version again
 *       from 0.
 *   <li><b>Tombstones.</b> A tombstoned connection has no token set; only {@link #authorize} (a new
 *       authorization) writes one again. {@link #restore} never revives it.
 * </ul>
 *
 * <p>Implementations are thread-safe, may block on I/O, and never log tokens. A store shared by
 * several processes (file, JDBC, Redis) makes every write atomic across all of them. Any failure to
 * read or write is a {@link TokenStoreException} (or a subclass) naming the connection.
 */
public interface TokenStore extends AutoCloseable {

  /** The value of {@code minFence} for a caller that has seen no fence yet. */
  long NO_FENCE = 0;

  // ------------------------------------------------------------------------------------------
  // Reading

  /**
   * Everything stored for {@code id} in one consistent read: token set (with its version), health
   * record and tombstone, each possibly absent.
   *
   * @param id the connection
   * @return everything stored for {@code id} in one consistent read: token set (with its version),
   *     health record and tombstone, each possibly absent
   * @throws TokenStoreException if the store cannot be read or a record is corrupt
   */
  StoredConnection read(ConnectionId id);

  /**
   * The stored token set for {@code id}, or null (nothing stored, or a tombstone).
   *
   * @param id the connection
   * @return the stored token set for {@code id}, or null (nothing stored, or a tombstone)
   */
  default @Nullable TokenSet load(ConnectionId id) {
    return read(id).tokens();
  }

  /**
   * The stored state of each of {@code ids}, in their order, for passes over many connections
   * (keep-alive). Stores that can read in batches override this.
   *
   * @param ids the connections to read
   * @return the stored state of each of {@code ids}, in their order, for passes over many
   *     connections (keep-alive)
   */
  default Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (ConnectionId id : ids) {
      out.put(id, read(id));
    }
    return out;
  }

  /**
   * Every connection with a stored token set (tombstoned ones excluded), sorted.
   *
   * @return every connection with a stored token set (tombstoned ones excluded), sorted
   */
  List<ConnectionId> connections();

  // ------------------------------------------------------------------------------------------
  // Token sets: every write fenced by the lease it was made under

  /**
   * Saves {@code tokens} if the stored version is {@code expectedVersion} (0: nothing stored) and
   * {@code lease} is still current, and returns it with the new version. Durable when it returns.
   *
   * @param id the connection
   * @param expectedVersion the version the caller read
   * @param tokens the token set
   * @param lease the lease the write is made under
   * @return the set as saved, with its new version
   * @throws VersionConflictException if another version is stored
   * @throws StaleLeaseException if {@code lease} is no longer the connection's current lease
   * @throws TombstonedException if the connection was revoked or uninstalled
   * @throws TokenStoreException if the save failed; the previously stored set is intact
   */
  TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease);

  /**
   * Saves the first set of a new authorization, whatever is stored (an older chain, a tombstone,
   * nothing), if {@code lease} is still current; the new version is one above the highest the
   * connection had. Clears the tombstone and the health record; clearing a stored health record
   * moves the health version one up, as a clear by {@link #compareAndSetHealth} does.
   *
   * @param id the connection
   * @param tokens the token set
   * @param lease the lease the write is made under
   * @return the set as saved, with its new version
   * @throws StaleLeaseException if {@code lease} is no longer the connection's current lease
   */
  TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease);

  /**
   * Writes back a set an instance holds when the store lost it or went back in time: saved with its
   * own version if nothing is stored (and no tombstone) or the stored version is lower. Not fenced:
   * newest version wins, and a tombstone always wins.
   *
   * @param id the connection
   * @param tokens the token set
   * @return what the store holds afterwards
   */
  StoredConnection restore(ConnectionId id, TokenSet tokens);

  /**
   * Replaces the token set with {@code tombstone} (revoked, uninstalled), keeping the version
   * counter, if {@code lease} is still current. The connection leaves {@link #connections()}.
   *
   * @param tombstone the tombstone to leave
   * @param id the connection
   * @param lease the lease the write is made under
   * @throws StaleLeaseException if {@code lease} is no longer the connection's current lease
   */
  void tombstone(ConnectionId id, Tombstone tombstone, Lease lease);

  // ------------------------------------------------------------------------------------------
  // The renewal lease

  /**
   * Takes the renewal lease of {@code id} for {@code ttl}, or returns null at once when another
   * owner holds an unexpired one. The fence is above the store's last one and above {@code
   * minFence}. Taking a lease one already holds grants a new one (a new fence).
   *
   * @param id the connection
   * @param owner the instance asking
   * @param ttl how long a lease lasts
   * @param minFence the lowest fence to grant: a fence never goes backwards, even after a restore
   * @return the lease, or null when another owner holds it
   */
  @Nullable Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl, long minFence);

  /**
   * Takes the lease whoever holds it (revoke and a new authorization win over a renewal in flight:
   * the holder's later writes are rejected as stale).
   *
   * @param id the connection
   * @param owner the instance asking
   * @param ttl how long a lease lasts
   * @param minFence the lowest fence to grant: a fence never goes backwards, even after a restore
   * @return the new lease, with a higher fence than any before
   */
  Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence);

  /**
   * Extends {@code lease} to now plus {@code ttl}, keeping its fence; null if it is no longer
   * current (another owner took it over).
   *
   * @param lease the lease the write is made under
   * @param ttl how long a lease lasts
   * @return the extended lease, or null if it is no longer current
   */
  @Nullable Lease extendLease(Lease lease, Duration ttl);

  /**
   * Records on {@code lease} that a token request is about to be sent; see the class description.
   *
   * @param lease the lease the write is made under
   * @throws StaleLeaseException if {@code lease} is no longer current
   */
  void markRenewing(Lease lease);

  /**
   * Gives the lease back (clearing its marker), if it is still current; otherwise does nothing.
   *
   * @param lease the lease the write is made under
   */
  void releaseLease(Lease lease);

  // ------------------------------------------------------------------------------------------
  // Health

  /**
   * Replaces the health record of {@code id} if the connection's health version is {@code
   * expectedVersion} ({@link StoredConnection#healthVersion()}: 0 when no record was ever written
   * or cleared); {@code next == null} clears it. On success the health version becomes exactly
   * {@code expectedVersion + 1}, for a clear too: a written record is stored with that version, and
   * a cleared one leaves it behind (a read reports no record with that version). Versions never go
   * back, so a writer holding an old version can never overwrite a newer record, nor a clear. Never
   * touches the token set.
   *
   * @param id the connection
   * @param expectedVersion the health version the caller read
   * @param next the new health record, or null for ACTIVE
   * @return true if this call moved the record (the health version is now {@code expectedVersion +
   *     1}); false if the health version is another one (another writer moved it first)
   */
  boolean compareAndSetHealth(ConnectionId id, long expectedVersion, @Nullable HealthRecord next);

  // ------------------------------------------------------------------------------------------
  // The registry: connections added and removed at run time, seen by every instance

  /**
   * The connections whose record was created, {@linkplain #authorize authorized}, {@linkplain
   * #restore restored} or {@linkplain #tombstone tombstoned} at or after {@code since}, by the
   * store's clock (the one its leases run on), in no particular order; renewals ({@link
   * #compareAndSet}) need not appear. Instances poll this to learn connections onboarded or removed
   * elsewhere; a caller asks again from a little before its last answer, so a change committed late
   * is still seen. A store keeps at least the last hour of changes; an older {@code since} may
   * return more than changed, never less.
   *
   * @param since the earliest change wanted
   * @return the ids changed since then; the caller reads each to see what changed
   */
  List<ConnectionId> changedSince(Instant since);

  // ------------------------------------------------------------------------------------------
  // One-time records: authorization state shared by every instance, replay guards

  /**
   * Keeps {@code value} under {@code key} until {@code expiresAt} (by the store's clock), unless
   * the key already holds an unexpired value: then nothing changes. Atomic across every instance
   * sharing the store. Not a token set: values are small (under 4 KiB), short-lived and written by
   * the broker itself (sealed when the store encrypts).
   *
   * @param key the key, printable ASCII, at most 200 characters
   * @param value the value
   * @param expiresAt when the value stops counting
   * @return true if stored; false if the key was taken
   */
  boolean putOnce(String key, byte[] value, Instant expiresAt);

  /**
   * Removes the value under {@code key} and returns it, if it is there and unexpired: across every
   * instance sharing the store, exactly one caller gets it.
   *
   * @param key the key given to {@link #putOnce}
   * @return the value, or null if none (never stored, expired, or already taken)
   */
  byte @Nullable [] takeOnce(String key);

  /**
   * Saves {@code tokens} the way a new authorization does, outside any renewal: seizes the lease,
   * {@linkplain #authorize authorizes}, releases. For tokens obtained elsewhere (an import) and for
   * tests that seed a store.
   *
   * @param id the connection
   * @param tokens the token set
   * @return the set as saved, with its new version
   */
  default TokenSet put(ConnectionId id, TokenSet tokens) {
    Lease lease = seizeLease(id, "put", Duration.ofMinutes(1), NO_FENCE);
    try {
      return authorize(id, tokens, lease);
    } finally {
      releaseLease(lease);
    }
  }

  /** Releases resources the store opened itself. */
  @Override
  default void close() {}
}
