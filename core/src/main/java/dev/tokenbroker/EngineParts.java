package dev.tokenbroker;

import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.store.TokenStore;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The engine's parts, wired: each is built here with what it needs (clock, store, registry, events,
 * the parts it works with), in an order where nothing waits for a part built later, and none is
 * handed the facade. {@link TokenBroker} only delegates to the parts it keeps from here.
 */
final class EngineParts {
  final TokenStore store;
  final String owner;
  final ConnectionRegistry registry;
  final SingleFlight flights;
  final KeepAlive keepAlive;
  final AuthorizationFlow authorization;
  final Revoker revoker;
  final Lifecycle life;
  final TokenCalls tokens;
  final AsyncCalls async;
  final RuntimeConnections runtime;
  final HealthReader healthReader;
  final Reconfiguration reconfiguration;
  final DurableSaver saver;

  /**
   * Builds every provider (a bad setting fails here, naming the connection), then the parts.
   *
   * @param b the builder's options, its store already chosen
   * @param all the configured connections: a provider, or settings to build one from
   * @param env where {@code ${VAR}} is looked up
   * @param loader where provider and store factories are found
   */
  EngineParts(
      TokenBrokerBuilder b,
      Map<ConnectionId, Object> all,
      Map<String, String> env,
      ClassLoader loader) {
    Clock clock = b.clock;
    OkHttpClient http =
        TokenHttp.safeClient(b.httpClient != null ? b.httpClient : TokenHttp.defaultClient());
    SecureRandom random = new SecureRandom();
    ProviderFactories providers =
        new ProviderFactories(clock, env, loader, b.factories, http, random);
    Connection[] connections = providers.connections(all);
    List<ConnectionTemplate> templates = providers.templates(b.templates);
    ConnectionRegistry.Maker maker =
        (id, t, subject) ->
            new Connection(id, providers.provider(id, t.settings, subject), clock.instant());
    Map<ConnectionId, Map<String, Object>> configuredSettings = new LinkedHashMap<>();
    for (Map.Entry<ConnectionId, Object> e : all.entrySet()) {
      if (e.getValue() instanceof Settings) {
        configuredSettings.put(e.getKey(), ((Settings) e.getValue()).asMap());
      }
    }
    // Twice the longest read timeout of any connection (a read-timeout setting may raise it).
    Duration outcomeUnknownPause =
        b.outcomeUnknownPause != null
            ? b.outcomeUnknownPause
            : Duration.ofMillis(
                Math.max(
                    10_000,
                    2L * Math.max(http.readTimeoutMillis(), providers.maxReadTimeoutMillis())));

    store = Objects.requireNonNull(b.store);
    owner =
        (b.instanceId != null ? b.instanceId : "broker")
            + "-"
            + AuthorizationFlow.randomToken(random, 6);
    Executor executor;
    @Nullable ExecutorService ownedExecutor;
    if (b.executor != null) {
      executor = b.executor;
      ownedExecutor = null;
    } else {
      ThreadPoolExecutor pool =
          new ThreadPoolExecutor(
              8, 8, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemon("tokenbroker-renew"));
      pool.allowCoreThreadTimeOut(true);
      executor = pool;
      ownedExecutor = pool;
    }
    ScheduledExecutorService scheduler;
    if (b.scheduler != null) {
      scheduler = b.scheduler;
    } else {
      ScheduledThreadPoolExecutor sched =
          new ScheduledThreadPoolExecutor(1, daemon("tokenbroker-scheduler"));
      sched.setRemoveOnCancelPolicy(true);
      scheduler = sched;
    }
    Events events = new Events(clock, b.listeners);
    registry = new ConnectionRegistry(connections, templates, store, maker);
    HotTier hot = new HotTier(b.cache);
    HealthBook health =
        new HealthBook(clock, store, events, b.backoffInitial, b.backoffMax, b.backoffJitter);
    saver =
        new DurableSaver(
            clock, store, events, scheduler, owner, b.leaseTtl, b.backoffInitial, b.backoffMax);
    StoreView view = new StoreView(clock, store, hot, health, events);
    StoreRenewal renewal =
        new StoreRenewal(
            clock,
            store,
            hot,
            health,
            saver,
            events,
            owner,
            b.leaseTtl,
            b.leaseWait,
            b.leasePause,
            view,
            new ProviderCall(clock, store, health, events, outcomeUnknownPause));
    saver.onSaved(view::savedLater);
    flights =
        new SingleFlight(
            executor,
            b.renewalTimeout,
            renewal::renew,
            conn -> health.snapshot(conn, conn.newest(), saver.pending(conn) != null));
    keepAlive = new KeepAlive(clock, store, registry, flights, events, b.keepAliveConcurrency);
    authorization = new AuthorizationFlow(clock, store, view, saver, health, owner, b.leaseTtl);
    revoker =
        new Revoker(
            clock, store, hot, view, health, saver, events, owner, b.leaseTtl, outcomeUnknownPause);
    if (b.keepAliveInterval != null) {
      KeepAlive.schedule(scheduler, b.keepAliveInterval, keepAlive::pass);
    }

    life =
        new Lifecycle(
            registry, b.renewalTimeout, ownedExecutor, saver, scheduler, store, b.ownsStore);
    tokens = new TokenCalls(clock, registry, hot, b.cache, flights, health, life);
    async = new AsyncCalls(clock, registry, hot, flights, tokens, life);
    runtime =
        new RuntimeConnections(
            clock,
            store,
            registry,
            hot,
            health,
            flights,
            authorization,
            revoker,
            events,
            tokens,
            life);
    healthReader = new HealthReader(clock, store, view, saver, hot, health);
    reconfiguration =
        new Reconfiguration(
            registry, providers, configuredSettings, b.configFile, env, b.configFileFilter);
    Duration discoveryInterval = templates.isEmpty() ? null : b.discoveryInterval;
    if (discoveryInterval != null) {
      Discovery.schedule(scheduler, discoveryInterval, runtime.discovery());
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
