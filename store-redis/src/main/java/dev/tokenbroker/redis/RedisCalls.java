package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.redis.Scripts.Script;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.TokenStoreException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link RedisTokenStore} talks to Redis: scripts sent by {@code EVALSHA}, falling back to
 * {@code EVAL} after a restart flushed the script cache; commands refused during a Cluster
 * resharding or failover tried again; and every failure turned into a {@link TokenStoreException}
 * naming the connection, its text scrubbed (a Lua error could carry data), a timeout saying that
 * the command may or may not have been applied. Also reads the scripts' answers.
 */
final class RedisCalls {
  /** Attempts at a command refused during a Cluster resharding or failover. */
  private static final int ATTEMPTS = 5;

  private final RedisClusterCommands<String, String> redis;
  private final RedisClusterAsyncCommands<String, String> async;
  private final StatefulConnection<String, String> connection;

  RedisCalls(
      RedisClusterCommands<String, String> redis,
      RedisClusterAsyncCommands<String, String> async,
      StatefulConnection<String, String> connection) {
    this.redis = redis;
    this.async = async;
    this.connection = connection;
  }

  /** The synchronous commands, for use inside {@link #call}. */
  RedisClusterCommands<String, String> sync() {
    return redis;
  }

  /** The asynchronous commands, for pipelining; await each answer with {@link #await}. */
  RedisClusterAsyncCommands<String, String> async() {
    return async;
  }

  /** The deadline, {@link System#nanoTime()}, of a batch of commands sent now. */
  long batchDeadline() {
    return System.nanoTime() + connection.getTimeout().toNanos();
  }

  <T> T eval(Script script, ScriptOutputType type, String[] keys, String... args) {
    try {
      return redis.evalsha(script.sha1, type, keys, args);
    } catch (RedisNoScriptException e) {
      // The server's script cache is empty (restart, failover, SCRIPT FLUSH): send the body.
      return redis.eval(script.body, type, keys, args);
    }
  }

  /**
   * Runs {@code work}, trying again when the server briefly refuses; any failure but the store's
   * own exceptions becomes a {@link TokenStoreException} saying it could not do {@code action}.
   */
  <T> T call(@Nullable ConnectionId id, String action, Supplier<T> work) {
    RedisException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return work.get();
      } catch (TokenStoreException e) {
        throw e;
      } catch (RedisCommandTimeoutException e) {
        throw failure(id, action, timedOut(), e);
      } catch (RedisException e) {
        if (retryable(e)) {
          last = e;
          continue;
        }
        throw failure(id, action, String.valueOf(e.getMessage()), e);
      } catch (RuntimeException e) {
        // Lettuce may also fail with its own unchecked exceptions: never let one out raw.
        throw failure(id, action, e.getClass().getSimpleName() + ": " + e.getMessage(), e);
      }
    }
    throw failure(id, action, String.valueOf(Objects.requireNonNull(last).getMessage()), last);
  }

  /** The future's value, or null when the command should be sent again on its own. */
  <T> @Nullable T await(ConnectionId id, String action, RedisFuture<T> future, long deadlineNanos) {
    try {
      return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw failure(id, action, timedOut(), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure(id, action, "interrupted", null);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RedisNoScriptException || retryable(cause)) {
        return null;
      }
      throw failure(id, action, String.valueOf(cause.getMessage()), cause);
    }
  }

  private static boolean retryable(@Nullable Throwable e) {
    if (!(e instanceof RedisException)) {
      return false;
    }
    String m = String.valueOf(e.getMessage());
    // During a Cluster resharding or failover the server may briefly refuse: try again.
    return m.startsWith("TRYAGAIN") || m.startsWith("LOADING") || m.startsWith("CLUSTERDOWN");
  }

  private String timedOut() {
    return connection.isOpen()
        ? "timed out after "
            + connection.getTimeout().toMillis()
            + " ms; the command may or may not have been applied"
        : "not connected to Redis (refused or lost; Lettuce keeps reconnecting), gave up after "
            + connection.getTimeout().toMillis()
            + " ms";
  }

  private static TokenStoreException failure(
      @Nullable ConnectionId id, String action, String detail, @Nullable Throwable e) {
    String subject = id == null ? "" : "connection " + id + ": ";
    String safe = Secrets.scrub(detail, List.of(), 300);
    RedisException cause = null;
    if (e != null) {
      // The cause keeps the stack but not the message, which a Lua error could fill with data.
      cause = new RedisException(e.getClass().getSimpleName() + ": " + safe);
      cause.setStackTrace(e.getStackTrace());
    }
    return new TokenStoreException(
        id, subject + "could not " + action + " in Redis: " + safe, cause);
  }

  // ---------------------------------------------------------------- the scripts' answers

  /** The first element of a script's answer: what happened. */
  static String outcome(List<Object> r) {
    return r.isEmpty() ? "" : String.valueOf(r.get(0));
  }

  static @Nullable String text(List<Object> r, int i) {
    Object o = i < r.size() ? r.get(i) : null;
    return o == null ? null : o.toString();
  }

  static long integer(List<Object> r, int i) {
    Object o = i < r.size() ? r.get(i) : null;
    if (o instanceof Number n) {
      return n.longValue();
    }
    throw new IllegalStateException("a script returned " + (o == null ? "nothing" : "a string"));
  }

  /** A stored decimal number; 0 when missing or malformed. */
  static long number(@Nullable String s) {
    if (s == null) {
      return 0;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static TokenStoreException unexpected(ConnectionId id, List<Object> r) {
    return new TokenStoreException(
        id, "connection " + id + ": unexpected answer from a Redis script: " + outcome(r), null);
  }
}
