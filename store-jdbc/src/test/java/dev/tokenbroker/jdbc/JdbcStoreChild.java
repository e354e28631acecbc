package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Lease;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.VersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of {@link JdbcTokenStoreProcessTest}: {@code <jdbc-url> <table> <mode> …}.
 * Prints one line per event, flushed at once.
 */
public final class JdbcStoreChild {
  static final ConnectionId ID = ConnectionId.of("cafe24", "process-test");
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private JdbcStoreChild() {}

  static TokenSet tokensFor(long v) {
    return TokenSet.builder()
        .accessToken("access-" + v)
        .refreshToken("refresh-" + v)
        .issuedAt(T0.plusSeconds(v))
        .expiresAt(T0.plusSeconds(v + 7200))
        .build();
  }

  public static void main(String[] args) throws Exception {
    dieWithParent();
    TokenStore store =
        JdbcTokenStore.builder(TestDatabases.pool(args[0], 8)).table(args[1]).build();
    switch (args[2]) {
      case "hold-lease":
        Lease lease =
            store.tryAcquireLease(ID, args[3], Duration.ofMillis(Long.parseLong(args[4])));
        if (lease == null) {
          say("BUSY");
          return;
        }
        say("LEASED " + lease.fencingToken() + " " + lease.expiresAt().toEpochMilli());
        Thread.sleep(Long.MAX_VALUE);
        break;
      case "lease-stress":
        leaseStress(store, args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        break;
      default:
        throw new IllegalArgumentException(args[2]);
    }
    System.exit(0);
  }

  /** Lease-guarded increments; with an exclusive lease no compare-and-set conflicts. */
  static void leaseStress(TokenStore store, String owner, int threads, int rounds)
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

  private static void backOff() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void say(String line) {
    System.out.println(line);
    System.out.flush();
    if (System.out.checkError()) {
      Runtime.getRuntime().halt(3);
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
}
