package dev.tokenbroker;

import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle connections die when their refresh token expires (Cafe24 after 14 days, Kakao after about
 * two months), so they are renewed inside their provider's window whether or not anyone asks for a
 * token. A pass reads the store in batches, picks the connections whose refresh token is inside the
 * window (moved earlier by a small per-connection jitter, so that connections authorized together
 * do not renew together), and renews them through the single flight at most {@code concurrency} at
 * a time. Safe on every instance at once: after taking the store lease, the renewal checks again
 * that the connection is still due, so a connection another instance just renewed is skipped rather
 * than renewed twice.
 */
final class KeepAlive {
  private static final Logger log = LoggerFactory.getLogger(KeepAlive.class);
  static final int BATCH = 500;

  private final Clock clock;
  private final TokenStore store;
  private final ConnectionRegistry registry;
  private final SingleFlight flights;
  private final Events events;
  private final int concurrency;

  KeepAlive(
      Clock clock,
      TokenStore store,
      ConnectionRegistry registry,
      SingleFlight flights,
      Events events,
      int concurrency) {
    this.clock = clock;
    this.store = store;
    this.registry = registry;
    this.flights = flights;
    this.events = events;
    this.concurrency = concurrency;
  }

  /** One pass; blocks until it is done. Returns the connections whose token set was renewed. */
  List<ConnectionId> pass() {
    List<Connection> due = new ArrayList<>();
    List<Connection> batch = new ArrayList<>(BATCH);
    for (Connection conn : registry.inOrder()) {
      if (conn.policy.keepAliveBefore() == null || HealthRules.holdsOff(conn, clock.millis())) {
        continue;
      }
      batch.add(conn);
      if (batch.size() == BATCH) {
        collectDue(batch, due);
        batch.clear();
      }
    }
    collectDue(batch, due);
    return renew(due);
  }

  private void collectDue(List<Connection> batch, List<Connection> due) {
    if (batch.isEmpty()) {
      return;
    }
    List<ConnectionId> ids = new ArrayList<>(batch.size());
    for (Connection c : batch) {
      ids.add(c.id);
    }
    Map<ConnectionId, StoredConnection> stored;
    try {
      stored = store.readAll(ids);
    } catch (RuntimeException e) {
      log.warn(
          "keep-alive could not read {} connections from the store: {}",
          ids.size(),
          e.getMessage());
      return;
    }
    Instant now = clock.instant();
    for (Connection conn : batch) {
      StoredConnection s = stored.get(conn.id);
      TokenSet tokens = s == null ? null : s.tokens();
      if (tokens == null || HealthRules.needsPerson(conn, tokens.version())) {
        continue;
      }
      Instant at = conn.policy.keepAliveAt(tokens);
      if (at != null && !now.isBefore(at.minus(jitter(conn, tokens)))) {
        events.emit(
            TokenEvent.Type.REFRESH_TOKEN_EXPIRING_SOON,
            conn.id,
            "refresh token expires at " + tokens.refreshExpiresAt() + "; renewing it now",
            null);
        due.add(conn);
      }
    }
  }

  /**
   * Starts the renewals, at most {@code concurrency} in flight at once; no thread waits per
   * renewal, so a small pool cannot deadlock on its own queue.
   */
  private List<ConnectionId> renew(List<Connection> due) {
    List<ConnectionId> renewed = Collections.synchronizedList(new ArrayList<>());
    Semaphore slots = new Semaphore(concurrency);
    List<CompletableFuture<?>> running = new ArrayList<>();
    for (Connection conn : due) {
      slots.acquireUninterruptibly();
      Flight flight = flights.startOrJoin(conn, Flight.Purpose.KEEP_ALIVE);
      CompletableFuture<?> done =
          flight.future.whenComplete(
              (after, failure) -> {
                slots.release();
                if (failure != null) {
                  log.warn(
                      "connection {}: keep-alive renewal failed: {}",
                      conn.id,
                      failure.getMessage());
                } else if (after != null && flight.renewed) {
                  // only a renewal this instance made: one another instance made while
                  // this one waited for its lease is not claimed
                  renewed.add(conn.id);
                }
              });
      running.add(done);
    }
    try {
      CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).join();
    } catch (java.util.concurrent.CompletionException e) {
      // each failure was logged and recorded in health
    }
    List<ConnectionId> out = new ArrayList<>(renewed);
    Collections.sort(out);
    return out;
  }

  /**
   * Up to a tenth of the keep-alive window, fixed per connection and refresh token — and never more
   * than a tenth of the refresh token's own lifetime (with 10-second refresh tokens a window-sized
   * jitter made every pass renew everything).
   */
  static Duration jitter(Connection conn, TokenSet tokens) {
    Duration window = Objects.requireNonNull(conn.policy.keepAliveBefore());
    long spread = window.toMillis() / 10;
    Instant refreshExpires = tokens.refreshExpiresAt();
    if (refreshExpires != null) {
      long life = refreshExpires.toEpochMilli() - tokens.issuedAt().toEpochMilli();
      spread = Math.min(spread, Math.max(0, life / 10));
    }
    if (spread <= 0) {
      return Duration.ZERO;
    }
    long h = (conn.id.hashCode() * 31L + Objects.hashCode(tokens.refreshToken())) & Long.MAX_VALUE;
    return Duration.ofMillis(h % spread);
  }

  /** Runs a pass every {@code interval} (real time) on {@code scheduler}, the first one soon. */
  static void schedule(ScheduledExecutorService scheduler, Duration interval, Runnable pass) {
    long millis = interval.toMillis();
    long firstDelay = ThreadLocalRandom.current().nextLong(Math.max(1, millis / 10));
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            pass.run();
          } catch (RuntimeException e) {
            log.warn("keep-alive pass failed: {}", e.toString());
          }
        },
        firstDelay,
        millis,
        TimeUnit.MILLISECONDS);
  }
}
