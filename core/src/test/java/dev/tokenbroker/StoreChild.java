package dev.tokenbroker;

import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.VersionConflictException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of the store process tests, for any store type: {@code <mode> <mode arguments…>
 * <setting>=<value>…}, the store built from its settings by {@link TestStores#open}. Prints one
 * line per event to standard output, flushed at once, so that what the parent read was really done
 * before a kill. Modes:
 *
 * <ul>
 *   <li>{@code save-loop}: prints {@code READY <version>}, then saves version after version until
 *       killed, printing {@code ACK n} after version n is saved.
 *   <li>{@code hold-lease <owner> <ttl-millis>}: prints {@code BEFORE <millis>}, takes the lease
 *       and prints {@code LEASED <fencing-token> <expires-at-millis>} (or {@code BUSY}), then holds
 *       it until killed.
 *   <li>{@code hold-lease-renewing <owner> <ttl-millis>}: the same, then {@linkplain
 *       TokenStore#markRenewing marks a renewal} on the lease and prints {@code RENEWING}: killed
 *       then, it is a holder that died mid-renewal.
 *   <li>{@code lease-stress <owner> <threads> <rounds>}: lease-guarded increments (see {@link
 *       #leaseStress}); prints {@code READY}, a {@code CONFLICT} line per conflict, then {@code
 *       DONE <increments> <conflicts>}.
 *   <li>{@code lease-stress-many <owner> <threads> <rounds> <connections>}: the same on several
 *       connections ({@link #id}), thread {@code t} on connection {@code t % connections}, with
 *       short leases; also counts any other store failure (see {@link #leaseStressMany}): prints
 *       {@code READY}, a {@code CONFLICT} or {@code FAILURE} line for each, then {@code DONE
 *       <increments> <conflicts> <failures>}.
 *   <li>{@code take-once <prefix> <count>}: prints {@code READY}, then tries {@link
 *       TokenStore#takeOnce} on the keys {@code <prefix>0} to {@code <prefix><count - 1>} over and
 *       over until killed, printing {@code TOOK k <value as hex>} for each value it gets.
 * </ul>
 */
public final class StoreChild {
  public static final ConnectionId ID = ConnectionId.of("cafe24", "process-test");

  /**
   * The lease of one round of {@code lease-stress-many}: a lease a failed release left behind
   * blocks the others only this long.
   */
  private static final Duration SHORT_LEASE = Duration.ofSeconds(10);

  /** A thread gives up after this many failures of its own, so a broken store ends the run. */
  private static final int FAILURES_PER_THREAD = 5;

  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  private StoreChild() {}

  /** Starts a child running {@code mode} on the store {@code settings} describe. */
  public static ChildJvm start(Map<String, String> settings, String mode, String... modeArgs)
      throws IOException {
    List<String> args = new ArrayList<>();
    args.add(mode);
    args.addAll(List.of(modeArgs));
    args.addAll(TestStores.toArgs(settings));
    return ChildJvm.start(StoreChild.class, args.toArray(new String[0]));
  }

  /** Connection {@code k} of the several-connection modes; connection 0 is {@link #ID}. */
  public static ConnectionId id(int k) {
    return k == 0 ? ID : ConnectionId.of(ID.provider(), ID.account() + "-" + k);
  }

  /** The set saved as version {@code v}: its fields tell the version, so a mixed set shows. */
  public static TokenSet tokensFor(long v) {
    return TokenSet.builder()
        .accessToken("access-" + v)
        .refreshToken("refresh-" + v)
        .issuedAt(T0.plusSeconds(v))
        .expiresAt(T0.plusSeconds(v + 7200))
        .extra("saved", Long.toString(v))
        .extra("padding", "p".repeat((int) (v % 3000)))
        .build();
  }

  public static void main(String[] args) throws Exception {
    dieWithParent();
    switch (args[0]) {
      case "save-loop":
        saveLoop(open(args, 1));
        break;
      case "take-once":
        takeOnceLoop(open(args, 3), args[1], Integer.parseInt(args[2]));
        break;
      case "hold-lease":
        holdLease(open(args, 3), args[1], Duration.ofMillis(Long.parseLong(args[2])), false);
        break;
      case "hold-lease-renewing":
        holdLease(open(args, 3), args[1], Duration.ofMillis(Long.parseLong(args[2])), true);
        break;
      case "lease-stress":
        leaseStress(open(args, 4), args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        break;
      case "lease-stress-many":
        leaseStressMany(
            open(args, 5),
            args[1],
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]),
            Integer.parseInt(args[4]));
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
    System.exit(0);
  }

  private static TokenStore open(String[] args, int settingsFrom) {
    return TestStores.open(TestStores.fromArgs(args, settingsFrom));
  }

  private static void backOff() {
    try {
      Thread.sleep(1); // another holder: let it work instead of contending for the lease
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
  private static void dieWithParent() {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // ignore input
                }
              } catch (IOException e) {
                // fall through
              }
              Runtime.getRuntime().halt(4);
            },
            "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** Takes the keys over and over until killed; prints TOOK k for each value it gets. */
  private static void takeOnceLoop(TokenStore store, String prefix, int count) {
    say("READY");
    while (true) {
      for (int k = 0; k < count; k++) {
        byte[] value = store.takeOnce(prefix + k);
        if (value != null) {
          say("TOOK " + k + " " + java.util.HexFormat.of().formatHex(value));
        }
      }
      Thread.onSpinWait();
    }
  }

  /** Saves version after version until killed; prints ACK n after version n is saved. */
  private static void saveLoop(TokenStore store) {
    TokenSet current = store.load(ID);
    long v = current == null ? 0 : current.version();
    say("READY " + v);
    Lease lease = store.seizeLease(ID, "save-loop", Duration.ofDays(1), 0);
    while (true) {
      TokenSet saved = store.compareAndSet(ID, v, tokensFor(v + 1), lease);
      v = saved.version();
      say("ACK " + v);
    }
  }

  /**
   * Takes the lease and holds it until killed. BEFORE bounds from below when the lease was granted,
   * for stores whose server expires it by its own clock.
   */
  private static void holdLease(TokenStore store, String owner, Duration ttl, boolean renewing)
      throws InterruptedException {
    say("BEFORE " + System.currentTimeMillis());
    Lease lease = store.tryAcquireLease(ID, owner, ttl, 0);
    if (lease == null) {
      say("BUSY");
      return;
    }
    say("LEASED " + lease.fencingToken() + " " + lease.expiresAt().toEpochMilli());
    if (renewing) {
      store.markRenewing(lease);
      say("RENEWING");
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  /**
   * {@code threads} threads each do {@code rounds} lease-guarded increments: take the lease
   * (spinning while another holds it), load, compare-and-set the next version, release. With an
   * exclusive lease no compare-and-set ever conflicts; each conflict is printed.
   */
  private static void leaseStress(TokenStore store, String owner, int threads, int rounds)
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
                  Lease lease = store.tryAcquireLease(ID, me, Duration.ofMinutes(1), 0);
                  if (lease == null) {
                    backOff();
                    continue;
                  }
                  try {
                    TokenSet current = store.load(ID);
                    long v = current == null ? 0 : current.version();
                    store.compareAndSet(ID, v, tokensFor(v + 1), lease);
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

  /**
   * {@code threads} threads each do {@code rounds} lease-guarded increments on connection {@code t
   * % connections}, as {@link #leaseStress} does, under leases of {@link #SHORT_LEASE}. Any store
   * exception other than a conflict (say "Resource deadlock avoided" from the operating system's
   * lock) is printed as a {@code FAILURE} line and counted; a thread stops after {@link
   * #FAILURES_PER_THREAD} of them.
   */
  private static void leaseStressMany(
      TokenStore store, String owner, int threads, int rounds, int connections)
      throws InterruptedException {
    AtomicLong conflicts = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    AtomicLong done = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    say("READY");
    for (int t = 0; t < threads; t++) {
      String me = owner + "-" + t;
      ConnectionId id = id(t % connections);
      Thread w =
          new Thread(
              () -> {
                int failed = 0;
                for (int i = 0; i < rounds && failed < FAILURES_PER_THREAD; ) {
                  Lease lease;
                  try {
                    lease = store.tryAcquireLease(id, me, SHORT_LEASE, 0);
                  } catch (TokenStoreException e) {
                    failed++;
                    failures.incrementAndGet();
                    say("FAILURE " + me + " take the lease: " + e.getMessage());
                    continue;
                  }
                  if (lease == null) {
                    backOff();
                    continue;
                  }
                  try {
                    TokenSet current = store.load(id);
                    long v = current == null ? 0 : current.version();
                    store.compareAndSet(id, v, tokensFor(v + 1), lease);
                    done.incrementAndGet();
                    i++;
                  } catch (VersionConflictException e) {
                    conflicts.incrementAndGet();
                    say("CONFLICT " + me + " " + e.getMessage());
                  } catch (TokenStoreException e) {
                    failed++;
                    failures.incrementAndGet();
                    say("FAILURE " + me + " save: " + e.getMessage());
                  } finally {
                    try {
                      store.releaseLease(lease);
                    } catch (TokenStoreException e) {
                      failed++;
                      failures.incrementAndGet();
                      say("FAILURE " + me + " release the lease: " + e.getMessage());
                    }
                  }
                }
              });
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    say("DONE " + done.get() + " " + conflicts.get() + " " + failures.get());
  }
}
