package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.jspecify.annotations.Nullable;

/**
 * The Unix domain socket's file: its directory prepared and checked before the server listens, a
 * dead socket left by a crash replaced (a live server refused), its mode and group set once it
 * exists, and the file deleted when the service stops.
 */
final class UnixSocketFile {
  private UnixSocketFile() {}

  /**
   * The socket's directory: created (0700) when missing, else ours and writable by us only. The
   * path itself: free, or a dead socket left by a crash (replaced); a live server or any other file
   * there is refused.
   */
  static void prepare(Path socket) {
    if (socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > UnixDomainServerConnector.MAX_UNIX_DOMAIN_PATH_LENGTH) {
      throw new ConfigurationException(
          null,
          "socket.path",
          socket
              + " is longer than "
              + UnixDomainServerConnector.MAX_UNIX_DOMAIN_PATH_LENGTH
              + " bytes, the limit for a Unix socket path");
    }
    Path dir = socket.getParent();
    if (dir == null) {
      throw new ConfigurationException(null, "socket.path", socket + " has no directory");
    }
    if (!Files.exists(dir)) {
      try {
        Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException e) {
        // created meanwhile: checked below
      } catch (IOException e) {
        throw new ConfigurationException(
            null,
            "socket.path",
            "cannot create the socket's directory " + dir + ": " + e.getClass().getSimpleName());
      }
    }
    FileChecks.ownerWritableDirectory(dir, "socket.path");
    if (!Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    boolean isSocket;
    try {
      isSocket =
          Files.readAttributes(
                  socket, PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS)
              .isOther();
    } catch (IOException e) {
      isSocket = false;
    }
    if (!isSocket) {
      throw new ConfigurationException(
          null, "socket.path", socket + " exists and is not a socket: remove it or pick another");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socket));
      throw new ConfigurationException(
          null, "socket.path", "another server is listening on " + socket);
    } catch (IOException dead) {
      try {
        Files.delete(socket); // a socket left by a process that died
      } catch (IOException e) {
        throw new ConfigurationException(
            null, "socket.path", "cannot remove the dead socket " + socket);
      }
    }
  }

  /** 0600, or 0660 and the group. Refuses (and the caller stops) when it cannot. */
  static void restrict(Path socket, @Nullable String group) {
    try {
      if (group != null) {
        GroupPrincipal g =
            socket
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByGroupName(group);
        Files.setAttribute(socket, "posix:group", g);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
      } else {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
      }
    } catch (IOException | RuntimeException e) {
      throw new ConfigurationException(
          null,
          group == null ? "socket.path" : "socket.group",
          "cannot restrict the socket "
              + socket
              + (group == null ? "" : " to group " + group)
              + ": "
              + e.getClass().getSimpleName());
    }
  }

  /** Deletes the socket file, if it is one; a failure leaves it for the next start to replace. */
  static void delete(@Nullable Path path) {
    if (path == null) {
      return;
    }
    try {
      if (Files.exists(path) && Files.readAttributes(path, PosixFileAttributes.class).isOther()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      // left behind: the next start sees a dead socket and replaces it
    }
  }
}
