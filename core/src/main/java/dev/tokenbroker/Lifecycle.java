package dev.tokenbroker;

import dev.tokenbroker.store.TokenStore;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's life: open until {@link #close}, which stops background work — renewals in flight
 * finish (bounded by the renewal timeout) and are saved, unsaved sets get one last save attempt,
 * the broker's own threads stop, and a store the broker created from configuration is closed. Every
 * part that starts work checks {@link #checkOpen} first.
 */
final class Lifecycle {
  // Logged under the facade's name, as before close() moved here.
  private static final Logger log = LoggerFactory.getLogger(TokenBroker.class);

  private final ConnectionRegistry registry;
  private final Duration renewalTimeout;
  private final @Nullable ExecutorService ownedExecutor;
  private final DurableSaver saver;
  private final ScheduledExecutorService scheduler;
  private final TokenStore store;
  private final boolean ownsStore;
  private volatile boolean closed;

  Lifecycle(
      ConnectionRegistry registry,
      Duration renewalTimeout,
      @Nullable ExecutorService ownedExecutor,
      DurableSaver saver,
      ScheduledExecutorService scheduler,
      TokenStore store,
      boolean ownsStore) {
    this.registry = registry;
    this.renewalTimeout = renewalTimeout;
    this.ownedExecutor = ownedExecutor;
    this.saver = saver;
    this.scheduler = scheduler;
    this.store = store;
    this.ownsStore = ownsStore;
  }

  boolean isClosed() {
    return closed;
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("broker is closed");
    }
  }

  /** Stops background work, as {@link TokenBroker#close} says; a second call does nothing. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    long deadline = System.nanoTime() + renewalTimeout.toNanos();
    for (Connection conn : registry.inOrder()) {
      SingleFlight.drain(conn, deadline);
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
      try {
        ownedExecutor.awaitTermination(
            Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ownedExecutor.shutdownNow();
    }
    saver.close();
    scheduler.shutdownNow();
    if (ownsStore) {
      try {
        store.close();
      } catch (Exception e) {
        log.warn("closing the token store failed: {}", e.toString());
      }
    }
  }
}
