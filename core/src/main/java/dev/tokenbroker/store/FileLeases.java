package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.FileLocking.Mode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The renewal-lease operations of a {@link FileTokenStore}, each run under the connection's
 * exclusive lock ({@link FileLocking}) on {@code lock}, the lock file holding the {@link
 * LeaseState}. Lease expiry uses the store's {@link Clock}; a lease whose holder's process is found
 * dead (its holder file unlocked, see {@link HolderLocks}) is taken over before it expires.
 * Arguments are checked by the store ({@link #checkLeaseArguments}, {@link #checkTtl}).
 */
final class FileLeases {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  private final Clock clock;
  private final HolderLocks holders;
  private final FileLocking locking;

  FileLeases(Clock clock, HolderLocks holders, FileLocking locking) {
    this.clock = clock;
    this.holders = holders;
    this.locking = locking;
  }

  /** The lease, unless another owner holds an unexpired one whose process lives. */
  @Nullable Lease tryAcquire(ConnectionId id, String owner, Duration ttl, long minFence) {
    return locking.locked(
        id,
        "take the renewal lease",
        Mode.WRITE,
        lock -> tryAcquire(id, lock, owner, ttl, minFence));
  }

  /** The lease, whoever holds it. */
  Lease seize(ConnectionId id, String owner, Duration ttl, long minFence) {
    return locking.locked(
        id,
        "seize the renewal lease",
        Mode.WRITE,
        lock -> grant(id, lock, LeaseState.read(lock), owner, ttl, minFence, clock.millis(), null));
  }

  /** The lease with a new expiry, or null if it is not current. */
  @Nullable Lease extend(Lease lease, Duration ttl) {
    return locking.locked(
        lease.connection(),
        "extend the renewal lease",
        Mode.WRITE,
        lock -> extend(lock, lease, ttl));
  }

  /** Sets the renewal marker of the current {@code lease}. */
  void markRenewing(Lease lease) {
    ConnectionId id = lease.connection();
    locking.locked(
        id,
        "mark the renewal",
        Mode.WRITE,
        lock -> {
          markRenewing(id, lock, lease);
          return null;
        });
  }

  /** Frees {@code lease} if it is current, and drops its holder lock either way. */
  void release(Lease lease) {
    locking.locked(
        lease.connection(),
        "release the renewal lease",
        Mode.WRITE,
        lock -> {
          release(lock, lease);
          return null;
        });
  }

  private @Nullable Lease tryAcquire(
      ConnectionId id, FileChannel lock, String owner, Duration ttl, long minFence)
      throws IOException {
    LeaseState held = LeaseState.read(lock);
    long now = clock.millis();
    FileChannel deadHolders = null;
    if (held.owner != null && !held.owner.equals(owner) && now < held.expiresAtMillis) {
      deadHolders = held.holderLocked ? holders.lockOfADeadHolder(id) : null;
      if (deadHolders == null) {
        return null;
      }
      log.info(
          "connection {}: the process holding the renewal lease (fence {}) is gone; its"
              + " lease is taken over before it expires",
          id,
          held.fence);
    }
    return grant(id, lock, held, owner, ttl, minFence, now, deadHolders);
  }

  /**
   * Grants a new lease over {@code held}; {@code deadHolders} is the holder file's channel, locked,
   * when the lease is taken over from a process found dead.
   */
  private Lease grant(
      ConnectionId id,
      FileChannel lock,
      LeaseState held,
      String owner,
      Duration ttl,
      long minFence,
      long now,
      @Nullable FileChannel deadHolders)
      throws IOException {
    Instant cutShort =
        held.owner != null && held.renewingSinceMillis >= 0
            ? Instant.ofEpochMilli(held.renewingSinceMillis)
            : null;
    long fence = Math.max(held.fence, minFence) + 1;
    long expires = now + ttl.toMillis();
    holders.grant(
        id,
        fence,
        deadHolders,
        // The marker stays until the new holder marks, saves or releases: a grant whose reply
        // was lost must not erase the only report of a renewal cut short.
        holderLocked ->
            new LeaseState(
                    fence,
                    owner,
                    expires,
                    cutShort == null ? -1 : held.renewingSinceMillis,
                    holderLocked)
                .write(lock));
    return new Lease(id, owner, fence, Instant.ofEpochMilli(expires), cutShort);
  }

  private @Nullable Lease extend(FileChannel lock, Lease lease, Duration ttl) throws IOException {
    LeaseState held = LeaseState.read(lock);
    if (!held.isCurrent(lease)) {
      return null;
    }
    long expires = clock.millis() + ttl.toMillis();
    new LeaseState(held.fence, held.owner, expires, held.renewingSinceMillis, held.holderLocked)
        .write(lock);
    return lease.withExpiry(Instant.ofEpochMilli(expires));
  }

  private void markRenewing(ConnectionId id, FileChannel lock, Lease lease) throws IOException {
    LeaseState held = LeaseState.read(lock);
    requireCurrent(id, held, lease);
    new LeaseState(held.fence, held.owner, held.expiresAtMillis, clock.millis(), held.holderLocked)
        .write(lock);
  }

  private void release(FileChannel lock, Lease lease) throws IOException {
    LeaseState held = LeaseState.read(lock);
    if (held.isCurrent(lease)) {
      // Keep the fencing value: the next grant must get a larger one.
      new LeaseState(held.fence, null, 0, -1, false).write(lock);
    }
    // Current or not (taken over after it expired), this process is done with it.
    holders.drop(lease.connection(), lease.fencingToken());
  }

  static void requireCurrent(ConnectionId id, LeaseState held, Lease lease) {
    if (!lease.connection().equals(id) || !held.isCurrent(lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  /** After a save under the lease: clears its renewal marker, if it has one. */
  static void clearMarker(ConnectionId id, FileChannel lock, LeaseState held) {
    if (held.renewingSinceMillis < 0) {
      return;
    }
    try {
      new LeaseState(held.fence, held.owner, held.expiresAtMillis, -1, held.holderLocked)
          .write(lock);
    } catch (IOException e) {
      // The save is done and durable; a marker left behind only makes the next holder report a
      // renewal cut short, the cautious mistake.
      log.warn(
          "connection {}: saved, but the renewal marker stays: {}", id, RecordFiles.describe(e));
    }
  }

  static void checkLeaseArguments(ConnectionId id, String owner, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    checkTtl(ttl);
  }

  static void checkTtl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
  }
}
