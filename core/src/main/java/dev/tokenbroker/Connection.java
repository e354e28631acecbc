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
 * <p>Volatile and read without a lock: {@link #provider}, {@link #policy}, {@link #hot}, {@link
 * #inflight()}, and through their accessors {@link #health()} (the hot path's check), {@link
 * #lastCause()} and {@link #validatedVersion()}; the last two are also written without it. The rest
 * is guarded by {@code this}: {@link #healthVersion()}, {@link #healthLocalOnly()} and the fields
 * below "guarded by this". The lock is held only for a few field writes, never across I/O or a
 * provider call.
 *
 * <p>Most connections never fail and never validate a set: what only those need (the health view,
 * the last failure's cause, the validated version) lives in a {@link Trouble} made the first time
 * one of them must hold a value other than its default, and kept from then on. Until then the
 * accessors answer the defaults, and writes of a default make nothing (64 bytes per connection
 * rather than 88 with compressed references; 40 more once it has a {@link Trouble}).
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

  /**
   * What a connection has only after a failure, a health record or a validation; null until then
   * (see {@link Trouble}). Made under this connection's lock, never replaced nor cleared.
   */
  private volatile @Nullable Trouble trouble;

  // ---- guarded by this ----

  /**
   * When this instance first saw the connection ACTIVE (health's {@code since} when it has none).
   * Kept here, not in {@link Trouble}: it fits in this object's padding, and every new
   * authorization sets it.
   */
  Instant activeSince;

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

  // ---- the state a connection has only after a failure or a validation (see Trouble) ----

  /** This instance's latest view of the shared health record; null means ACTIVE. No lock. */
  @Nullable HealthRecord health() {
    Trouble t = trouble;
    return t == null ? null : t.health;
  }

  /** Sets {@link #health()}; under this connection's lock. */
  void setHealth(@Nullable HealthRecord health) {
    assert Thread.holdsLock(this);
    if (health != null || trouble != null) {
      trouble().health = health;
    }
  }

  /**
   * The connection's health version in the store as this instance last read or moved it: that of
   * {@link #health()}, or with no record the version the last clear left (0: none ever written).
   * Under this connection's lock.
   */
  long healthVersion() {
    assert Thread.holdsLock(this);
    Trouble t = trouble;
    return t == null ? 0 : t.healthVersion;
  }

  /** Sets {@link #healthVersion()}; under this connection's lock. */
  void setHealthVersion(long version) {
    assert Thread.holdsLock(this);
    if (version != 0 || trouble != null) {
      trouble().healthVersion = version;
    }
  }

  /**
   * {@link #health()} was recorded here but the store could not take it. Under this connection's
   * lock.
   */
  boolean healthLocalOnly() {
    assert Thread.holdsLock(this);
    Trouble t = trouble;
    return t != null && t.healthLocalOnly;
  }

  /** Sets {@link #healthLocalOnly()}; under this connection's lock. */
  void setHealthLocalOnly(boolean localOnly) {
    assert Thread.holdsLock(this);
    if (localOnly || trouble != null) {
      trouble().healthLocalOnly = localOnly;
    }
  }

  /** The cause of the last failure this instance observed, for callers held off after it. */
  @Nullable Throwable lastCause() {
    Trouble t = trouble;
    return t == null ? null : t.lastCause;
  }

  /** Sets {@link #lastCause()}; with or without this connection's lock. */
  void setLastCause(@Nullable Throwable cause) {
    if (cause != null || trouble != null) {
      trouble().lastCause = cause;
    }
  }

  /**
   * The version last checked with {@link TokenProvider#validate} (or saved by this instance, see
   * {@link #savedHere}), for validate-on-load; -1: none.
   */
  long validatedVersion() {
    Trouble t = trouble;
    return t == null ? -1 : t.validatedVersion;
  }

  /** Sets {@link #validatedVersion()}; with or without this connection's lock. */
  void setValidatedVersion(long version) {
    if (version != -1 || trouble != null) {
      trouble().validatedVersion = version;
    }
  }

  /**
   * This instance saved {@code version} (renewed or authorized it): it counts as validated. Only a
   * provider that validates on load reads that, so with any other it is recorded only if the
   * connection has a {@link Trouble} already, rather than making one for every connection that
   * renews. (Should settings changed at run time turn validate-on-load on, a set saved here before
   * is validated once when next loaded, as one loaded from the store is.)
   */
  void savedHere(long version) {
    if (trouble != null || provider.validatesOnLoad()) {
      setValidatedVersion(version);
    }
  }

  /** Whether this connection has its {@link Trouble} (the heap it costs; for tests). */
  boolean hasTrouble() {
    return trouble != null;
  }

  /** The connection's {@link Trouble}, made now if it has none (double-checked, under the lock). */
  private Trouble trouble() {
    Trouble t = trouble;
    if (t == null) {
      synchronized (this) {
        t = trouble;
        if (t == null) {
          t = new Trouble();
          trouble = t;
        }
      }
    }
    return t;
  }

  /**
   * The part of a connection's state that is not the default only after a failure, a health record
   * with a version, or a validation. Its fields start at the defaults the accessors answer without
   * one, so making it changes nothing a reader sees. Visibility as the fields had in the
   * connection: {@link #health}, {@link #lastCause} and {@link #validatedVersion} are volatile and
   * read without a lock; the rest is guarded by the connection.
   */
  private static final class Trouble {
    volatile @Nullable HealthRecord health;
    long healthVersion;
    boolean healthLocalOnly;
    volatile @Nullable Throwable lastCause;
    volatile long validatedVersion = -1;
  }
}
