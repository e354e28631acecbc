package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The registry of a {@link FileTokenStore}, read from directory listings: the connections with a
 * token set ({@link TokenStore#connections}), and those whose token or tombstone file was stamped
 * at or after an instant ({@link TokenStore#changedSince}; the store's description of that method
 * says why the modification time is the registry time). Takes no lock.
 */
final class FileRegistry {
  private final FileNames names;
  private final RecordReader reader;

  FileRegistry(FileNames names, RecordReader reader) {
    this.names = names;
    this.reader = reader;
  }

  /** Every connection with a token set that no tombstone outranks, sorted. */
  List<ConnectionId> connections() {
    List<ConnectionId> ids = new ArrayList<>();
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(names.directory(), "*" + FileNames.DATA_SUFFIX)) {
      for (Path p : entries) {
        ConnectionId id = FileNames.connectionOf(p);
        if (id != null && !leftBehindByATombstone(id)) {
          ids.add(id);
        }
      }
    } catch (IOException e) {
      throw new TokenStoreException(
          null,
          "cannot list token records in " + names.directory() + ": " + RecordFiles.describe(e),
          e);
    }
    ids.sort(null);
    return ids;
  }

  /** True for a token set that a tombstone written after it outranks (a crash in between). */
  private boolean leftBehindByATombstone(ConnectionId id) {
    if (!Files.exists(names.file(id, FileNames.TOMBSTONE_SUFFIX), LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try {
      return reader.current(id) == null;
    } catch (TokenStoreException e) {
      return false; // listed: reading it reports the problem
    }
  }

  /** The connections whose token or tombstone file was stamped at or after {@code since}. */
  List<ConnectionId> changedSince(Instant since) {
    Set<ConnectionId> ids = new LinkedHashSet<>();
    collectChanged(since, FileNames.DATA_SUFFIX, ids);
    collectChanged(since, FileNames.TOMBSTONE_SUFFIX, ids);
    return new ArrayList<>(ids);
  }

  private void collectChanged(Instant since, String suffix, Set<ConnectionId> into) {
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(names.directory(), "*" + suffix)) {
      for (Path p : entries) {
        try {
          if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(since)) {
            continue;
          }
        } catch (NoSuchFileException e) {
          continue; // deleted meanwhile (outranked): its other record is listed
        }
        ConnectionId id = FileNames.connectionOf(p, suffix);
        if (id != null) {
          into.add(id);
        }
      }
    } catch (IOException e) {
      throw new TokenStoreException(
          null,
          "cannot list the records in " + names.directory() + ": " + RecordFiles.describe(e),
          e);
    }
  }
}
