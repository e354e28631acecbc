package dev.tokenbroker;

import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One configured connection's mutable state inside a broker: its provider, the single in-flight
 * renewal, health, and a token set that could not be saved yet.
 *
 * <p>Fields read on the hot path ({@link #hot}, {@link #inflight}, {@link #nextAttemptAtMillis},
 * {@link #state}) are volatile and read without a lock. Everything else is guarded by {@code this};
 * the lock is held only for a few field writes, never across I/O or a provider call.
 */
final class Connection {
  final ConnectionId id;
  final TokenProvider provider;
  final RenewalPolicy policy;

  /**
   * The renewal in flight, or null. Set by compare-and-set from null by the renewal that will run
   * it, and cleared only by that same renewal (compareAndSet(mine, null)), so a late finisher can
   * never clear a newer renewal's slot.
   */
  @SuppressWarnings("unused") // accessed through INFLIGHT
  private volatile @Nullable CompletableFuture<CachedToken> inflight;

  // A field and a VarHandle rather than an AtomicReference: 16 bytes less per connection.
  private static final VarHandle INFLIGHT;

  static {
    try {
      INFLIGHT =
          MethodHandles.lookup()
              .findVarHandle(Connection.class, "inflight", CompletableFuture.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  volatile Health.State state = Health.State.ACTIVE;

  /**
   * The cached token, or null: the broker's hot tier when the application gave no {@link
   * TokenCache} (the default; always null otherwise). Written only by TokenBroker.cachePut and
   * cacheInvalidate under this connection's lock; read without a lock on the hot path.
   */
  volatile @Nullable CachedToken hot;

  /** Epoch millis before which no renewal is attempted (backoff); 0 when none. */
  volatile long nextAttemptAtMillis;

  // ---- guarded by this ----
  @Nullable String reason;
  @Nullable String errorCode;
  Instant since;
  int failures;

  /** Epoch millis of the last renewal by this broker, or -1 (a long: no Instant to keep). */
  long lastRenewalAtMillis = -1;

  @Nullable TokenUnavailableException lastFailure;

  /** Store version at the time of a permanent failure: a newer stored version means recovery. */
  long failedVersion = -1;

  /** Epoch millis before which a failing connection does not look at the store again. */
  long nextStorePeekAtMillis;

  /** The newest set known to this broker (cached, loaded, or unsaved). */
  @Nullable TokenSet lastKnown;

  /** A set received from the provider but not yet saved; served and retried until saved. */
  @Nullable TokenSet unsaved;

  /** The store version {@link #unsaved} must be compare-and-set over. */
  long unsavedBaseVersion;

  /** The version last checked with {@link TokenProvider#validate}, for validate-on-load. */
  volatile long validatedVersion = -1;

  /** The authorization started here and not yet completed. */
  @Nullable AuthorizationRequest pending;

  /** The renewal in flight, or null. */
  @SuppressWarnings("unchecked")
  @Nullable CompletableFuture<CachedToken> inflight() {
    return (CompletableFuture<CachedToken>) INFLIGHT.getVolatile(this);
  }

  /** Compare-and-set of {@link #inflight}, by identity. */
  boolean casInflight(
      @Nullable CompletableFuture<CachedToken> expected,
      @Nullable CompletableFuture<CachedToken> replacement) {
    return INFLIGHT.compareAndSet(this, expected, replacement);
  }

  Connection(ConnectionId id, TokenProvider provider, Instant now) {
    this.id = id;
    this.provider = provider;
    this.policy = provider.renewalPolicy();
    this.since = now;
  }

  synchronized Health health(@Nullable CachedToken cached) {
    TokenSet t = unsaved != null ? unsaved : cached != null ? cached.tokenSet() : lastKnown;
    long next = nextAttemptAtMillis;
    return new Health(
        state,
        reason,
        errorCode,
        since,
        state == Health.State.DEGRADED && next > 0 ? Instant.ofEpochMilli(next) : null,
        failures,
        lastRenewalAtMillis < 0 ? null : Instant.ofEpochMilli(lastRenewalAtMillis),
        t == null ? null : t.expiresAt(),
        t == null ? null : t.refreshExpiresAt(),
        unsaved != null);
  }
}
