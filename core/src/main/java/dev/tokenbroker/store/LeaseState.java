package dev.tokenbroker.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease kept in a connection's lock file. The first line, {@code tokenbroker-lease 1 <fence>
 * <expires-millis> <owner, base64url or ->}, is the layout every release reads (earlier ones read
 * that line only, and exactly five fields on it). An optional second line, {@code
 * tokenbroker-lease-2 <fence> <key>=<value>…}, carries what later releases add; it counts only
 * while its fence is the first line's and the lease is held, so a line left behind (an earlier
 * release rewrote the first line, or a crash cut a shorter rewrite short) is ignored. Keys: {@code
 * renewing=<millis>}, the renewal marker; {@code holder=1}, the holder's process keeps the holder
 * file locked (see {@link HolderLocks}). Unknown keys are ignored.
 *
 * <p>Written in place with one write while the file lock is held, then truncated; a first line torn
 * by a crash of the whole machine reads as "no lease" (every holder died with the machine).
 */
final class LeaseState {
  private static final Logger log = LoggerFactory.getLogger(FileTokenStore.class);

  private static final String LEASE_MAGIC = "tokenbroker-lease";
  private static final String LEASE_MORE_MAGIC = "tokenbroker-lease-2";

  final long fence;
  final @Nullable String owner;
  final long expiresAtMillis;

  /** Epoch millis at which the holder started a token request, or -1. */
  final long renewingSinceMillis;

  /** True when the holder's process keeps the holder file locked while the lease lasts. */
  final boolean holderLocked;

  LeaseState(
      long fence,
      @Nullable String owner,
      long expiresAtMillis,
      long renewingSinceMillis,
      boolean holderLocked) {
    this.fence = fence;
    this.owner = owner;
    this.expiresAtMillis = expiresAtMillis;
    this.renewingSinceMillis = owner == null ? -1 : renewingSinceMillis;
    this.holderLocked = owner != null && holderLocked;
  }

  /** True if {@code lease} is this one: held, same fence, same owner. */
  boolean isCurrent(Lease lease) {
    return owner != null && fence == lease.fencingToken() && lease.owner().equals(owner);
  }

  static LeaseState read(FileChannel ch) throws IOException {
    long size = ch.size();
    if (size == 0) {
      return new LeaseState(0, null, 0, -1, false);
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, 4096));
    while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
      // keep reading
    }
    String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
    String[] lines = text.split("\n", 3);
    String[] parts = lines[0].split(" ");
    try {
      if (parts.length == 5 && parts[0].equals(LEASE_MAGIC) && parts[1].equals("1")) {
        String owner =
            parts[4].equals("-")
                ? null
                : new String(Base64.getUrlDecoder().decode(parts[4]), StandardCharsets.UTF_8);
        long fence = Long.parseLong(parts[2]);
        long expires = Long.parseLong(parts[3]);
        String more = lines.length > 1 ? lines[1] : "";
        return new LeaseState(
            fence,
            owner,
            expires,
            parseLong(value(more, fence, "renewing"), -1),
            "1".equals(value(more, fence, "holder")));
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    log.warn("lease record unreadable; treating it as free");
    return new LeaseState(0, null, 0, -1, false);
  }

  /** The value of {@code key} in a second line for the lease with {@code fence}, or null. */
  private static @Nullable String value(String line, long fence, String key) {
    String[] parts = line.split(" ");
    if (parts.length < 2
        || !parts[0].equals(LEASE_MORE_MAGIC)
        || !parts[1].equals(Long.toString(fence))) {
      return null;
    }
    for (int i = 2; i < parts.length; i++) {
      if (parts[i].startsWith(key + "=")) {
        return parts[i].substring(key.length() + 1);
      }
    }
    return null;
  }

  private static long parseLong(@Nullable String text, long otherwise) {
    try {
      return text == null ? otherwise : Long.parseLong(text);
    } catch (NumberFormatException e) {
      return otherwise; // a line cut short by a crash
    }
  }

  void write(FileChannel ch) throws IOException {
    String ownerText =
        owner == null
            ? "-"
            : Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(owner.getBytes(StandardCharsets.UTF_8));
    StringBuilder text =
        new StringBuilder(LEASE_MAGIC)
            .append(" 1 ")
            .append(fence)
            .append(' ')
            .append(expiresAtMillis)
            .append(' ')
            .append(ownerText)
            .append('\n');
    if (renewingSinceMillis >= 0 || holderLocked) {
      text.append(LEASE_MORE_MAGIC).append(' ').append(fence);
      if (renewingSinceMillis >= 0) {
        text.append(" renewing=").append(renewingSinceMillis);
      }
      if (holderLocked) {
        text.append(" holder=1");
      }
      text.append('\n');
    }
    byte[] line = text.toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.wrap(line);
    long pos = 0;
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
    ch.truncate(line.length);
    // Not forced: a lease matters only while its holder's process lives, and a process crash
    // does not lose the page cache.
  }
}
