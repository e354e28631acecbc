package dev.tokenbroker;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One simulated broker instance: its own {@link TokenBroker} (distinct instance id) over the shared
 * store, provider and clock, with renewals inline on the calling thread, no background keep-alive,
 * lease waits that advance fake time, and timed work on the world's timeline.
 */
final class SimInstance {
  private static final Field SAVER;

  static {
    try {
      SAVER = TokenBroker.class.getDeclaredField("saver");
      SAVER.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final int no;
  final String name;
  final SimScheduler scheduler;
  final TokenBroker broker;
  private final DurableSaver saver;

  /** Crashed: it does nothing more, and is never closed. */
  boolean dead;

  /** Closed in an orderly restart. */
  boolean closed;

  /** While it runs an explicit {@code refresh}. */
  boolean explicitRefresh;

  /** Access tokens of sets it held unsaved at the end of some step. */
  final Set<String> heldUnsaved = new HashSet<>();

  SimInstance(SimWorld world, int no) {
    this.no = no;
    this.name = "i" + no;
    this.scheduler = new SimScheduler(world, this);
    SplittableRandom jitter = new SplittableRandom(world.seed * 1_000_003L + no);
    TokenBrokerBuilder b =
        TokenBroker.builder()
            .clock(world.clock)
            .store(world.store)
            .httpClient(SimWorld.HTTP)
            .instanceId(name)
            .executor(Runnable::run)
            .withoutKeepAlive()
            .lease(SimWorld.LEASE_TTL, SimWorld.LEASE_WAIT)
            .backoff(Duration.ofSeconds(1), Duration.ofMinutes(1))
            .outcomeUnknownPause(SimWorld.OUTCOME_UNKNOWN_PAUSE)
            .renewalTimeout(Duration.ofSeconds(90))
            .listener(e -> world.onEvent(this, e));
    for (ConnectionId id : SimWorld.IDS) {
      b.connection(id, world.platform.client(this, id));
    }
    b.backoffJitter(half -> jitter.nextLong(half + 1))
        .leasePause(world::leasePause)
        .scheduler(scheduler);
    this.broker = b.build();
    try {
      this.saver = (DurableSaver) SAVER.get(broker);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  boolean alive() {
    return !dead && !closed;
  }

  Connection conn(ConnectionId id) {
    return broker.connection(id);
  }

  /** The set this instance holds unsaved for {@code id} (what {@code health.unsaved} reports). */
  UnsavedSet unsaved(ConnectionId id) {
    return saver.pending(conn(id));
  }

  @Override
  public String toString() {
    return name;
  }
}
