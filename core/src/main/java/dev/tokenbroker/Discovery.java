package dev.tokenbroker;

import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How an instance learns the run-time connections other instances added and removed: it polls the
 * store's registry changes ({@link TokenStore#changedSince}) every interval, reads each changed
 * connection an app's template names, adds those that gained tokens and stops serving those that
 * were removed. A removal anywhere is served nowhere after about one interval (plus a store read):
 * the bound {@link TokenBrokerBuilder#discovery} sets, 1 second by default.
 *
 * <p>Each poll asks from {@link #OVERLAP} before the previous one, so a change committed late, or a
 * store clock a little behind ours, is still seen. Each poll also re-reads a slice of the run-time
 * connections known here, so that every one is re-read once per {@link #SWEEP_EVERY} polls, in case
 * a change was missed (a store clock far off, a change log written after its record and lost in a
 * crash). Connections are also learnt on a miss: a lookup of an id a template names reads the
 * store.
 */
final class Discovery {
  private static final Logger log = LoggerFactory.getLogger(Discovery.class);
  static final Duration OVERLAP = Duration.ofSeconds(5);
  static final int SWEEP_EVERY = 300;

  private final Clock clock;
  private final TokenStore store;
  private final ConnectionRegistry registry;
  private final Events events;
  private final BiConsumer<Connection, String> removed;
  private @Nullable Instant lastPoll;

  Discovery(
      Clock clock,
      TokenStore store,
      ConnectionRegistry registry,
      Events events,
      BiConsumer<Connection, String> removed) {
    this.clock = clock;
    this.store = store;
    this.registry = registry;
    this.events = events;
    this.removed = removed;
  }

  /**
   * At start: every connection in the store a template names is known here (ids only; tokens are
   * read on first use), so keep-alive covers connections nobody asked for since a restart.
   */
  synchronized int start() {
    lastPoll = clock.instant();
    int added = 0;
    for (ConnectionId id : store.connections()) {
      ConnectionTemplate t = registry.templateOf(id);
      if (t != null && registry.find(id) == null) {
        registry.add(id, t);
        added++;
      }
    }
    return added;
  }

  /**
   * One poll (after {@link #start}, if it has not run yet); returns how many connections were added
   * or removed here.
   */
  synchronized int poll() {
    int started = lastPoll == null ? start() : 0;
    Instant now = clock.instant();
    Instant since = (lastPoll == null ? now : lastPoll).minus(OVERLAP);
    List<ConnectionId> changed = new ArrayList<>();
    for (ConnectionId id : store.changedSince(since)) {
      if (registry.templateOf(id) != null) {
        changed.add(id);
      }
    }
    // The sweep: a slice per poll, so every run-time connection is re-read once per SWEEP_EVERY
    // polls without a poll ever stalling on all of them (100,000 reads at once would hold up
    // the removals this poll exists for).
    int slice = (registry.runTimeCount() + SWEEP_EVERY - 1) / SWEEP_EVERY;
    for (Connection c : registry.nextRunTime(slice)) {
      changed.add(c.id);
    }

    lastPoll = now;
    int moved = 0;
    for (int i = 0; i < changed.size(); i += KeepAlive.BATCH) {
      List<ConnectionId> batch = changed.subList(i, Math.min(changed.size(), i + KeepAlive.BATCH));
      for (Map.Entry<ConnectionId, StoredConnection> e : store.readAll(batch).entrySet()) {
        moved += apply(e.getKey(), e.getValue()) ? 1 : 0;
      }
    }
    return started + moved;
  }

  private boolean apply(ConnectionId id, StoredConnection stored) {
    ConnectionTemplate t = registry.templateOf(id);
    if (t == null) {
      return false;
    }
    Connection known = registry.find(id);
    Tombstone tombstone = stored.tombstone();
    if (tombstone != null && ConnectionRegistry.REMOVAL_REASONS.contains(tombstone.reason())) {
      if (known != null && registry.isRunTime(known)) {
        log.info(
            "connection {}: removed elsewhere ({}); no longer served here", id, tombstone.reason());
        removed.accept(known, tombstone.reason());
        return true;
      }
      return false;
    }
    if (stored.tokens() != null && known == null) {
      registry.add(id, t);
      events.emit(TokenEvent.Type.CONNECTION_ADDED, id, "learnt from the store", null);
      return true;
    }
    return false;
  }

  /** Polls every {@code interval} on {@code scheduler}; failures are logged and retried. */
  static void schedule(
      java.util.concurrent.ScheduledExecutorService scheduler,
      Duration interval,
      Discovery discovery) {
    scheduler.execute(
        () -> {
          try {
            discovery.start();
          } catch (RuntimeException e) {
            log.warn("discovery: listing the store's connections failed: {}", e.toString());
          }
        });
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            discovery.poll();
          } catch (RuntimeException e) {
            log.warn("discovery poll failed: {}", e.toString());
          }
        },
        interval.toMillis(),
        interval.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
  }
}
