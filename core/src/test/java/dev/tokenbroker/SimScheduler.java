package dev.tokenbroker;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One simulated instance's scheduler (the durable saver's retries): tasks go on the world's
 * timeline, ordered by due time on the fake clock and then by submission, and run when the
 * simulation lets time pass or runs due work. Nothing runs on a thread of its own.
 */
final class SimScheduler extends AbstractExecutorService implements ScheduledExecutorService {
  private final SimWorld world;
  final SimInstance owner;
  boolean shutdown;

  SimScheduler(SimWorld world, SimInstance owner) {
    this.world = world;
    this.owner = owner;
  }

  /** A task on the timeline. */
  static final class Task implements ScheduledFuture<Object> {
    final SimScheduler scheduler;
    final long due;
    final long seq;
    final Runnable body;
    boolean cancelled;
    boolean done;

    Task(SimScheduler scheduler, long due, long seq, Runnable body) {
      this.scheduler = scheduler;
      this.due = due;
      this.seq = seq;
      this.body = body;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - scheduler.world.clock.millis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      Task t = (Task) o;
      return due != t.due ? Long.compare(due, t.due) : Long.compare(seq, t.seq);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done) {
        return false;
      }
      cancelled = true;
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done || cancelled;
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException("the simulation never waits on a scheduled task");
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException("the simulation never waits on a scheduled task");
    }
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    if (shutdown) {
      throw new java.util.concurrent.RejectedExecutionException("shut down");
    }
    return world.enqueue(this, Math.max(0, unit.toMillis(delay)), command);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException("the simulation runs keep-alive passes itself");
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("the simulation runs keep-alive passes itself");
  }

  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.MILLISECONDS);
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }
}
