package dev.tokenbroker.benchmarks.scenarios;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * {@code n} platform threads held at a barrier, then released at once into one call each. Records
 * each caller's token or exception and when it returned.
 */
final class Stampede {
  /** One caller's call. */
  interface Call {
    @Nullable String get() throws Exception;
  }

  final @Nullable String[] tokens;
  final @Nullable Throwable[] errors;
  private final long[] returnedAt;
  private volatile long releasedAt;

  private Stampede(int n, Call call) throws InterruptedException {
    tokens = new String[n];
    errors = new Throwable[n];
    returnedAt = new long[n];
    // The release time is taken by the barrier action, which runs just before the barrier lets
    // everyone go: with 257 runnable threads on 2 cores the main thread may well run last.
    CyclicBarrier barrier = new CyclicBarrier(n + 1, () -> releasedAt = System.nanoTime());
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) {
      int slot = i;
      threads[i] =
          new Thread(
              () -> {
                try {
                  barrier.await(30, TimeUnit.SECONDS);
                  tokens[slot] = call.get();
                } catch (Throwable t) {
                  errors[slot] = t;
                }
                returnedAt[slot] = System.nanoTime();
              },
              "caller-" + i);
      threads[i].setDaemon(true);
      threads[i].start();
    }
    try {
      barrier.await(30, TimeUnit.SECONDS); // every caller is at the barrier: go
    } catch (BrokenBarrierException | TimeoutException e) {
      throw new IllegalStateException("callers did not reach the start barrier", e);
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60)); // join: the arrays' writes are visible after it
      if (t.isAlive()) {
        throw new IllegalStateException(t.getName() + " did not return within 60 s");
      }
    }
  }

  /** Runs {@code n} callers of {@code call} released together; returns when all have returned. */
  static Stampede run(int n, Call call) throws InterruptedException {
    return new Stampede(n, call);
  }

  /** From the release until the last caller returned, in microseconds. */
  long allReturnedMicros() {
    long last = releasedAt;
    for (long t : returnedAt) {
      last = Math.max(last, t);
    }
    return TimeUnit.NANOSECONDS.toMicros(last - releasedAt);
  }
}
