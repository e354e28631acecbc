package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.FileLocking.Mode;
import dev.tokenbroker.store.RecordReader.Records;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;

/**
 * The writes of a {@link FileTokenStore}'s token sets and tombstones, each under the connection's
 * exclusive lock ({@link FileLocking}); all but {@link #restore} are fenced: made only while their
 * lease is current, and they clear its renewal marker. Records are encoded before the lock is taken
 * (see the store's description, "Locking"). A token or tombstone file is stamped with the store's
 * clock, the registry time of {@link FileTokenStore#changedSince}. Arguments are checked by the
 * store.
 */
final class FileRecordWrites {
  private final FileNames names;
  private final RecordFiles files;
  private final RecordReader reader;
  private final FileLocking locking;
  private final TokenCodec codec;
  private final Clock clock;

  FileRecordWrites(
      FileNames names,
      RecordFiles files,
      RecordReader reader,
      FileLocking locking,
      TokenCodec codec,
      Clock clock) {
    this.names = names;
    this.files = files;
    this.reader = reader;
    this.locking = locking;
    this.codec = codec;
    this.clock = clock;
  }

  /** {@link TokenStore#compareAndSet}; {@code expectedVersion} is not negative. */
  TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    byte[] record = codec.encode(id, saved); // before the lock: see the store's description
    return fenced(
        id,
        lease,
        "save tokens",
        () -> {
          // Read under the lock: a corrupt record fails the save here instead of being replaced.
          Records r = reader.records(id);
          if (r.tombstone != null) {
            throw new TombstonedException(id, r.tombstone);
          }
          long actual = r.version();
          if (actual != expectedVersion) {
            throw new VersionConflictException(id, expectedVersion, actual);
          }
          Path target = names.file(id, FileNames.DATA_SUFFIX);
          // A renewal keeps the registry time (the file's modification time, see changedSince);
          // the first set of a connection is a registry change.
          FileTime registered =
              actual == 0 || !Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                  ? now()
                  : Files.getLastModifiedTime(target, LinkOption.NOFOLLOW_LINKS);
          files.writeAtomically(target, record, registered);
          return saved;
        });
  }

  /** {@link TokenStore#authorize}: clears the health record, then writes the set. */
  TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return fenced(
        id,
        lease,
        "save tokens",
        () -> {
          Records r = reader.records(id);
          TokenSet saved = tokens.withVersion(r.highestVersion() + 1);
          byte[] record = codec.encode(id, saved);
          // The health record first: failing after it leaves the old set without it, never the
          // new set with the old chain's failure. The rename's directory sync covers the delete.
          Path health = names.file(id, FileNames.HEALTH_SUFFIX);
          if (Files.exists(health, LinkOption.NOFOLLOW_LINKS)) {
            // A clear: the health version moves one up and stays (kept before the delete).
            files.writeAtomically(
                names.file(id, FileNames.HEALTH_VERSION_SUFFIX),
                RecordReader.encodeKeptHealthVersion(reader.healthVersionForClear(id) + 1));
            Files.deleteIfExists(health);
          }
          files.writeAtomically(names.file(id, FileNames.DATA_SUFFIX), record, now());
          // The new set outranks the tombstone already (a higher version); this is tidying.
          files.deleteOutranked(id, names.file(id, FileNames.TOMBSTONE_SUFFIX));
          return saved;
        });
  }

  /** {@link TokenStore#restore}: writes {@code tokens} only above the stored version. */
  StoredConnection restore(ConnectionId id, TokenSet tokens) {
    byte[] record = codec.encode(id, tokens);
    return locking.locked(
        id,
        "restore tokens",
        Mode.WRITE,
        lock -> {
          Records r = reader.records(id);
          RecordReader.HealthState health = reader.health(id);
          if (r.tombstone == null && tokens.version() > r.version()) {
            files.writeAtomically(names.file(id, FileNames.DATA_SUFFIX), record, now());
            return new StoredConnection(tokens, health.record, null, health.version);
          }
          return new StoredConnection(r.tokens, health.record, r.tombstone, health.version);
        });
  }

  /** {@link TokenStore#tombstone}: writes the tombstone, then deletes the outranked set. */
  void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    fenced(
        id,
        lease,
        "write the tombstone",
        () -> {
          long version = reader.versionForTombstone(id, tombstone.version());
          Tombstone stored = new Tombstone(tombstone.reason(), tombstone.at(), version);
          files.writeAtomically(
              names.file(id, FileNames.TOMBSTONE_SUFFIX),
              StateCodec.encodeTombstone(id, stored),
              now());
          // The tombstone outranks the set already (its version is not lower); this is tidying.
          files.deleteOutranked(id, names.file(id, FileNames.DATA_SUFFIX));
          return null;
        });
  }

  /** This store's time, as a file's modification time: when a registry change was made. */
  private FileTime now() {
    return FileTime.from(clock.instant());
  }

  /** A write under the connection's lock that only {@code lease}, while current, may make. */
  private interface FencedWrite<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code write} under the connection's file lock if {@code lease} is still current
   * (otherwise {@link StaleLeaseException}), then clears the lease's renewal marker: the write is
   * the renewal's outcome, saved.
   */
  private <T> T fenced(ConnectionId id, Lease lease, String action, FencedWrite<T> write) {
    return locking.locked(
        id,
        action,
        Mode.WRITE,
        lock -> {
          LeaseState held = LeaseState.read(lock);
          FileLeases.requireCurrent(id, held, lease);
          T result = write.run();
          FileLeases.clearMarker(id, lock, held);
          return result;
        });
  }
}
