package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * The file-mode rules of {@code serve}: secrets and keys readable by their owner only, the socket's
 * directory writable by its owner only, and that owner us. Every refusal names the file and the
 * fix, never a file's content.
 */
final class FileChecks {
  private FileChecks() {}

  /**
   * Reads a secret from a file that is ours and that neither group nor others can read or write.
   * Surrounding white space (a trailing newline) is dropped.
   */
  static byte[] readSecret(Path file, String setting) {
    ownerOnly(file, setting);
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (text.isEmpty()) {
        throw new ConfigurationException(null, setting, file + " is empty");
      }
      if (text.length() < 16) {
        throw new ConfigurationException(
            null, setting, file + " holds fewer than 16 characters: too short for a secret");
      }
      return text.getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException(
          null, setting, "cannot read " + file + ": " + e.getClass().getSimpleName());
    }
  }

  /** Refuses a file group or others may read or write, or that another user owns. */
  static void ownerOnly(Path file, String setting) {
    PosixFileAttributes attrs = attributes(file, setting);
    if (!attrs.isRegularFile()) {
      throw new ConfigurationException(null, setting, file + " is not a regular file");
    }
    Set<PosixFilePermission> p = attrs.permissions();
    if (p.contains(PosixFilePermission.GROUP_READ)
        || p.contains(PosixFilePermission.OTHERS_READ)
        || p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new ConfigurationException(
          null,
          setting,
          file + " can be read or written by other users: run `chmod 600 " + file + "`");
    }
    ownedByUs(file, attrs, setting);
  }

  /**
   * Refuses a socket directory that group or others may write (they could replace the socket with
   * their own), or that another user owns.
   */
  static void ownerWritableDirectory(Path dir, String setting) {
    PosixFileAttributes attrs = attributes(dir, setting);
    if (!attrs.isDirectory()) {
      throw new ConfigurationException(null, setting, dir + " is not a directory");
    }
    Set<PosixFilePermission> p = attrs.permissions();
    if (p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new ConfigurationException(
          null,
          setting,
          "the socket's directory "
              + dir
              + " can be written by other users, who could replace the socket: use a directory"
              + " only this user can write (`chmod 700 "
              + dir
              + "`)");
    }
    ownedByUs(dir, attrs, setting);
  }

  private static void ownedByUs(Path file, PosixFileAttributes attrs, String setting) {
    try {
      UserPrincipal me =
          file.getFileSystem()
              .getUserPrincipalLookupService()
              .lookupPrincipalByName(System.getProperty("user.name"));
      if (!attrs.owner().equals(me)) {
        throw new ConfigurationException(
            null,
            setting,
            file + " belongs to " + attrs.owner().getName() + ", not to this user (" + me + ")");
      }
    } catch (IOException e) {
      throw new ConfigurationException(
          null, setting, "cannot tell who this user is to check " + file);
    }
  }

  private static PosixFileAttributes attributes(Path file, String setting) {
    try {
      return Files.readAttributes(file, PosixFileAttributes.class);
    } catch (UnsupportedOperationException e) {
      throw new ConfigurationException(
          null, setting, "cannot check the permissions of " + file + " (not a POSIX file system)");
    } catch (IOException e) {
      throw new ConfigurationException(
          null, setting, file + " cannot be read: " + e.getClass().getSimpleName());
    }
  }
}
