package dev.tokenbroker;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most one renewal (or revocation) per connection in this JVM, run on the broker's own threads;
 * callers only wait, with a timeout.
 *
 * <p>Because no caller runs the renewal, interrupting a caller ends that caller's wait (its
 * interrupt flag restored) and nothing else: the refresh in flight completes and is saved, and no
 * health changes. (When the first expired caller ran the refresh itself, an interrupt aborted a
 * request the platform had already processed and lost the rotated refresh token.)
 *
 * <p>As in google-auth-library-java's refresh task, the slot is cleared only by the flight that set
 * it, after completing: a caller arriving in between joins a finished flight and gets its outcome,
 * which is the newest there is.
 */
final class SingleFlight {
  private static final Logger log = LoggerFactory.getLogger(SingleFlight.class);

  /** Runs one flight's work on a broker thread. */
  interface Work {
    @Nullable CachedToken run(Connection conn, Flight flight);
  }

  private final Executor executor;
  private final Duration timeout;
  private final Work renewal;
  private final Function<Connection, Health> health;

  SingleFlight(
      Executor executor, Duration timeout, Work renewal, Function<Connection, Health> health) {
    this.executor = executor;
    this.timeout = timeout;
    this.renewal = renewal;
    this.health = health;
  }

  /**
   * Waits for a token for {@code purpose}: joins the flight in progress when its outcome answers
   * the purpose, else waits for it to end and starts one of its own.
   */
  CachedToken await(Connection conn, Flight.Purpose purpose, @Nullable String rejected) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Flight flight = conn.inflight();
      boolean mine = false;
      if (flight == null) {
        Flight f = new Flight(purpose, rejected);
        if (!conn.casInflight(null, f)) {
          continue; // another caller started one between our look and here: join it
        }
        launch(conn, f, renewal);
        flight = f;
        mine = true;
      }
      CachedToken outcome;
      try {
        outcome = wait(conn, flight, deadline);
      } catch (TokenBrokerException e) {
        if (mine || Thread.currentThread().isInterrupted() || !startsOwnAfter(flight, purpose)) {
          throw e;
        }
        continue; // a revoke, or a flight that was not asked to renew, failed: ours may still run
      }
      if (mine || (outcome != null && flight.answers(purpose, rejected, outcome))) {
        if (outcome == null) {
          throw new TokenUnavailableException(
              conn.id, "connection " + conn.id + " was revoked", health.apply(conn), null);
        }
        return outcome;
      }
    }
  }

  /**
   * {@link #await} without blocking: the returned future completes with the same outcome a blocking
   * caller would get — the same rules for joining the flight in progress or starting one's own
   * after it, and the same exceptions (from {@link #forCaller}) — or with a {@link
   * TokenUnavailableException} once the renewal timeout has passed. Never throws.
   *
   * <p>The caller's thread only looks at the slot and maybe launches a flight; the rest runs when
   * the flight completes, on the broker thread that completed it (or on the caller's thread when it
   * was complete already). Stages the application chains on the result run there too unless it
   * chains them with an executor.
   */
  CompletableFuture<CachedToken> awaitAsync(
      Connection conn, Flight.Purpose purpose, @Nullable String rejected) {
    long deadline = System.nanoTime() + timeout.toNanos();
    // Bounded like await's wait: the timeout only completes this caller's future (its timer is
    // cancelled when the future completes first); the flight goes on.
    CompletableFuture<CachedToken> result = new CompletableFuture<>();
    CompletableFuture<CachedToken> caller = new CompletableFuture<>();
    result.whenComplete(
        (outcome, error) -> {
          if (error == null) {
            caller.complete(outcome);
          } else {
            caller.completeExceptionally(
                error instanceof TimeoutException ? timedOut(conn) : error);
          }
        });
    caller.whenComplete(
        (outcome, error) -> {
          if (caller.isCancelled()) {
            result.cancel(false); // the caller lost interest: start no further flight for it
          }
        });
    // Joins or starts a flight before the timer runs: a caller that gives up still got it started.
    attempt(conn, purpose, rejected, result, deadline);
    result.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
    return caller;
  }

  /** One round of {@link #await}'s loop: joins or starts a flight, and decides when it ends. */
  private void attempt(
      Connection conn,
      Flight.Purpose purpose,
      @Nullable String rejected,
      CompletableFuture<CachedToken> result,
      long deadline) {
    if (result.isDone()) {
      return; // timed out, or cancelled by the caller: start nothing more
    }
    Flight flight;
    boolean mine;
    while (true) {
      Flight current = conn.inflight();
      if (current != null) {
        flight = current;
        mine = false;
        break;
      }
      Flight f = new Flight(purpose, rejected);
      if (conn.casInflight(null, f)) {
        launch(conn, f, renewal);
        flight = f;
        mine = true;
        break;
      }
      // another caller started one between our look and here: join it
    }
    Flight joined = flight;
    boolean own = mine;
    joined.future.whenComplete(
        (outcome, error) -> {
          if (error != null) {
            Throwable cause =
                error instanceof java.util.concurrent.CompletionException
                        && error.getCause() != null
                    ? error.getCause()
                    : error;
            if (own || !startsOwnAfter(joined, purpose) || System.nanoTime() - deadline > 0) {
              result.completeExceptionally(
                  cause instanceof CancellationException
                      ? new TokenUnavailableException(
                          conn.id,
                          "connection " + conn.id + ": renewal was cancelled",
                          health.apply(conn),
                          null)
                      : forCaller(conn, cause));
              return;
            }
            // a revoke, or a flight that was not asked to renew, failed: ours may still run
            attempt(conn, purpose, rejected, result, deadline);
            return;
          }
          if (own || (outcome != null && joined.answers(purpose, rejected, outcome))) {
            if (outcome == null) {
              result.completeExceptionally(
                  new TokenUnavailableException(
                      conn.id, "connection " + conn.id + " was revoked", health.apply(conn), null));
            } else {
              result.complete(outcome);
            }
            return;
          }
          // the flight's outcome does not answer this caller: wait for our own
          attempt(conn, purpose, rejected, result, deadline);
        });
  }

  private TokenUnavailableException timedOut(Connection conn) {
    return new TokenUnavailableException(
        conn.id,
        "connection " + conn.id + ": renewal did not finish within " + timeout,
        health.apply(conn),
        null);
  }

  /** Whether a caller wanting {@code purpose} starts its own flight after {@code failed} failed. */
  private static boolean startsOwnAfter(Flight failed, Flight.Purpose purpose) {
    return failed.purpose == Flight.Purpose.REVOKE
        || (purpose == Flight.Purpose.REFRESH && failed.purpose != Flight.Purpose.REFRESH);
  }

  /** Starts a background renewal for {@code purpose} unless a flight is in progress. */
  void startInBackground(Connection conn, Flight.Purpose purpose) {
    if (conn.inflight() != null) {
      return;
    }
    Flight f = new Flight(purpose, null);
    if (conn.casInflight(null, f)) {
      launch(conn, f, renewal);
    }
  }

  /** The flight in progress, or a new one for {@code purpose}; does not wait. */
  Flight startOrJoin(Connection conn, Flight.Purpose purpose) {
    while (true) {
      Flight current = conn.inflight();
      if (current != null) {
        return current;
      }
      Flight f = new Flight(purpose, null);
      if (conn.casInflight(null, f)) {
        launch(conn, f, renewal);
        return f;
      }
    }
  }

  /**
   * Runs {@code work} as the connection's only flight: waits for the flight in progress to end
   * (whatever its outcome), then holds the slot while {@code work} runs on a broker thread.
   */
  void exclusive(Connection conn, Work work) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Flight current = conn.inflight();
      if (current != null) {
        try {
          wait(conn, current, deadline);
        } catch (TokenBrokerException e) {
          if (Thread.currentThread().isInterrupted() || System.nanoTime() > deadline) {
            throw e;
          }
        }
        continue;
      }
      Flight f = new Flight(Flight.Purpose.REVOKE, null);
      if (conn.casInflight(null, f)) {
        launch(conn, f, work);
        wait(conn, f, deadline);
        return;
      }
    }
  }

  private void launch(Connection conn, Flight f, Work work) {
    try {
      executor.execute(() -> run(conn, f, work));
    } catch (RejectedExecutionException e) {
      f.future.completeExceptionally(
          new TokenUnavailableException(
              conn.id, "connection " + conn.id + ": the broker is closed", health.apply(conn), e));
      conn.casInflight(f, null);
    }
  }

  private static void run(Connection conn, Flight f, Work work) {
    CachedToken outcome = null;
    Throwable failure = null;
    try {
      outcome = work.run(conn, f);
    } catch (Throwable t) {
      failure = t;
      if (!(t instanceof TokenBrokerException)) {
        log.error("connection {}: renewal failed unexpectedly", conn.id, t);
      }
    }
    // Cleared before completed: a caller that got this outcome and comes back (a STALE hit right
    // after) must find the slot free and start the next flight, not skip it. A caller arriving in
    // between starts a flight of its own, which finds the new set in the store: harmless.
    conn.casInflight(f, null);
    if (failure == null) {
      f.future.complete(outcome);
    } else {
      f.future.completeExceptionally(failure);
      if (failure instanceof VirtualMachineError) {
        throw (VirtualMachineError) failure;
      }
    }
  }

  private @Nullable CachedToken wait(Connection conn, Flight flight, long deadline) {
    try {
      return flight.future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw forCaller(conn, e.getCause());
    } catch (TimeoutException e) {
      throw timedOut(conn);
    } catch (CancellationException e) {
      throw new TokenUnavailableException(
          conn.id, "connection " + conn.id + ": renewal was cancelled", health.apply(conn), null);
    } catch (InterruptedException e) {
      // Ends this caller's wait only: the flight goes on, and no health changes.
      Thread.currentThread().interrupt();
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": interrupted while waiting for its renewal",
          health.apply(conn),
          e);
    }
  }

  /** Each waiter gets its own exception (own stack trace) with the renewal's shared cause. */
  private static RuntimeException forCaller(Connection conn, @Nullable Throwable t) {
    if (t instanceof ReauthorizationRequiredException) {
      ReauthorizationRequiredException r = (ReauthorizationRequiredException) t;
      return new ReauthorizationRequiredException(conn.id, r.health(), r.getCause());
    }
    if (t instanceof TokenUnavailableException) {
      TokenUnavailableException u = (TokenUnavailableException) t;
      return new TokenUnavailableException(conn.id, u.getMessage(), u.health(), u.getCause());
    }
    if (t instanceof TokenBrokerException) {
      return (TokenBrokerException) t;
    }
    return new TokenBrokerException(
        conn.id, "connection " + conn.id + ": renewal failed unexpectedly", t);
  }

  /** Waits (bounded) for {@code conn}'s flight in progress to end, if any; for close(). */
  static void drain(Connection conn, long deadlineNanos) {
    Flight f = conn.inflight();
    if (f == null) {
      return;
    }
    try {
      f.future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | CancellationException e) {
      // its outcome went to its own callers
    }
  }
}
