package dev.tokenbroker;

import dev.tokenbroker.spi.EncryptionKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of {@link FileTokenStoreProcessTest}. Prints one line per event to standard
 * output, flushed at once, so that what the parent read was really done before a kill.
 */
public final class FileStoreChild {
  static final ConnectionId ID = ConnectionId.of("cafe24", "crash-test");
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private FileStoreChild() {}

  /** The set saved as version {@code v}: its fields tell the version, so a mixed set shows. */
  static TokenSet tokensFor(long v) {
    return TokenSet.builder()
        .accessToken("access-" + v)
        .refreshToken("refresh-" + v)
        .issuedAt(T0.plusSeconds(v))
        .expiresAt(T0.plusSeconds(v + 7200))
        .extra("saved", Long.toString(v))
        .extra("padding", "p".repeat((int) (v % 3000)))
        .build();
  }

  static FileTokenStore open(String dir) {
    return FileTokenStore.builder(Path.of(dir))
        .encryption(EncryptionKeys.of(TokenCodecTest.key(9)))
        .build();
  }

  public static void main(String[] args) throws Exception {
    dieWithParent();
    switch (args[0]) {
      case "save-loop":
        saveLoop(open(args[1]));
        break;
      case "hold-lease":
        holdLease(open(args[1]), args[2], Duration.ofMillis(Long.parseLong(args[3])));
        break;
      case "lease-stress":
        leaseStress(open(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
  }

  private static void backOff() {
    try {
      Thread.sleep(1); // another holder: let it work instead of contending for the file lock
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
    if (System.out.checkError()) {
      Runtime.getRuntime().halt(3); // nobody reads us any more
    }
  }

  /** Exits when the parent's end of standard input closes, so no child outlives its test. */
  static void dieWithParent() {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // ignore input
                }
              } catch (java.io.IOException e) {
                // fall through
              }
              Runtime.getRuntime().halt(4);
            },
            "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** Saves version after version until killed; prints ACK n after version n is saved. */
  private static void saveLoop(FileTokenStore store) {
    TokenSet current = store.load(ID);
    long v = current == null ? 0 : current.version();
    say("READY " + v);
    while (true) {
      TokenSet saved = store.compareAndSet(ID, v, tokensFor(v + 1));
      v = saved.version();
      say("ACK " + v);
    }
  }

  /** Takes the lease and holds it until killed. */
  private static void holdLease(FileTokenStore store, String owner, Duration ttl)
      throws InterruptedException {
    Lease lease = store.tryAcquireLease(ID, owner, ttl);
    if (lease == null) {
      say("BUSY");
      return;
    }
    say("LEASED " + lease.fencingToken() + " " + lease.expiresAt().toEpochMilli());
    Thread.sleep(Long.MAX_VALUE);
  }

  /**
   * {@code threads} threads each do {@code rounds} lease-guarded increments: take the lease
   * (spinning while another holds it), load, compare-and-set the next version, release. With an
   * exclusive lease no compare-and-set ever conflicts; each conflict is printed.
   */
  private static void leaseStress(FileTokenStore store, String owner, int threads, int rounds)
      throws InterruptedException {
    AtomicLong conflicts = new AtomicLong();
    AtomicLong done = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    say("READY");
    for (int t = 0; t < threads; t++) {
      String me = owner + "-" + t;
      Thread w =
          new Thread(
              () -> {
                for (int i = 0; i < rounds; ) {
                  Lease lease = store.tryAcquireLease(ID, me, Duration.ofMinutes(1));
                  if (lease == null) {
                    backOff();
                    continue;
                  }
                  try {
                    TokenSet current = store.load(ID);
                    long v = current == null ? 0 : current.version();
                    store.compareAndSet(ID, v, tokensFor(v + 1));
                    done.incrementAndGet();
                    i++;
                  } catch (VersionConflictException e) {
                    conflicts.incrementAndGet();
                    say("CONFLICT " + me + " " + e.getMessage());
                  } finally {
                    store.releaseLease(lease);
                  }
                }
              });
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    say("DONE " + done.get() + " " + conflicts.get());
  }
}
