package dev.tokenbroker;

import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.HealthRecord;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One connection's mutable state inside a broker: its provider, the single in-flight renewal, the
 * hot slot, this instance's view of its shared health, and the newest set and fence it has seen.
 *
 * <p>Fields read on the hot path ({@link #hot}, {@link #inflight}, {@link #health}) are volatile
 * and read without a lock. The rest is guarded by {@code this}; the lock is held only for a few
 * field writes, never across I/O or a provider call.
 */
final class Connection {
  final ConnectionId id;

  /**
   * The provider, replaced when the connection's settings change at run time (a reissued secret): a
   * call in flight keeps the provider it started with.
   */
  volatile TokenProvider provider;

  volatile RenewalPolicy policy;

  /**
   * The flight in progress, or null. Set by compare-and-set from null by whoever starts the flight,
   * and cleared only by that flight (compareAndSet(mine, null)), so a late finisher can never clear
   * a newer flight's slot.
   */
  @SuppressWarnings("unused") // accessed through INFLIGHT
  private volatile @Nullable Flight inflight;

  // A field and a VarHandle rather than an AtomicReference: 16 bytes less per connection.
  private static final VarHandle INFLIGHT;

  static {
    try {
      INFLIGHT = MethodHandles.lookup().findVarHandle(Connection.class, "inflight", Flight.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The cached token, or null: the broker's hot tier when the application gave no {@link
   * TokenCache} (the default; always null otherwise). Written only by {@link HotTier} under this
   * connection's lock; read without a lock on the hot path.
   */
  volatile @Nullable CachedToken hot;

  /** This instance's latest view of the shared health record; null means ACTIVE. */
  volatile @Nullable HealthRecord health;

  /**
   * The connection's health version in the store as this instance last read or moved it: that of
   * {@link #health}, or with no record the version the last clear left (0: none ever written).
   */
  long healthVersion;

  /** {@link #health} was recorded here but the store could not take it (guarded by this). */
  boolean healthLocalOnly;

  /** The cause of the last failure this instance observed, for callers held off after it. */
  volatile @Nullable Throwable lastCause;

  /**
   * When this instance first saw the connection ACTIVE (health's {@code since} when it has none).
   */
  Instant activeSince;

  // ---- guarded by this ----

  /** Epoch millis of the last renewal by this broker, or -1 (a long: no Instant to keep). */
  long lastRenewalAtMillis = -1;

  /**
   * The newest set this instance has seen (loaded, saved, or unsaved); to restore a lost record.
   */
  @Nullable TokenSet newest;

  /** The highest lease fence this instance has seen, carried to the store as its floor. */
  long highestFence;

  /** Set once this instance has seen a token set of the connection; never cleared. */
  boolean sawAnyTokens;

  /** The version last checked with {@link TokenProvider#validate}, for validate-on-load. */
  volatile long validatedVersion = -1;

  Connection(ConnectionId id, TokenProvider provider, Instant now) {
    this.id = id;
    this.provider = provider;
    this.policy = provider.renewalPolicy();
    this.activeSince = now;
  }

  /** Serves the connection with {@code next} from now on (same platform, new settings). */
  synchronized void reconfigured(TokenProvider next) {
    policy = next.renewalPolicy();
    provider = next;
  }

  /** The flight in progress, or null. */
  @Nullable Flight inflight() {
    return (Flight) INFLIGHT.getVolatile(this);
  }

  /** Compare-and-set of {@link #inflight}, by identity. */
  boolean casInflight(@Nullable Flight expected, @Nullable Flight replacement) {
    return INFLIGHT.compareAndSet(this, expected, replacement);
  }

  /** Remembers {@code tokens} if it is newer than anything seen. */
  synchronized void sawTokens(@Nullable TokenSet tokens) {
    if (tokens != null) {
      sawAnyTokens = true;
    }
    if (tokens != null && (newest == null || tokens.version() >= newest.version())) {
      newest = tokens;
    }
  }

  /** Whether this instance ever saw a token set of this connection (it existed once). */
  synchronized boolean sawAnyTokens() {
    return sawAnyTokens;
  }

  synchronized @Nullable TokenSet newest() {
    return newest;
  }

  /** Forgets the tokens (after a revoke or a tombstone): nothing may be restored from here. */
  synchronized void forgetTokens() {
    newest = null;
  }

  synchronized void sawFence(long fence) {
    highestFence = Math.max(highestFence, fence);
  }

  synchronized long highestFence() {
    return highestFence;
  }

  /** Is {@code set} the version this instance knows as newest, or newer? */
  synchronized boolean isNewest(TokenSet set) {
    return newest == null || set.version() >= newest.version();
  }
}
