package dev.tokenbroker.fuzz;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one fuzz case with a time limit, so that a hang fails the property (naming the input)
 * instead of stalling the build. The case runs on a daemon thread; its outcome — a value or what it
 * threw, {@link Error}s included — is handed back as it is.
 */
public final class Bounded {
  /**
   * Generous: a case takes microseconds to milliseconds; a shared machine may pause for a while.
   */
  public static final Duration LIMIT = Duration.ofSeconds(10);

  private static final ExecutorService RUNNER =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
          });

  private Bounded() {}

  /** What the case returned or threw. */
  public static final class Outcome<T> {
    public final T value;
    public final Throwable thrown;

    Outcome(T value, Throwable thrown) {
      this.value = value;
      this.thrown = thrown;
    }
  }

  /** Runs {@code call} within {@link #LIMIT}; throws {@link AssertionError} when it hangs. */
  public static <T> Outcome<T> run(Callable<T> call) {
    Future<T> f = RUNNER.submit(call);
    try {
      return new Outcome<>(f.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS), null);
    } catch (ExecutionException e) {
      return new Outcome<>(null, e.getCause());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new AssertionError("the case did not finish within " + LIMIT + " (a hang?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /**
   * Runs {@code call}: its value, or the exception of {@code typed} it threw; anything else it
   * throws — an unchecked exception of another type, an {@link Error} — fails the property with
   * that throwable as the cause.
   */
  public static <T> Outcome<T> valueOrTyped(Class<? extends Throwable> typed, Callable<T> call) {
    Outcome<T> o = run(call);
    if (o.thrown == null || typed.isInstance(o.thrown)) {
      return o;
    }
    throw new AssertionError(
        "expected a value or a " + typed.getSimpleName() + ", got " + o.thrown, o.thrown);
  }
}
