package dev.tokenbroker;

import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongUnaryOperator;
import java.util.function.Predicate;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link TokenBroker}: its options, then the engine's parts, each handed what it needs.
 * Each option may be set once: setting one twice is a mistake reported with the option's name. Not
 * thread-safe.
 */
public final class TokenBrokerBuilder {
  private final Map<ConnectionId, Object> connections = new LinkedHashMap<>();
  private @Nullable Map<String, String> environment;
  private @Nullable ClassLoader classLoader;
  private final Set<String> set = new TreeSet<>();
  // Package-private: read by EngineParts, which wires the parts from them.
  Clock clock = Clock.systemUTC();
  @Nullable TokenStore store;
  boolean ownsStore;
  @Nullable TokenCache cache;
  @Nullable OkHttpClient httpClient;
  final Map<String, Object[]> templates = new LinkedHashMap<>(); // app -> pattern, settings
  @Nullable Duration discoveryInterval = Duration.ofSeconds(1);
  final List<TokenProviderFactory> factories = new ArrayList<>();
  final List<TokenListener> listeners = new ArrayList<>();
  @Nullable Executor executor;
  @Nullable Path configFile;
  Predicate<ConnectionId> configFileFilter = id -> true;
  @Nullable String instanceId;
  Duration leaseTtl = Duration.ofSeconds(90);
  Duration leaseWait = Duration.ofSeconds(60);
  Duration renewalTimeout = Duration.ofSeconds(90);
  Duration backoffInitial = Duration.ofSeconds(1);
  Duration backoffMax = Duration.ofMinutes(5);
  @Nullable Duration outcomeUnknownPause;
  @Nullable Duration keepAliveInterval = Duration.ofMinutes(30);
  int keepAliveConcurrency = 4;
  @Nullable LongUnaryOperator backoffJitter;
  StoreRenewal.Pause leasePause = Thread::sleep;
  @Nullable ScheduledExecutorService scheduler;

  TokenBrokerBuilder() {}

  private void once(String option) {
    if (!set.add(option)) {
      throw new IllegalStateException(option + " was already set");
    }
  }

  /**
   * The one clock for every expiry, backoff and signature. Default: system UTC.
   *
   * @param clock the clock every expiry and lease is measured by
   * @return this builder
   */
  public TokenBrokerBuilder clock(Clock clock) {
    once("clock");
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /**
   * The durable store. Default: the configuration file's {@code store:}, else in memory.
   *
   * @param store the store
   * @return this builder
   */
  public TokenBrokerBuilder store(TokenStore store) {
    once("store");
    this.store = Objects.requireNonNull(store, "store");
    return this;
  }

  /**
   * An in-process cache of the application's, e.g. a bounded one for very many connections (an
   * evicted token is read from the store again). Default: none — each connection keeps its cached
   * token in a slot of its own, the fastest and smallest choice when every configured connection is
   * in use.
   *
   * @param cache the cache
   * @return this builder
   */
  public TokenBrokerBuilder cache(TokenCache cache) {
    once("cache");
    this.cache = Objects.requireNonNull(cache, "cache");
    return this;
  }

  /**
   * The base HTTP client for token endpoints (timeouts, proxy, TLS). It is reconfigured never to
   * retry or follow redirects on its own. Default: {@link TokenHttp#defaultClient()}.
   *
   * @param httpClient the client every connection's client derives from
   * @return this builder
   */
  public TokenBrokerBuilder httpClient(OkHttpClient httpClient) {
    once("httpClient");
    this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
    return this;
  }

  /**
   * Adds a connection whose provider is built from {@code settings} by the factory named in its
   * {@code provider} setting (default: the id's provider part).
   *
   * @param id the connection
   * @param settings the connection's settings, as in a configuration file
   * @return this builder
   */
  public TokenBrokerBuilder connection(ConnectionId id, Map<String, ?> settings) {
    addConnection(id, new Settings(id, settings));
    return this;
  }

  /**
   * Adds a connection served by {@code provider}.
   *
   * @param id the connection
   * @param provider the provider serving the connection
   * @return this builder
   */
  public TokenBrokerBuilder connection(ConnectionId id, TokenProvider provider) {
    addConnection(id, Objects.requireNonNull(provider, "provider"));
    return this;
  }

  /**
   * Declares {@code app}'s template: every id {@code pattern} names ({@code cafe24:{mall}}) is a
   * connection of the app, built from {@code settings} when it is onboarded ({@link
   * TokenBroker#startAuthorization(ConnectionId)}, {@link TokenBroker#connect}) or found in the
   * store. The placeholder's value (the subject) reaches the provider as {@link
   * dev.tokenbroker.spi.ProviderContext#subject()}: the default of its {@code mall-id} (Cafe24) or
   * {@code account-id} (Naver agencies). In a configuration file: {@code template:} in the app.
   *
   * @param app the app's name
   * @param pattern the connection ids it names, with one {@code {placeholder}}
   * @param settings the app's settings, as in a configuration file (validated at build time)
   * @return this builder
   */
  public TokenBrokerBuilder template(String app, String pattern, Map<String, ?> settings) {
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(pattern, "pattern");
    if (templates.putIfAbsent(app, new Object[] {pattern, new LinkedHashMap<>(settings)}) != null) {
      throw new ConfigurationException(null, "apps." + app, "app declared twice");
    }
    return this;
  }

  /**
   * How often this instance asks the store which run-time connections were added or removed
   * elsewhere: a connection removed on another instance is served here no longer than about this
   * (plus one store read). Default 1 second; used only when an app has a template.
   *
   * @param interval the time between polls
   * @return this builder
   */
  public TokenBrokerBuilder discovery(Duration interval) {
    once("discovery");
    Duration d = positive(interval, "discovery interval");
    if (d.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException("discovery interval must be at most 10 minutes, got " + d);
    }
    this.discoveryInterval = d;
    return this;
  }

  /**
   * No background discovery: run-time connections added elsewhere are learnt on a miss only, and
   * removals elsewhere are not seen until {@link TokenBroker#discover()} runs. For tests and
   * one-shot processes.
   *
   * @return this builder
   */
  public TokenBrokerBuilder withoutDiscovery() {
    once("discovery");
    this.discoveryInterval = null;
    return this;
  }

  private void addConnection(ConnectionId id, Object providerOrSettings) {
    Objects.requireNonNull(id, "id");
    if (connections.putIfAbsent(id, providerOrSettings) != null) {
      throw new ConfigurationException(id, null, "connection configured twice");
    }
  }

  /**
   * A provider factory to use besides those found with {@link ServiceLoader}.
   *
   * @param factory a provider factory; wins over one of the same name found by the ServiceLoader
   * @return this builder
   */
  public TokenBrokerBuilder providerFactory(TokenProviderFactory factory) {
    factories.add(Objects.requireNonNull(factory, "factory"));
    return this;
  }

  /**
   * Receives every {@link TokenEvent}; called on broker threads, must not block long.
   *
   * @param listener receives every event
   * @return this builder
   */
  public TokenBrokerBuilder listener(TokenListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Runs renewals. Default: a small pool of daemon threads owned by the broker. Renewals run only
   * on this executor, never on a caller's thread (so a caller's interrupt cannot cut a token
   * request short) — unless the executor itself runs tasks on the calling thread, as a test's
   * {@code Runnable::run} does.
   *
   * @param executor runs renewals
   * @return this builder
   */
  public TokenBrokerBuilder executor(Executor executor) {
    once("executor");
    this.executor = Objects.requireNonNull(executor, "executor");
    return this;
  }

  /**
   * Where {@code ${VAR}} in a configuration file is looked up. Default: {@link System#getenv()}.
   *
   * @param environment variable name to value
   * @return this builder
   */
  public TokenBrokerBuilder environment(Map<String, String> environment) {
    once("environment");
    this.environment = Map.copyOf(environment);
    return this;
  }

  /**
   * Reads connections (and the store, unless {@link #store} is set) from a YAML or properties file.
   *
   * @param configFile the YAML ({@code .yaml}, {@code .yml}) or {@code .properties} file
   * @return this builder
   */
  public TokenBrokerBuilder configFile(Path configFile) {
    once("configFile");
    this.configFile = Objects.requireNonNull(configFile, "configFile");
    return this;
  }

  /**
   * Takes from the configuration file only the connections {@code filter} accepts; the others are
   * not read at all — their {@code ${VAR}}s are not resolved, so a variable that only another
   * connection needs cannot stop this broker. Default: every connection in the file. For a process
   * that serves some connections of a shared file (the command line's {@code token ID}).
   *
   * @param filter which connections of the file to take
   * @return this builder
   */
  public TokenBrokerBuilder configFileConnections(Predicate<ConnectionId> filter) {
    once("configFileConnections");
    this.configFileFilter = Objects.requireNonNull(filter, "filter");
    return this;
  }

  /**
   * Names this broker instance in lease records and logs (default {@code broker}). A random suffix
   * is always added, so two instances configured with one id still exclude each other.
   *
   * @param instanceId this instance's name
   * @return this builder
   */
  public TokenBrokerBuilder instanceId(String instanceId) {
    once("instanceId");
    this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
    return this;
  }

  /**
   * How long a renewal lease lasts (default 90 s; longer than any token call can take) and how long
   * a renewal waits for another instance's lease (default 60 s).
   *
   * @param ttl how long a lease lasts
   * @param wait how long a renewal waits for another instance's lease
   * @return this builder
   */
  public TokenBrokerBuilder lease(Duration ttl, Duration wait) {
    once("lease");
    this.leaseTtl = positive(ttl, "lease ttl");
    this.leaseWait = positive(wait, "lease wait");
    return this;
  }

  /**
   * How long a caller waits for a renewal before giving up (default 90 s).
   *
   * @param timeout how long a caller waits
   * @return this builder
   */
  public TokenBrokerBuilder renewalTimeout(Duration timeout) {
    once("renewalTimeout");
    this.renewalTimeout = positive(timeout, "renewal timeout");
    return this;
  }

  /**
   * Backoff after transient failures: doubling from {@code initial} up to {@code max}, with equal
   * jitter (the delay after the n-th failure in a row lies between half and all of {@code initial ×
   * 2^(n-1)}, capped at {@code max}).
   *
   * @param initial the first pause after a transient failure
   * @param max the longest pause
   * @return this builder
   */
  public TokenBrokerBuilder backoff(Duration initial, Duration max) {
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
   * After a refresh whose answer was lost, how long to wait before the one deliberate retry: longer
   * than the platform can still be processing the first request. Default: twice the HTTP client's
   * read timeout, at least 10 s.
   *
   * @param pause the pause
   * @return this builder
   */
  public TokenBrokerBuilder outcomeUnknownPause(Duration pause) {
    once("outcomeUnknownPause");
    this.outcomeUnknownPause = positive(pause, "outcome-unknown pause");
    return this;
  }

  /**
   * Runs a {@linkplain TokenBroker#keepAlive() keep-alive pass} every {@code interval} (real time)
   * on a background daemon thread, renewing at most {@code concurrency} connections at a time. On
   * by default (every 30 minutes, 4 at a time); every instance may run it.
   *
   * @param interval the time between keep-alive passes
   * @param concurrency how many connections one pass renews at once
   * @return this builder
   */
  public TokenBrokerBuilder keepAlive(Duration interval, int concurrency) {
    once("keepAlive");
    this.keepAliveInterval = positive(interval, "keep-alive interval");
    if (concurrency < 1) {
      throw new IllegalArgumentException(
          "keep-alive concurrency must be at least 1, got " + concurrency);
    }
    this.keepAliveConcurrency = concurrency;
    return this;
  }

  /**
   * No background keep-alive: {@link TokenBroker#keepAlive()} runs only when called. For one-shot
   * processes and tests; a long-running service that turns it off must call it itself, or idle
   * connections die when their refresh token expires.
   *
   * @return this builder
   */
  public TokenBrokerBuilder withoutKeepAlive() {
    once("keepAlive");
    this.keepAliveInterval = null;
    return this;
  }

  /**
   * The class loader for {@link ServiceLoader} lookups. Default: this library's.
   *
   * @param classLoader where providers and stores are looked up
   * @return this builder
   */
  public TokenBrokerBuilder classLoader(ClassLoader classLoader) {
    once("classLoader");
    this.classLoader = Objects.requireNonNull(classLoader, "classLoader");
    return this;
  }

  /** Test hook: picks the random half of the backoff's equal jitter, given the half. */
  TokenBrokerBuilder backoffJitter(LongUnaryOperator jitter) {
    this.backoffJitter = jitter;
    return this;
  }

  /** Test hook: how a renewal waits between looks at a lease another instance holds. */
  TokenBrokerBuilder leasePause(StoreRenewal.Pause pause) {
    this.leasePause = pause;
    return this;
  }

  /**
   * Test hook: runs the broker's timed work (the durable saver's retries, scheduled keep-alive
   * passes) on {@code scheduler} instead of a thread of its own, so that a test decides when it
   * runs. The broker shuts it down on close.
   */
  TokenBrokerBuilder scheduler(ScheduledExecutorService scheduler) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
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
   * Builds the broker: loads the configuration file, builds and validates every provider, and
   * assembles the engine.
   *
   * @return a started broker; close it when done
   * @throws ConfigurationException naming the connection and setting of the first problem
   */
  public TokenBroker build() {
    ClassLoader loader = classLoader != null ? classLoader : TokenBroker.class.getClassLoader();
    Map<String, String> env = environment != null ? environment : System.getenv();
    Map<ConnectionId, Object> all = new LinkedHashMap<>();
    if (configFile != null) {
      ConfigFile config = ConfigFile.load(configFile, env, configFileFilter);
      for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
        all.put(e.getKey(), new Settings(e.getKey(), e.getValue(), env::get));
      }
      for (Map.Entry<String, ConfigFile.Template> t : config.templates().entrySet()) {
        template(t.getKey(), t.getValue().pattern, t.getValue().settings);
      }
      if (store == null && config.store() != null) {
        store =
            ProviderFactories.store(new Settings(null, config.store(), env::get), loader, clock);
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
    return new TokenBroker(new EngineParts(this, all, env, loader));
  }
}
