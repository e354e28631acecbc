package dev.tokenbroker;

import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.TokenStoreFactory;
import dev.tokenbroker.store.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the OAuth tokens of many connections alive and hands out valid access tokens.
 *
 * <p>Every token takes one path:
 *
 * <pre>
 * accessToken(id)
 *   cache hit and FRESH ─────────────────────────────► return  (no lock, no allocation)
 *   STALE: return the current token; start one background renewal
 *   EXPIRED / missing: wait for the single in-flight renewal of this id
 *     renewal = load from the TokenStore (another instance may have renewed already)
 *             → take the store lease → load again
 *             → provider call (never while holding a JVM lock)
 *             → compare-and-set the new set into the store   ← saved before anyone uses it
 *             → put in the cache → release the lease → complete the waiters
 * </pre>
 *
 * <p>Thread-safe. {@link #accessToken} blocks only when no valid token is cached, and then at most
 * for the renewal timeout. Every method throws {@link TokenBrokerException} subclasses: {@link
 * ReauthorizationRequiredException} when a person must act, {@link TokenUnavailableException} when
 * waiting may help, {@link ConfigurationException} for an unknown connection. No message, log line
 * or {@code toString} contains a token or secret.
 */
public final class TokenBroker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenBroker.class);
  private static final Duration PENDING_AUTHORIZATION_TTL = Duration.ofMinutes(15);
  private static final long STORE_PEEK_INTERVAL_MILLIS = 1_000;

  private final Clock clock;
  private final TokenStore store;

  /**
   * The application's cache ({@link Builder#cache}), or null for the default: each connection keeps
   * its cached token in its own slot ({@link Connection#hot}), found through {@link #connections}
   * by id or directly by a {@link TokenSource}. No second table, no entry objects.
   */
  private final @Nullable TokenCache cache;

  /** By id, for lookups. */
  private final ConnectionTable connections;

  /** The same connections in configuration order, for passes over all of them. */
  private final Connection[] inOrder;

  private final List<TokenListener> listeners;
  private final Executor executor;
  private final @Nullable ExecutorService ownedExecutor;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsStore;
  private final String owner;
  private final Duration leaseTtl;
  private final Duration leaseWait;
  private final Duration renewalTimeout;
  private final Duration backoffInitial;
  private final Duration backoffMax;
  private final SecureRandom random;
  private final int keepAliveConcurrency;
  private volatile boolean closed;

  private TokenBroker(Builder b, Map<ConnectionId, TokenProvider> providers) {
    this.clock = b.clock;
    this.store = Objects.requireNonNull(b.store);
    this.ownsStore = b.ownsStore;
    this.cache = b.cache;
    this.listeners = List.copyOf(b.listeners);
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      ThreadPoolExecutor pool =
          new ThreadPoolExecutor(
              8, 8, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemon("tokenbroker-renew"));
      pool.allowCoreThreadTimeOut(true);
      this.executor = pool;
      this.ownedExecutor = pool;
    }
    ScheduledThreadPoolExecutor sched =
        new ScheduledThreadPoolExecutor(2, daemon("tokenbroker-scheduler"));
    sched.setRemoveOnCancelPolicy(true);
    this.scheduler = sched;
    this.owner =
        b.instanceId != null ? b.instanceId : "broker-" + randomToken(new SecureRandom(), 6);
    this.leaseTtl = b.leaseTtl;
    this.leaseWait = b.leaseWait;
    this.renewalTimeout = b.renewalTimeout;
    this.backoffInitial = b.backoffInitial;
    this.backoffMax = b.backoffMax;
    this.random = new SecureRandom();
    this.keepAliveConcurrency = b.keepAliveConcurrency;
    Instant now = clock.instant();
    this.inOrder =
        providers.entrySet().stream()
            .map(e -> new Connection(e.getKey(), e.getValue(), now))
            .toArray(Connection[]::new);
    this.connections = new ConnectionTable(inOrder);
    if (b.keepAliveInterval != null) {
      scheduleKeepAlive(b.keepAliveInterval);
    }
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A broker configured from a YAML ({@code .yaml}, {@code .yml}) or {@code .properties} file, with
   * {@code ${ENV_VAR}} replaced from the environment.
   */
  public static TokenBroker fromConfig(Path configFile) {
    return builder().configFile(configFile).build();
  }

  // ------------------------------------------------------------------------------------------
  // Handing out tokens

  /**
   * A valid access token for {@code id}.
   *
   * <p>FRESH: returned from the cache with no lock and no allocation. STALE: returned at once, and
   * one background renewal starts. EXPIRED or missing: waits for the connection's single renewal
   * (at most the renewal timeout); every caller waiting on it gets its result or its error.
   *
   * @throws ReauthorizationRequiredException if a person must act first
   * @throws TokenUnavailableException if no valid token can be had now (see its health)
   * @throws ConfigurationException if {@code id} is not configured
   */
  public String accessToken(ConnectionId id) {
    return current(id).accessToken();
  }

  /** Like {@link #accessToken} but returns the whole valid {@link TokenSet}. */
  public TokenSet tokenSet(ConnectionId id) {
    return current(id).tokenSet();
  }

  /** The cached token, renewing as {@link #accessToken} does. For the OkHttp integration. */
  CachedToken current(ConnectionId id) {
    CachedToken c;
    if (cache == null) {
      Connection conn = connections.get(id);
      c = conn == null ? null : conn.hot;
    } else {
      c = cache.get(id);
    }
    if (c != null) {
      long now = clock.millis();
      if (now < c.renewAtMillis()) {
        return c;
      }
      if (now < c.expiredAtMillis()) {
        renewInBackground(connection(id));
        return c;
      }
    }
    return slowPath(id);
  }

  /**
   * Renews {@code id} now, whatever its token's age, and returns the new set. Joins a renewal
   * already in flight instead of starting a second one. Also tries a connection that is DEGRADED or
   * needs re-authorization (after an operator fixed the cause).
   */
  public TokenSet refresh(ConnectionId id) {
    Connection conn = connection(id);
    checkOpen();
    return awaitRenewal(conn, true, null).tokenSet();
  }

  private CachedToken slowPath(ConnectionId id) {
    Connection conn = connection(id);
    checkOpen();
    CachedToken c = awaitRenewal(conn, false, null);
    if (clock.millis() >= c.renewAtMillis()) {
      // A cache miss found a still-valid but STALE set in the store: it was served at once, and
      // now gets its background renewal like any STALE hit.
      renewInBackground(conn);
    }
    return c;
  }

  /** Starts one background renewal unless one is running, backing off, or hopeless. */
  private void renewInBackground(Connection conn) {
    if (conn.inflight() != null
        || conn.state == Health.State.REAUTHORIZATION_REQUIRED
        || clock.millis() < conn.nextAttemptAtMillis
        || closed) {
      return;
    }
    CompletableFuture<CachedToken> mine = new CompletableFuture<>();
    if (!conn.casInflight(null, mine)) {
      return; // another caller started it between our check and here: harmless
    }
    try {
      executor.execute(() -> runRenewal(conn, mine, false, null, false));
    } catch (RejectedExecutionException e) {
      conn.casInflight(mine, null);
      mine.cancel(false);
    }
  }

  /**
   * Joins the renewal in flight or, if none, runs one on this thread; then waits for its outcome.
   */
  private CachedToken awaitRenewal(
      Connection conn, boolean force, @Nullable String rejectedAccessToken) {
    CompletableFuture<CachedToken> flight;
    while (true) {
      flight = conn.inflight();
      if (flight != null) {
        break;
      }
      CompletableFuture<CachedToken> mine = new CompletableFuture<>();
      if (conn.casInflight(null, mine)) {
        // This caller owns the renewal and runs it on its own thread: no hand-off, and the
        // provider call happens with no lock held (the slot is a CAS'd reference, not a lock).
        runRenewal(conn, mine, force, rejectedAccessToken, true);
        flight = mine;
        break;
      }
    }
    return join(conn, flight);
  }

  private void runRenewal(
      Connection conn,
      CompletableFuture<CachedToken> mine,
      boolean force,
      @Nullable String rejectedAccessToken,
      boolean foreground) {
    try {
      mine.complete(renew(conn, force, rejectedAccessToken, foreground));
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      if (t instanceof Error) {
        throw (Error) t;
      }
    } finally {
      // Completed before cleared: a caller arriving in between joins a finished flight and gets
      // its outcome, which is the newest there is. Cleared only if the slot still holds ours.
      conn.casInflight(mine, null);
    }
  }

  private CachedToken join(Connection conn, CompletableFuture<CachedToken> flight) {
    try {
      return flight.get(renewalTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw rethrowForCaller(conn, e.getCause());
    } catch (TimeoutException e) {
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": renewal did not finish within " + renewalTimeout,
          health(conn),
          null);
    } catch (CancellationException e) {
      throw new TokenUnavailableException(
          conn.id, "connection " + conn.id + ": renewal was cancelled", health(conn), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TokenUnavailableException(
          conn.id,
          "connection " + conn.id + ": interrupted while waiting for renewal",
          health(conn),
          e);
    }
  }

  /** Each waiter gets its own exception (own stack trace) with the renewal's shared cause. */
  private static RuntimeException rethrowForCaller(Connection conn, @Nullable Throwable t) {
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

  // ------------------------------------------------------------------------------------------
  // The renewal itself. Runs at most once at a time per connection in this JVM (the in-flight
  // slot) and, through the store lease, across every broker sharing the store.

  private CachedToken renew(
      Connection conn, boolean force, @Nullable String rejected, boolean foreground) {
    long now = clock.millis();
    boolean failing = conn.state != Health.State.ACTIVE;
    TokenSet base;
    synchronized (conn) {
      boolean waiting =
          conn.state == Health.State.REAUTHORIZATION_REQUIRED || now < conn.nextAttemptAtMillis;
      if (failing
          && waiting
          && !force
          && now < conn.nextStorePeekAtMillis
          && conn.lastFailure != null) {
        // A failing connection does not hammer the store on every call: once a second at most.
        throw conn.lastFailure;
      }
      conn.nextStorePeekAtMillis = now + STORE_PEEK_INTERVAL_MILLIS;
      base = conn.unsaved;
    }
    if (base == null) {
      base = loadStore(conn);
    }
    CachedToken usable = usable(conn, base, force, rejected, now);
    if (usable == null && foreground && !force && rejected == null) {
      usable = usableStale(conn, base, now);
    }
    if (usable != null) {
      return usable;
    }
    if (!force) {
      TokenUnavailableException gate = gate(conn, base, now);
      if (gate != null) {
        throw gate;
      }
    }

    Lease lease = acquireLease(conn, base, force, rejected);
    if (lease == null) {
      // Another instance renewed while we waited for its lease.
      TokenSet renewedElsewhere = loadStore(conn);
      CachedToken c = usable(conn, renewedElsewhere, false, rejected, clock.millis());
      if (c != null) {
        return c;
      }
      throw fail(
          conn,
          transientFailure(
              conn,
              "another instance holds the renewal lease and did not renew within " + leaseWait,
              null),
          base);
    }
    try {
      TokenSet latest;
      synchronized (conn) {
        latest = conn.unsaved;
      }
      if (latest == null) {
        latest = loadStore(conn);
      }
      if (latest != null && (base == null || latest.version() != base.version())) {
        // Someone saved a newer set between our first read and the lease: use it if it is good.
        CachedToken c = usable(conn, latest, false, rejected, clock.millis());
        if (c != null) {
          return c;
        }
      }
      TokenSet issued = callProvider(conn, latest);
      return saveAndPublish(conn, latest, issued, TokenEvent.Type.REFRESHED);
    } finally {
      releaseLease(lease);
    }
  }

  /**
   * A cached token made from {@code tokens} if it can be handed out as is: FRESH, not the token the
   * API just rejected, not a forced renewal, and valid per the provider when it validates on load.
   */
  private @Nullable CachedToken usable(
      Connection conn,
      @Nullable TokenSet tokens,
      boolean force,
      @Nullable String rejected,
      long now) {
    // A forced renewal ignores the store, except after an API rejection: then a stored set other
    // than the rejected token (another instance renewed already) is exactly what is needed.
    if (tokens == null || (force && rejected == null)) {
      return null;
    }
    if (rejected != null && rejected.equals(tokens.accessToken())) {
      return null;
    }
    CachedToken c = new CachedToken(tokens, conn.policy);
    if (now >= c.renewAtMillis()) {
      return null;
    }
    boolean recovered;
    synchronized (conn) {
      recovered =
          conn.state == Health.State.REAUTHORIZATION_REQUIRED
              && tokens.version() > conn.failedVersion;
      if (conn.state == Health.State.REAUTHORIZATION_REQUIRED && !recovered) {
        return null;
      }
    }
    if (conn.provider.validatesOnLoad() && conn.validatedVersion != tokens.version()) {
      TokenSet checked;
      try {
        checked = conn.provider.validate(tokens);
      } catch (TokenEndpointException e) {
        if (e.kind() != TokenEndpointException.Kind.PERMANENT && e.httpStatus() == 401) {
          return null; // rejected although fresh by our clock (logged out elsewhere): renew it
        }
        throw fail(conn, e, tokens);
      }
      tokens = saveValidated(conn, tokens, checked);
      c = new CachedToken(tokens, conn.policy);
    }
    cachePut(conn, c);
    markHealthy(conn, tokens, false);
    return c;
  }

  /**
   * For a caller with no valid cached token: a stored set that is STALE but not yet EXPIRED is
   * served at once (the caller then starts a background renewal) rather than making it wait.
   */
  private @Nullable CachedToken usableStale(Connection conn, @Nullable TokenSet tokens, long now) {
    if (tokens == null) {
      return null;
    }
    CachedToken c = new CachedToken(tokens, conn.policy);
    if (now >= c.expiredAtMillis() || conn.state == Health.State.REAUTHORIZATION_REQUIRED) {
      return null;
    }
    if (conn.provider.validatesOnLoad() && conn.validatedVersion != tokens.version()) {
      return null; // let the renewal path validate it
    }
    cachePut(conn, c);
    synchronized (conn) {
      conn.lastKnown = tokens;
    }
    return c;
  }

  /** Null if a renewal may be attempted now; else the failure to report without trying. */
  private @Nullable TokenUnavailableException gate(
      Connection conn, @Nullable TokenSet base, long now) {
    synchronized (conn) {
      if (conn.state == Health.State.REAUTHORIZATION_REQUIRED) {
        if (base == null || base.version() <= conn.failedVersion) {
          return conn.lastFailure != null ? conn.lastFailure : reauthFailure(conn, null);
        }
        // A newer stored set (a `connect` from another process) gives the connection a new chance.
      } else if (now < conn.nextAttemptAtMillis && conn.lastFailure != null) {
        return conn.lastFailure;
      }
    }
    if (base == null && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
      return fail(conn, notAuthorized(conn), null);
    }
    return null;
  }

  /** A TRANSIENT failure the broker itself detected (store trouble, a lease never freed). */
  private static TokenEndpointException transientFailure(
      Connection conn, String reason, @Nullable Throwable cause) {
    return TokenEndpointException.builder(conn.provider.name())
        .kind(TokenEndpointException.Kind.TRANSIENT)
        .reason(reason)
        .cause(cause)
        .build();
  }

  private TokenEndpointException notAuthorized(Connection conn) {
    return TokenEndpointException.builder(conn.provider.name())
        .kind(TokenEndpointException.Kind.PERMANENT)
        .reason("not authorized yet: run `tokenbroker connect " + conn.id + "`")
        .build();
  }

  private TokenSet callProvider(Connection conn, @Nullable TokenSet latest) {
    TokenProvider provider = conn.provider;
    TokenSet issued;
    try {
      if (provider.grantType() == GrantType.CLIENT_CREDENTIALS) {
        issued = provider.obtain(latest);
      } else if (latest == null || latest.refreshToken() == null) {
        throw notAuthorized(conn);
      } else {
        issued = provider.refresh(latest);
      }
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN) {
        emit(
            TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN,
            conn,
            "refresh answer lost; the refresh token may already be rotated. Not retried blindly: "
                + "the next attempt's answer decides the health",
            e);
      }
      throw fail(conn, e, latest);
    } catch (RuntimeException e) {
      // A provider bug must not leave waiters hanging or loop: report it as a transient failure.
      throw fail(
          conn,
          transientFailure(
              conn,
              "unexpected error in the " + provider.name() + " provider: " + e.getClass().getName(),
              e),
          latest);
    }
    return keepRefreshToken(latest, issued);
  }

  /** Never drop a refresh token: a platform that did not resend it means "keep the old one". */
  private static TokenSet keepRefreshToken(@Nullable TokenSet previous, TokenSet issued) {
    if (issued.refreshToken() != null || previous == null || previous.refreshToken() == null) {
      return issued;
    }
    return issued.toBuilder()
        .refreshToken(previous.refreshToken())
        .refreshExpiresAt(previous.refreshExpiresAt())
        .scopes(issued.scopes().isEmpty() ? previous.scopes() : issued.scopes())
        .build();
  }

  /**
   * Saves {@code issued} over {@code previous}'s version, then caches it. If the save fails, the
   * set is kept in memory, served, and the save retried in the background: a rotated refresh token
   * is never dropped.
   */
  private CachedToken saveAndPublish(
      Connection conn, @Nullable TokenSet previous, TokenSet issued, TokenEvent.Type event) {
    long baseVersion;
    synchronized (conn) {
      baseVersion =
          conn.unsaved != null
              ? conn.unsavedBaseVersion
              : previous == null ? 0 : previous.version();
    }
    TokenSet saved;
    try {
      saved = casOverwriting(conn, baseVersion, issued);
      synchronized (conn) {
        conn.unsaved = null;
      }
    } catch (TokenStoreException e) {
      synchronized (conn) {
        conn.unsaved = issued.withVersion(0);
        conn.unsavedBaseVersion = baseVersion;
      }
      saved = issued;
      log.warn(
          "connection {}: could not save the new token set; keeping it in memory: {}",
          conn.id,
          e.getMessage());
      emit(
          TokenEvent.Type.SAVE_FAILED,
          conn,
          "new token set kept in memory, save will be retried: " + e.getMessage(),
          e);
      scheduleSaveRetry(conn, 0);
    }
    CachedToken c = new CachedToken(saved, conn.policy);
    cachePut(conn, c);
    conn.validatedVersion = saved.version();
    markHealthy(conn, saved, true);
    emit(
        event,
        conn,
        "new token set "
            + Secrets.fingerprint(saved.accessToken())
            + " expires "
            + saved.expiresAt(),
        null);
    warnIfRefreshExpiringSoon(conn, saved);
    return c;
  }

  /**
   * Compare-and-set; on a version conflict (another writer saved in between, which the lease should
   * prevent) our set — the one the platform issued last, holding the live refresh token — is
   * written over the newer version, and the conflict is logged.
   */
  private TokenSet casOverwriting(Connection conn, long baseVersion, TokenSet issued) {
    try {
      return store.put(conn.id, issued);
    } catch (VersionConflictException e) {
      log.warn(
          "connection {}: store version moved from {} to {} during renewal; writing the newest issued set over it",
          conn.id,
          e.expectedVersion(),
          e.actualVersion());
      return store.put(conn.id, issued);
    }
  }

  private void scheduleSaveRetry(Connection conn, int attempt) {
    if (closed) {
      return;
    }
    long delay =
        attempt == 0
            ? 0
            : Math.min(
                backoffMax.toMillis(), backoffInitial.toMillis() << Math.min(attempt - 1, 20));
    try {
      scheduler.schedule(() -> retrySave(conn, attempt), delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      log.warn("connection {}: broker closed with an unsaved token set", conn.id);
    }
  }

  private void retrySave(Connection conn, int attempt) {
    TokenSet pending;
    long base;
    synchronized (conn) {
      pending = conn.unsaved;
      base = conn.unsavedBaseVersion;
    }
    if (pending == null) {
      return; // a later renewal saved a newer set
    }
    TokenSet saved;
    try {
      saved = casOverwriting(conn, base, pending);
    } catch (TokenStoreException e) {
      log.warn("connection {}: save retry {} failed: {}", conn.id, attempt + 1, e.getMessage());
      scheduleSaveRetry(conn, attempt + 1);
      return;
    }
    boolean stillOurs;
    synchronized (conn) {
      stillOurs = conn.unsaved == pending;
      if (stillOurs) {
        conn.unsaved = null;
        conn.lastKnown = saved;
      }
    }
    if (stillOurs) {
      cachePut(conn, new CachedToken(saved, conn.policy));
      emit(
          TokenEvent.Type.SAVE_RECOVERED,
          conn,
          "token set saved after " + (attempt + 1) + " attempt(s)",
          null);
    }
  }

  private @Nullable TokenSet loadStore(Connection conn) {
    TokenSet t;
    try {
      t = store.load(conn.id);
    } catch (TokenStoreException e) {
      throw fail(
          conn, transientFailure(conn, "token store unavailable: " + e.getMessage(), e), null);
    }
    if (t != null) {
      synchronized (conn) {
        conn.lastKnown = t;
      }
    }
    return t;
  }

  /**
   * Takes the store lease, waiting (bounded) while another instance holds it. Returns null when the
   * other instance saved a newer set meanwhile, so no provider call is needed.
   */
  private @Nullable Lease acquireLease(
      Connection conn, @Nullable TokenSet base, boolean force, @Nullable String rejected) {
    long deadline = System.nanoTime() + leaseWait.toNanos();
    long pause = 10;
    while (true) {
      Lease lease;
      try {
        lease = store.tryAcquireLease(conn.id, owner, leaseTtl, 0);
      } catch (TokenStoreException e) {
        throw fail(
            conn,
            transientFailure(
                conn, "token store unavailable for the renewal lease: " + e.getMessage(), e),
            base);
      }
      if (lease != null) {
        return lease;
      }
      TokenSet now = loadStore(conn);
      if (now != null && (base == null || now.version() != base.version())) {
        if (usable(conn, now, false, rejected, clock.millis()) != null) {
          return null;
        }
        if (force && (rejected == null || !rejected.equals(now.accessToken()))) {
          return null;
        }
      }
      if (System.nanoTime() > deadline) {
        return null;
      }
      // Real-time wait: the other holder is another thread or process doing real I/O.
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      pause = Math.min(pause * 2, 250);
    }
  }

  private void releaseLease(Lease lease) {
    try {
      store.releaseLease(lease);
    } catch (RuntimeException e) {
      // The lease expires on its own; a failed release only delays other instances.
      log.warn(
          "connection {}: could not release the renewal lease: {}",
          lease.connection(),
          e.getMessage());
    }
  }

  // ------------------------------------------------------------------------------------------
  // Health bookkeeping

  private void markHealthy(Connection conn, TokenSet tokens, boolean renewed) {
    boolean changed;
    synchronized (conn) {
      changed = conn.state != Health.State.ACTIVE;
      if (changed) {
        conn.since = clock.instant();
      }
      conn.state = Health.State.ACTIVE;
      conn.reason = null;
      conn.errorCode = null;
      conn.failures = 0;
      conn.lastFailure = null;
      conn.failedVersion = -1;
      conn.nextAttemptAtMillis = 0;
      conn.lastKnown = conn.unsaved != null ? conn.unsaved : tokens;
      if (renewed) {
        conn.lastRenewalAtMillis = clock.millis();
      }
    }
    if (changed) {
      log.info("connection {} is active again", conn.id);
    }
  }

  /**
   * Records a failed renewal and returns the exception every waiter gets: permanent failures set
   * REAUTHORIZATION_REQUIRED and stop retries; others set DEGRADED with a capped, jittered backoff.
   */
  private TokenUnavailableException fail(
      Connection conn, TokenEndpointException e, @Nullable TokenSet base) {
    Instant now = clock.instant();
    TokenUnavailableException result;
    boolean permanent = e.kind() == TokenEndpointException.Kind.PERMANENT;
    synchronized (conn) {
      Health.State previous = conn.state;
      conn.failures++;
      conn.reason =
          e.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN
              ? "rotation outcome unknown: " + e.reason()
              : e.reason();
      conn.errorCode = errorCode(e);
      if (permanent) {
        conn.state = Health.State.REAUTHORIZATION_REQUIRED;
        conn.failedVersion = base == null ? 0 : base.version();
        conn.nextAttemptAtMillis = 0;
      } else {
        conn.state = Health.State.DEGRADED;
        conn.nextAttemptAtMillis =
            now.toEpochMilli() + backoffMillis(conn.failures, e.retryAfter());
      }
      if (previous != conn.state) {
        conn.since = now;
      }
      Health health = conn.health(cached(conn));
      result =
          permanent
              ? new ReauthorizationRequiredException(conn.id, health, e)
              : new TokenUnavailableException(
                  conn.id,
                  "connection "
                      + conn.id
                      + " has no valid token: "
                      + conn.reason
                      + "; next attempt at "
                      + health.nextAttemptAt(),
                  health,
                  e);
      conn.lastFailure = result;
    }
    log.warn("connection {}: renewal failed: {}", conn.id, e.getMessage());
    emit(TokenEvent.Type.REFRESH_FAILED, conn, e.getMessage(), e);
    if (permanent) {
      emit(TokenEvent.Type.REAUTHORIZATION_REQUIRED, conn, e.reason(), e);
    }
    return result;
  }

  private ReauthorizationRequiredException reauthFailure(
      Connection conn, @Nullable Throwable cause) {
    return new ReauthorizationRequiredException(conn.id, conn.health(cached(conn)), cause);
  }

  private static @Nullable String errorCode(TokenEndpointException e) {
    if (e.platformCode() != null) {
      return e.platformCode();
    }
    if (e.error() != null) {
      return e.error();
    }
    return e.httpStatus() > 0 ? Integer.toString(e.httpStatus()) : null;
  }

  /**
   * Exponential backoff with "equal jitter" (half fixed, half random), capped; honours Retry-After.
   */
  private long backoffMillis(int failures, @Nullable Duration retryAfter) {
    long base = backoffInitial.toMillis() << Math.min(failures - 1, 20);
    long capped = Math.min(base, backoffMax.toMillis());
    long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    if (retryAfter != null) {
      long ra = Math.min(retryAfter.toMillis(), Duration.ofHours(1).toMillis());
      jittered = Math.max(jittered, ra);
    }
    return jittered;
  }

  private void warnIfRefreshExpiringSoon(Connection conn, TokenSet tokens) {
    Instant keepAliveAt = conn.policy.keepAliveAt(tokens);
    if (keepAliveAt != null && !clock.instant().isBefore(keepAliveAt)) {
      emit(
          TokenEvent.Type.REFRESH_TOKEN_EXPIRING_SOON,
          conn,
          "refresh token expires at " + tokens.refreshExpiresAt(),
          null);
    }
  }

  private void emit(
      TokenEvent.Type type, Connection conn, String message, @Nullable Throwable error) {
    if (listeners.isEmpty()) {
      return;
    }
    TokenEvent event = new TokenEvent(type, conn.id, clock.instant(), message, error);
    for (TokenListener l : listeners) {
      try {
        l.onEvent(event);
      } catch (RuntimeException e) {
        log.warn("listener {} failed on {}: {}", l, type, e.toString());
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Keep-alive: idle connections die when their refresh token expires (Cafe24 after 14 days,
  // Kakao after about two months), so they are renewed inside their provider's window whether
  // or not anyone asks for a token.

  /**
   * One keep-alive pass: renews every configured connection whose refresh token is inside its
   * provider's keep-alive window ({@link RenewalPolicy#keepAliveAt}, moved earlier by a small
   * per-connection jitter so that connections authorized together do not renew together), at most
   * {@code keepAliveConcurrency} at a time. Safe on every instance at once: the renewal takes the
   * store lease and re-reads the store, so a connection another instance just renewed is skipped.
   * Blocks until the pass is done. Failures go to health and events, never thrown.
   *
   * @return the connections renewed in this pass
   */
  public List<ConnectionId> keepAlive() {
    checkOpen();
    Instant now = clock.instant();
    List<Connection> due = new ArrayList<>();
    for (Connection conn : inOrder) {
      if (conn.policy.keepAliveBefore() == null
          || conn.state == Health.State.REAUTHORIZATION_REQUIRED
          || now.toEpochMilli() < conn.nextAttemptAtMillis) {
        continue;
      }
      TokenSet latest;
      synchronized (conn) {
        latest = conn.unsaved;
      }
      try {
        if (latest == null) {
          latest = store.load(conn.id);
        }
      } catch (TokenStoreException e) {
        log.warn("connection {}: keep-alive could not read the store: {}", conn.id, e.getMessage());
        continue;
      }
      Instant at = latest == null ? null : conn.policy.keepAliveAt(latest);
      if (at != null && !now.isBefore(at.minus(keepAliveJitter(conn, latest)))) {
        emit(
            TokenEvent.Type.REFRESH_TOKEN_EXPIRING_SOON,
            conn,
            "refresh token expires at " + latest.refreshExpiresAt() + "; renewing it now",
            null);
        due.add(conn);
      }
    }
    List<ConnectionId> renewed = Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(keepAliveConcurrency);
    List<CompletableFuture<?>> running = new ArrayList<>();
    for (Connection conn : due) {
      slots.acquireUninterruptibly();
      CompletableFuture<Void> f = new CompletableFuture<>();
      running.add(f);
      Runnable task =
          () -> {
            try {
              awaitRenewal(conn, true, null);
              renewed.add(conn.id);
            } catch (TokenBrokerException e) {
              log.warn("connection {}: keep-alive renewal failed: {}", conn.id, e.getMessage());
            } finally {
              slots.release();
              f.complete(null);
            }
          };
      try {
        executor.execute(task);
      } catch (RejectedExecutionException e) {
        task.run();
      }
    }
    CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).join();
    List<ConnectionId> out = new ArrayList<>(renewed);
    Collections.sort(out);
    return out;
  }

  /** Up to a tenth of the keep-alive window, fixed per connection and refresh token. */
  private static Duration keepAliveJitter(Connection conn, TokenSet tokens) {
    Duration window = Objects.requireNonNull(conn.policy.keepAliveBefore());
    long spread = window.toMillis() / 10;
    if (spread <= 0) {
      return Duration.ZERO;
    }
    long h = (conn.id.hashCode() * 31L + Objects.hashCode(tokens.refreshToken())) & Long.MAX_VALUE;
    return Duration.ofMillis(h % spread);
  }

  private void scheduleKeepAlive(Duration interval) {
    long millis = interval.toMillis();
    long firstDelay = ThreadLocalRandom.current().nextLong(Math.max(1, millis / 10));
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            keepAlive();
          } catch (RuntimeException e) {
            log.warn("keep-alive pass failed: {}", e.toString());
          }
        },
        firstDelay,
        millis,
        TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------------------------------
  // The human step

  /**
   * Starts an authorization-code flow: a fresh unguessable {@code state} (and a PKCE verifier when
   * the provider uses PKCE) and the URL a person opens. Replaces an earlier unfinished one.
   *
   * @throws AuthorizationException if the connection's provider uses client credentials
   */
  public AuthorizationRequest startAuthorization(ConnectionId id) {
    Connection conn = connection(id);
    if (conn.provider.grantType() != GrantType.AUTHORIZATION_CODE) {
      throw new AuthorizationException(
          id,
          conn.provider.name() + " uses client credentials: no authorization needed",
          null,
          null);
    }
    String state = randomToken(random, 32);
    String verifier = conn.provider.usesPkce() ? randomToken(random, 48) : null;
    String challenge = verifier == null ? null : s256(verifier);
    AuthorizationRequest request =
        new AuthorizationRequest(
            id, conn.provider.authorizationUrl(state, challenge), state, verifier, clock.instant());
    synchronized (conn) {
      conn.pending = request;
    }
    return request;
  }

  /**
   * Completes the flow with the URL the browser was redirected to (or just its query string):
   * rejects an {@code error=} redirect, checks {@code state} in constant time against the pending
   * request — before any network call — then exchanges the code at once, saves the first token set,
   * and makes the connection ACTIVE.
   *
   * @throws AuthorizationException for a denied, foreign, stale or code-less redirect
   * @throws TokenEndpointException if the platform refused the code (reused, expired)
   */
  public TokenSet completeAuthorization(ConnectionId id, String redirectedUrl) {
    Connection conn = connection(id);
    Objects.requireNonNull(redirectedUrl, "redirectedUrl");
    HttpUrl url = parseRedirect(redirectedUrl.trim());
    if (url == null) {
      throw new AuthorizationException(id, "not a redirect URL or query string", null, null);
    }
    String error = url.queryParameter("error");
    if (error != null) {
      String description = url.queryParameter("error_description");
      throw new AuthorizationException(
          id,
          "authorization was not granted: "
              + error
              + (description == null
                  ? ""
                  : " (" + Secrets.scrub(description, List.of(), 200) + ")"),
          error,
          null);
    }
    AuthorizationRequest pending;
    synchronized (conn) {
      pending = conn.pending;
    }
    if (pending == null) {
      throw new AuthorizationException(
          id,
          "no authorization was started for this connection here (run startAuthorization first)",
          null,
          null);
    }
    String state = url.queryParameter("state");
    if (state == null
        || !MessageDigest.isEqual(
            state.getBytes(StandardCharsets.UTF_8),
            pending.state().getBytes(StandardCharsets.UTF_8))) {
      throw new AuthorizationException(
          id,
          "state mismatch: this redirect does not belong to the authorization started here",
          null,
          null);
    }
    if (clock.instant().isAfter(pending.createdAt().plus(PENDING_AUTHORIZATION_TTL))) {
      throw new AuthorizationException(
          id, "the authorization started too long ago; start a new one", null, null);
    }
    String code = url.queryParameter("code");
    if (code == null || code.isEmpty()) {
      throw new AuthorizationException(id, "the redirect carries no code", null, null);
    }
    synchronized (conn) {
      if (conn.pending != pending) {
        throw new AuthorizationException(
            id, "this authorization was already completed or replaced", null, null);
      }
      conn.pending = null; // single use
    }
    TokenSet issued = conn.provider.exchangeCode(code, pending.codeVerifier());
    TokenSet previous;
    try {
      previous = store.load(id);
    } catch (TokenStoreException e) {
      previous = null; // the save below will report the store's trouble and keep the set in memory
    }
    synchronized (conn) {
      conn.unsaved = null; // a new authorization supersedes any unsaved older set
    }
    return saveAndPublish(conn, previous, issued, TokenEvent.Type.AUTHORIZED).tokenSet();
  }

  private static @Nullable HttpUrl parseRedirect(String text) {
    HttpUrl url = HttpUrl.parse(text);
    if (url != null) {
      return url;
    }
    String query = text.startsWith("?") ? text.substring(1) : text;
    return query.contains("=") ? HttpUrl.parse("http://localhost/?" + query) : null;
  }

  private static String s256(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String randomToken(SecureRandom random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  // ------------------------------------------------------------------------------------------
  // Other operations

  /** Same as {@code revoke(id, Revocation.TOKENS)}. */
  public void revoke(ConnectionId id) {
    revoke(id, Revocation.TOKENS);
  }

  /**
   * Revokes the connection's tokens at the platform, then deletes them from the store and cache. An
   * authorization-code connection then needs a new authorization; a client-credentials one simply
   * obtains a new token next time. If the platform refuses, nothing is deleted.
   */
  public void revoke(ConnectionId id, Revocation revocation) {
    Connection conn = connection(id);
    TokenSet current;
    synchronized (conn) {
      current = conn.unsaved;
    }
    if (current == null) {
      CachedToken c = cached(conn);
      current = c != null ? c.tokenSet() : store.load(id);
    }
    if (current != null) {
      try {
        conn.provider.revoke(current, revocation);
      } catch (UnsupportedOperationException e) {
        log.info(
            "connection {}: {} has no revocation endpoint; forgetting the tokens locally",
            id,
            conn.provider.name());
      }
    }
    // TEMPORARY: tombstone pending the engine rewrite
    cacheInvalidate(conn);
    Instant now = clock.instant();
    synchronized (conn) {
      conn.unsaved = null;
      conn.lastKnown = null;
      if (conn.provider.grantType() == GrantType.AUTHORIZATION_CODE) {
        conn.state = Health.State.REAUTHORIZATION_REQUIRED;
        conn.reason = "revoked at " + now + ": run `tokenbroker connect " + id + "`";
        conn.errorCode = "revoked";
        conn.since = now;
        conn.failedVersion = 0; // nothing is stored now: a new authorization anywhere revives it
        conn.lastFailure = null;
      }
    }
    emit(TokenEvent.Type.REVOKED, conn, "tokens revoked (" + revocation + ")", null);
  }

  /**
   * Checks the current token with the platform ({@link TokenProvider#validate}; Kakao token info)
   * and returns the set with what the platform reported (e.g. the user id) in its extras.
   *
   * @throws ReauthorizationRequiredException if the platform says the token must not be used
   */
  public TokenSet validate(ConnectionId id) {
    Connection conn = connection(id);
    TokenSet current = tokenSet(id);
    TokenSet validated;
    try {
      validated = conn.provider.validate(current);
    } catch (TokenEndpointException e) {
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        cacheInvalidate(conn);
      }
      throw fail(conn, e, current);
    }
    validated = saveValidated(conn, current, validated);
    cachePut(conn, new CachedToken(validated, conn.policy));
    synchronized (conn) {
      conn.lastKnown = validated;
    }
    return validated;
  }

  /**
   * Keeps what validation learned (the user id) durable: saves the validated set over the one it
   * came from when they differ. Best effort: if another writer moved the version on, its newer set
   * wins and the extras are learned again at the next validation.
   */
  private TokenSet saveValidated(Connection conn, TokenSet original, TokenSet validated) {
    TokenSet result = validated;
    if (!validated.sameTokensAs(original) && original.version() > 0) {
      try {
        result = store.put(conn.id, validated);
      } catch (TokenStoreException e) {
        log.debug("connection {}: validated extras not saved: {}", conn.id, e.getMessage());
        result = validated.withVersion(original.version());
      }
    }
    conn.validatedVersion = result.version();
    return result;
  }

  /** The connection's health now. Does not contact the platform; may read the store once. */
  public Health health(ConnectionId id) {
    Connection conn = connection(id);
    boolean unknown;
    synchronized (conn) {
      unknown = conn.lastKnown == null && conn.unsaved == null && conn.state == Health.State.ACTIVE;
    }
    if (unknown && cached(conn) == null) {
      try {
        TokenSet t = store.load(id);
        synchronized (conn) {
          if (t != null) {
            conn.lastKnown = t;
          } else if (conn.provider.grantType() == GrantType.AUTHORIZATION_CODE
              && conn.state == Health.State.ACTIVE) {
            conn.state = Health.State.REAUTHORIZATION_REQUIRED;
            conn.reason = "not authorized yet: run `tokenbroker connect " + id + "`";
            conn.failedVersion = 0;
          }
        }
      } catch (TokenStoreException e) {
        log.warn("connection {}: store unavailable while reading health: {}", id, e.getMessage());
      }
    }
    return health(conn);
  }

  private Health health(Connection conn) {
    return conn.health(cached(conn));
  }

  /** Every configured connection, sorted. */
  public Set<ConnectionId> connections() {
    TreeSet<ConnectionId> ids = new TreeSet<>();
    for (Connection c : inOrder) {
      ids.add(c.id);
    }
    return Collections.unmodifiableSet(ids);
  }

  /** The provider serving {@code id}. */
  public TokenProvider provider(ConnectionId id) {
    return connection(id).provider;
  }

  /**
   * A {@link TokenSource} bound to {@code id}: the same tokens as {@link #accessToken}, with the id
   * resolved once. For applications that keep a source per connection in a field (as they would
   * keep a credential object): without an application cache (the default) a FRESH token is then
   * read from the connection itself, with no lookup by id.
   *
   * @throws ConfigurationException if {@code id} is not configured
   */
  public TokenSource tokenSource(ConnectionId id) {
    return new TokenSource(this, connection(id));
  }

  /** The hot path of {@link TokenSource}: {@link #current}, without the lookup by id. */
  CachedToken current(Connection conn) {
    CachedToken c = conn.hot;
    if (c != null) {
      long now = clock.millis();
      if (now < c.renewAtMillis()) {
        return c;
      }
    }
    return current(conn.id);
  }

  /** The connection's cached token, or null. */
  private @Nullable CachedToken cached(Connection conn) {
    return cache == null ? conn.hot : cache.get(conn.id);
  }

  // Puts and invalidations of the hot tier (the connection's slot, or the application's cache)
  // are serialised by the connection's lock, held for an in-memory write: the last of two racing
  // changes wins, as it does for every other field of the connection.
  private void cachePut(Connection conn, CachedToken c) {
    synchronized (conn) {
      if (cache == null) {
        conn.hot = c;
      } else {
        cache.put(conn.id, c);
      }
    }
  }

  private void cacheInvalidate(Connection conn) {
    synchronized (conn) {
      if (cache != null) {
        cache.invalidate(conn.id);
      }
      conn.hot = null;
    }
  }

  /**
   * An OkHttp interceptor for application clients calling {@code id}'s platform API: adds {@code
   * Authorization}, and when the provider says the token was rejected, renews once and replays the
   * request once. Failures to get a token surface as {@link TokenUnavailableIOException}.
   */
  public Interceptor interceptor(ConnectionId id) {
    return new BrokerInterceptor(this, connection(id));
  }

  /**
   * After the API rejected {@code rejected}: returns a different valid token, renewing once if the
   * rejected one is still the current one.
   */
  CachedToken renewAfterRejection(Connection conn, CachedToken rejected) {
    CachedToken now = cached(conn);
    if (now != null && !now.accessToken().equals(rejected.accessToken())) {
      return now; // someone renewed already: never invalidate a token the request did not carry
    }
    cacheInvalidate(conn);
    return awaitRenewal(conn, true, rejected.accessToken());
  }

  /** The API said the connection is dead (app uninstalled, IP not allowed). */
  void markDead(Connection conn, ApiVerdict verdict) {
    cacheInvalidate(conn);
    TokenSet known;
    synchronized (conn) {
      known = conn.unsaved != null ? conn.unsaved : conn.lastKnown;
    }
    fail(
        conn,
        TokenEndpointException.builder(conn.provider.name())
            .kind(TokenEndpointException.Kind.PERMANENT)
            .reason(Objects.requireNonNull(verdict.reason()))
            .platformCode(verdict.code())
            .build(),
        known);
  }

  Clock clock() {
    return clock;
  }

  Connection connection(ConnectionId id) {
    Connection c = connections.get(Objects.requireNonNull(id, "id"));
    if (c == null) {
      throw new ConfigurationException(
          id, null, "no such connection is configured; configured: " + configuredSample());
    }
    return c;
  }

  /** The configured ids for an error message: all of a few, the first ten of many. */
  private String configuredSample() {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < inOrder.length && i < 10; i++) {
      b.append(i == 0 ? "" : ", ").append(inOrder[i].id);
    }
    if (inOrder.length > 10) {
      b.append(", … ").append(inOrder.length - 10).append(" more");
    }
    return b.append(']').toString();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("broker is closed");
    }
  }

  /**
   * Stops background work. Token sets that could not be saved get one last save attempt; any still
   * unsaved are reported in the log (by connection, never by value). Closes a store that the broker
   * created from configuration.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    scheduler.shutdownNow();
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    for (Connection conn : inOrder) {
      TokenSet pending;
      long base;
      synchronized (conn) {
        pending = conn.unsaved;
        base = conn.unsavedBaseVersion;
      }
      if (pending != null) {
        try {
          casOverwriting(conn, base, pending);
        } catch (TokenStoreException e) {
          log.error(
              "connection {}: closing with a token set that could not be saved: {}",
              conn.id,
              e.getMessage());
        }
      }
    }
    if (ownsStore) {
      try {
        store.close();
      } catch (Exception e) {
        log.warn("closing the token store failed: {}", e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "TokenBroker{"
        + inOrder.length
        + " connections, store="
        + store
        + ", owner="
        + owner
        + '}';
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Builds a {@link TokenBroker}. Each option may be set once: setting one twice is a mistake
   * reported with the option's name. Not thread-safe.
   */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private @Nullable TokenStore store;
    private boolean ownsStore;
    private @Nullable TokenCache cache;
    private @Nullable OkHttpClient httpClient;
    private final Map<ConnectionId, Object> connections = new LinkedHashMap<>();
    private final List<TokenProviderFactory> factories = new ArrayList<>();
    private final List<TokenListener> listeners = new ArrayList<>();
    private @Nullable Executor executor;
    private @Nullable Map<String, String> environment;
    private @Nullable Path configFile;
    private @Nullable String instanceId;
    private Duration leaseTtl = Duration.ofSeconds(90);
    private Duration leaseWait = Duration.ofSeconds(60);
    private Duration renewalTimeout = Duration.ofSeconds(90);
    private Duration backoffInitial = Duration.ofSeconds(1);
    private Duration backoffMax = Duration.ofMinutes(5);
    private @Nullable Duration keepAliveInterval;
    private int keepAliveConcurrency = 4;
    private final Set<String> set = new TreeSet<>();
    private @Nullable ClassLoader classLoader;

    private Builder() {}

    private void once(String option) {
      if (!set.add(option)) {
        throw new IllegalStateException(option + " was already set");
      }
    }

    /** The one clock for every expiry, backoff and signature. Default: system UTC. */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The durable store. Default: the configuration file's {@code store:}, else in memory. */
    public Builder store(TokenStore store) {
      once("store");
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * An in-process cache of the application's, e.g. {@code TokenCache.caffeine(
     * Caffeine.newBuilder().maximumSize(10_000))} to bound the heap with very many connections (an
     * evicted token is read from the store again). Default: none — each connection keeps its cached
     * token in a slot of its own, the fastest and smallest choice when every configured connection
     * is in use.
     */
    public Builder cache(TokenCache cache) {
      once("cache");
      this.cache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /**
     * The base HTTP client for token endpoints (timeouts, proxy, TLS). It is reconfigured never to
     * retry or follow redirects on its own. Default: {@link TokenHttp#defaultClient()}.
     */
    public Builder httpClient(OkHttpClient httpClient) {
      once("httpClient");
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /**
     * Adds a connection whose provider is built from {@code settings} by the factory named in its
     * {@code provider} setting (default: the id's provider part).
     */
    public Builder connection(ConnectionId id, Map<String, ?> settings) {
      addConnection(id, new Settings(id, settings));
      return this;
    }

    /** Adds a connection served by {@code provider}. */
    public Builder connection(ConnectionId id, TokenProvider provider) {
      addConnection(id, Objects.requireNonNull(provider, "provider"));
      return this;
    }

    private void addConnection(ConnectionId id, Object providerOrSettings) {
      Objects.requireNonNull(id, "id");
      if (connections.putIfAbsent(id, providerOrSettings) != null) {
        throw new ConfigurationException(id, null, "connection configured twice");
      }
    }

    /** A provider factory to use besides those found with {@link ServiceLoader}. */
    public Builder providerFactory(TokenProviderFactory factory) {
      factories.add(Objects.requireNonNull(factory, "factory"));
      return this;
    }

    public Builder listener(TokenListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Runs background renewals. Default: a small pool of daemon threads owned by the broker. */
    public Builder executor(Executor executor) {
      once("executor");
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Where {@code ${VAR}} in a configuration file is looked up. Default: {@link System#getenv()}.
     */
    public Builder environment(Map<String, String> environment) {
      once("environment");
      this.environment = Map.copyOf(environment);
      return this;
    }

    /**
     * Reads connections (and the store, unless {@link #store} is set) from a YAML or properties
     * file.
     */
    public Builder configFile(Path configFile) {
      once("configFile");
      this.configFile = Objects.requireNonNull(configFile, "configFile");
      return this;
    }

    /** Names this broker instance as lease owner (default: random). Useful in logs of a cluster. */
    public Builder instanceId(String instanceId) {
      once("instanceId");
      this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
      return this;
    }

    /**
     * How long a renewal lease lasts (default 90 s; longer than any token call can take) and how
     * long a renewal waits for another instance's lease (default 60 s).
     */
    public Builder lease(Duration ttl, Duration wait) {
      once("lease");
      this.leaseTtl = positive(ttl, "lease ttl");
      this.leaseWait = positive(wait, "lease wait");
      return this;
    }

    /** How long a caller waits for a renewal before giving up (default 90 s). */
    public Builder renewalTimeout(Duration timeout) {
      once("renewalTimeout");
      this.renewalTimeout = positive(timeout, "renewal timeout");
      return this;
    }

    /**
     * Backoff after transient failures: doubling from {@code initial} up to {@code max}, jittered.
     */
    public Builder backoff(Duration initial, Duration max) {
      once("backoff");
      this.backoffInitial = positive(initial, "backoff initial");
      this.backoffMax = positive(max, "backoff max");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "backoff max (" + max + ") is below initial (" + initial + ")");
      }
      return this;
    }

    /**
     * Runs a {@linkplain TokenBroker#keepAlive() keep-alive pass} every {@code interval} (real
     * time) on a background thread, renewing at most {@code concurrency} connections at a time. Off
     * by default; the CLI's long-running mode turns it on. Every instance may run it.
     */
    public Builder keepAlive(Duration interval, int concurrency) {
      once("keepAlive");
      this.keepAliveInterval = positive(interval, "keep-alive interval");
      if (concurrency < 1) {
        throw new IllegalArgumentException(
            "keep-alive concurrency must be at least 1, got " + concurrency);
      }
      this.keepAliveConcurrency = concurrency;
      return this;
    }

    /** The class loader for {@link ServiceLoader} lookups. Default: this library's. */
    public Builder classLoader(ClassLoader classLoader) {
      once("classLoader");
      this.classLoader = Objects.requireNonNull(classLoader, "classLoader");
      return this;
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }

    /**
     * Builds the broker: loads the configuration file, builds and validates every provider.
     *
     * @throws ConfigurationException naming the connection and setting of the first problem
     */
    public TokenBroker build() {
      ClassLoader loader = classLoader != null ? classLoader : TokenBroker.class.getClassLoader();
      Map<String, String> env = environment != null ? environment : System.getenv();
      Map<ConnectionId, Object> all = new LinkedHashMap<>();
      if (configFile != null) {
        ConfigFile config = ConfigFile.load(configFile, env);
        for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
          all.put(e.getKey(), new Settings(e.getKey(), e.getValue(), env::get));
        }
        if (store == null && config.store() != null) {
          store = createStore(new Settings(null, config.store(), env::get), loader);
          ownsStore = true;
        }
      }
      for (Map.Entry<ConnectionId, Object> e : connections.entrySet()) {
        if (all.putIfAbsent(e.getKey(), e.getValue()) != null) {
          throw new ConfigurationException(
              e.getKey(), null, "connection configured both in the file and in code");
        }
      }
      if (store == null) {
        store = new InMemoryTokenStore(clock);
      }
      OkHttpClient http =
          TokenHttp.safeClient(httpClient != null ? httpClient : TokenHttp.defaultClient());
      Map<String, TokenProviderFactory> byName = factories(loader);
      SecureRandom random = new SecureRandom();
      Map<ConnectionId, TokenProvider> providers = new LinkedHashMap<>();
      for (Map.Entry<ConnectionId, Object> e : all.entrySet()) {
        ConnectionId id = e.getKey();
        TokenProvider provider;
        if (e.getValue() instanceof TokenProvider) {
          provider = (TokenProvider) e.getValue();
        } else {
          // Settings given in code were made before the environment was known.
          Settings given = (Settings) e.getValue();
          Settings settings = new Settings(given.connection(), given.asMap(), env::get);
          String name = settings.optional("provider", id.provider());
          if (!name.equals(id.provider())) {
            throw settings.invalid(
                "provider",
                "is '" + name + "' but the connection id names provider '" + id.provider() + "'");
          }
          TokenProviderFactory factory = byName.get(name);
          if (factory == null) {
            throw settings.invalid(
                "provider",
                "unknown provider '"
                    + name
                    + "'; available: "
                    + byName.keySet()
                    + " (is tokenbroker-"
                    + name
                    + " on the classpath?)");
          }
          provider = factory.create(settings, new ProviderContext(id, clock, http, random));
        }
        if (!provider.name().equals(id.provider())) {
          throw new ConfigurationException(
              id,
              "provider",
              "provider '"
                  + provider.name()
                  + "' cannot serve a '"
                  + id.provider()
                  + "' connection");
        }
        providers.put(id, provider);
      }
      return new TokenBroker(this, providers);
    }

    private Map<String, TokenProviderFactory> factories(ClassLoader loader) {
      Map<String, TokenProviderFactory> byName = new TreeMap<>();
      for (TokenProviderFactory f : ServiceLoader.load(TokenProviderFactory.class, loader)) {
        byName.putIfAbsent(f.name(), f);
      }
      for (TokenProviderFactory f : factories) {
        byName.put(f.name(), f); // explicit registrations win
      }
      return byName;
    }

    private TokenStore createStore(Settings settings, ClassLoader loader) {
      String type = settings.optional("type", "memory");
      for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class, loader)) {
        if (f.type().equals(type)) {
          return f.create(settings, clock);
        }
      }
      if (type.equals("memory")) {
        return new InMemoryTokenStore(clock);
      }
      throw settings.invalid(
          "type",
          "unknown store type '"
              + type
              + "' (is tokenbroker-store-"
              + type
              + " on the classpath?)");
    }
  }
}
