package dev.tokenbroker.benchmarks;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Connections that come and go at run time, measured: three brokers (instances) share one store
 * holding many connections; connections are onboarded at a steady rate, each started on one
 * instance and completed on the next (the redirect lands elsewhere), and some are removed. For each
 * store (in memory, PostgreSQL, Redis) it reports how long until the third instance serves a new
 * connection and stops serving a removed one (the discovery bound: 1 s polls by default), the hot
 * path's throughput on one instance during onboarding beside the same loop idle, and how long a
 * fresh instance takes to learn every connection in the store.
 *
 * <p>Real time, real stores (embedded, loopback), an in-process provider (no HTTP). Nothing here is
 * asserted: core's {@code OnboardingTest} and the store contract test the behaviour.
 */
public final class OnboardingReport {
  private static final String APP = "shops";

  private OnboardingReport() {}

  /** One store's figures. */
  record Row(
      String store,
      int existing,
      long seedMillis,
      int onboarded,
      double perMinute,
      List<Long> addedMillis,
      int removed,
      List<Long> removedMillis,
      double idleOpsPerSecond,
      double busyOpsPerSecond,
      long startupMillis,
      int startupKnown) {}

  public static void main(String[] args) throws Exception {
    Path out = null;
    boolean quick = false;
    for (String a : args) {
      if (a.equals("--quick")) {
        quick = true;
      } else if (out == null && !a.startsWith("--")) {
        out = Path.of(a);
      }
    }
    if (out == null) {
      System.err.println("usage: OnboardingReport [--quick] OUT.md");
      System.exit(2);
      return;
    }
    int existing = quick ? 2_000 : Integer.getInteger("tokenbroker.onboarding.existing", 100_000);
    int onboard = quick ? 100 : 1_000;
    Duration over = quick ? Duration.ofSeconds(6) : Duration.ofSeconds(60);
    int remove = quick ? 20 : 100;
    List<Row> rows = new ArrayList<>();
    List<String> which =
        List.of(
            System.getProperty("tokenbroker.onboarding.stores", "memory,postgres,redis")
                .split(","));
    if (which.contains("memory")) {
      rows.add(measure("in memory", null, existing, onboard, over, remove));
    }
    if (which.contains("postgres")) {
      try (EmbeddedServers.Server pg = EmbeddedServers.postgres()) {
        rows.add(
            measure(
                "PostgreSQL",
                Map.of("type", "jdbc", "url", pg.url()),
                existing,
                onboard,
                over,
                remove));
      }
    }
    if (which.contains("redis")) {
      try (EmbeddedServers.Server redis = EmbeddedServers.redis()) {
        rows.add(
            measure(
                "Redis",
                Map.of("type", "redis", "uri", redis.url()),
                existing,
                onboard,
                over,
                remove));
      }
    }
    String md = markdown(rows, quick);
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    Files.writeString(out, md);
    System.out.println(md);
    System.exit(0); // the brokers' daemon threads are gone with the stores; leave promptly
  }

  private static TokenStore open(
      @Nullable Map<String, String> settings, InMemoryTokenStore shared) {
    if (settings == null) {
      return shared;
    }
    for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class)) {
      if (f.type().equals(settings.get("type"))) {
        return f.create(new Settings(null, settings), Clock.systemUTC());
      }
    }
    throw new IllegalStateException("no store factory for " + settings);
  }

  static Row measure(
      String name,
      @Nullable Map<String, String> storeSettings,
      int existing,
      int onboard,
      Duration over,
      int remove)
      throws Exception {
    System.out.println("== " + name + ": seeding " + existing + " connections");
    InMemoryTokenStore shared = new InMemoryTokenStore();
    Map<ConnectionId, Long> added = new ConcurrentHashMap<>();
    Map<ConnectionId, Long> removedAt = new ConcurrentHashMap<>();
    TokenStore seedStore = open(storeSettings, shared);
    long seedStart = System.nanoTime();
    LocalRefreshProvider tokens = new LocalRefreshProvider(Clock.systemUTC());
    ExecutorService seeders = Executors.newFixedThreadPool(8);
    List<Future<?>> seeding = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int from = t;
      seeding.add(
          seeders.submit(
              () -> {
                for (int i = from; i < existing; i += 8) {
                  seedStore.put(ConnectionId.of("bench", "m" + i), tokens.grant());
                }
                return null;
              }));
    }
    for (Future<?> f : seeding) {
      f.get();
    }
    seeders.shutdown();
    long seedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - seedStart);

    List<TokenBroker> brokers = new ArrayList<>();
    List<TokenStore> stores = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      TokenStore store = open(storeSettings, shared);
      stores.add(store);
      int instance = b;
      brokers.add(
          TokenBroker.builder()
              .instanceId("i" + b)
              .store(store)
              .providerFactory(new Local())
              .template(APP, "bench:{shop}", Map.of())
              .withoutKeepAlive()
              .listener(
                  e -> {
                    if (instance == 2 && e.type() == TokenEvent.Type.CONNECTION_ADDED) {
                      added.putIfAbsent(e.connection(), System.nanoTime());
                    }
                    if (instance == 2 && e.type() == TokenEvent.Type.CONNECTION_REMOVED) {
                      removedAt.putIfAbsent(e.connection(), System.nanoTime());
                    }
                  })
              .build());
    }
    // Each instance first learns the store's connections (ids only), as after a restart.
    long learnUntil = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    for (TokenBroker b : brokers) {
      while (b.connections().size() < existing && System.nanoTime() < learnUntil) {
        Thread.sleep(10);
      }
    }
    ConnectionId hotId = ConnectionId.of("bench", "m0");
    brokers.get(0).accessToken(hotId);
    double idle = loop(brokers.get(0), hotId, Duration.ofSeconds(3));

    // Onboarding at a steady rate, with the hot loop running on instance 0 meanwhile.
    AtomicBoolean onboarding = new AtomicBoolean(true);
    AtomicLong busyOps = new AtomicLong();
    AtomicLong busyNanos = new AtomicLong();
    Thread hot =
        new Thread(
            () -> {
              long t0 = System.nanoTime();
              long n = 0;
              while (onboarding.get()) {
                for (int i = 0; i < 1024; i++) {
                  if (brokers.get(0).accessToken(hotId) == null) {
                    throw new AssertionError();
                  }
                }
                n += 1024;
              }
              busyOps.set(n);
              busyNanos.set(System.nanoTime() - t0);
            });
    hot.start();
    Map<ConnectionId, Long> completed = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    long gap = over.toNanos() / onboard;
    for (int i = 0; i < onboard; i++) {
      long due = start + i * gap;
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
      ConnectionId id = ConnectionId.of("bench", "new" + i);
      // started on instance 0 or 1, the redirect lands on the other; instance 2 must learn it
      TokenBroker starter = brokers.get(i % 2);
      TokenBroker callback = brokers.get(1 - i % 2);
      AuthorizationRequest r = starter.startAuthorization(id);
      callback.handleCallback("https://app.example/cb?code=c&state=" + r.state());
      completed.put(id, System.nanoTime());
    }
    double minutes = (System.nanoTime() - start) / 60e9;
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (added.size() < onboard && System.nanoTime() < waitUntil) {
      Thread.sleep(10); // real time: the instances' own discovery threads
    }
    onboarding.set(false);
    hot.join();
    double busy = busyOps.get() / (busyNanos.get() / 1e9);
    List<Long> addedMillis = new ArrayList<>();
    for (Map.Entry<ConnectionId, Long> e : completed.entrySet()) {
      Long at = added.get(e.getKey());
      addedMillis.add(at == null ? -1 : TimeUnit.NANOSECONDS.toMillis(at - e.getValue()));
    }

    // Removals: instance 2 serves each (cached), instance 0 removes it.
    Map<ConnectionId, Long> removedStart = new ConcurrentHashMap<>();
    for (int i = 0; i < remove; i++) {
      ConnectionId id = ConnectionId.of("bench", "new" + i);
      brokers.get(2).accessToken(id);
      removedStart.put(id, System.nanoTime());
      brokers.get(0).remove(id);
    }
    waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (removedAt.size() < remove && System.nanoTime() < waitUntil) {
      Thread.sleep(10);
    }
    List<Long> removedMillis = new ArrayList<>();
    for (Map.Entry<ConnectionId, Long> e : removedStart.entrySet()) {
      Long at = removedAt.get(e.getKey());
      removedMillis.add(at == null ? -1 : TimeUnit.NANOSECONDS.toMillis(at - e.getValue()));
    }

    // A fresh instance learning every connection in the store.
    long s0 = System.nanoTime();
    TokenBroker fresh =
        TokenBroker.builder()
            .instanceId("fresh")
            .store(open(storeSettings, shared))
            .providerFactory(new Local())
            .template(APP, "bench:{shop}", Map.of())
            .withoutKeepAlive()
            .build();
    int want = existing + onboard - remove;
    waitUntil = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (fresh.connections().size() < want && System.nanoTime() < waitUntil) {
      Thread.sleep(10);
    }
    long startupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s0);
    int known = fresh.connections().size();
    fresh.close();
    for (TokenBroker b : brokers) {
      b.close();
    }
    for (TokenStore s : stores) {
      if (s != shared) {
        s.close();
      }
    }
    if (seedStore != shared) {
      seedStore.close();
    }
    return new Row(
        name,
        existing,
        seedMillis,
        onboard,
        onboard / minutes,
        addedMillis,
        remove,
        removedMillis,
        idle,
        busy,
        startupMillis,
        known);
  }

  private static double loop(TokenBroker broker, ConnectionId id, Duration d) {
    long t0 = System.nanoTime();
    long end = t0 + d.toNanos();
    long n = 0;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 1024; i++) {
        if (broker.accessToken(id) == null) {
          throw new AssertionError();
        }
      }
      n += 1024;
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  static long percentile(List<Long> values, double p) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    if (sorted.isEmpty()) {
      return -1;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  static String markdown(List<Row> rows, boolean quick) {
    StringBuilder md = new StringBuilder();
    md.append("### Onboarding at run time: 3 instances, one store")
        .append(quick ? " (quick run)" : "")
        .append("\n\n");
    md.append(
        "Each new connection is started on instance 0 or 1 and completed on the other (the"
            + " redirect lands elsewhere); \"served by the third\" is the time from completion"
            + " until instance 2's discovery added it (1 s polls); \"removal seen\" is the time"
            + " from `remove` on instance 0 until instance 2, which had the token cached, stopped"
            + " serving it. A miss would serve it sooner: a lookup reads the store. The hot path"
            + " is `accessToken` of one cached connection on instance 0, idle and while"
            + " onboarding runs. In-process provider, real time, embedded stores on loopback;"
            + " one run, so medians and ratios only.\n\n");
    md.append(
        "| Store | Connections in store | Seeded in | Onboarded | Rate (/min) | Served by the"
            + " third, p50 / p99 / max | Removed | Removal seen, p50 / p99 / max | Hot path"
            + " busy ÷ idle | Fresh instance knows all in |\n");
    md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (Row r : rows) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %,d | %.1f s | %,d | %.0f | %d / %d / %d ms | %d | %d / %d / %d ms | %.2f"
                  + " (%.1f M/s idle) | %.1f s (%,d known) |\n",
              r.store(),
              r.existing(),
              r.seedMillis() / 1000.0,
              r.onboarded(),
              r.perMinute(),
              percentile(r.addedMillis(), 50),
              percentile(r.addedMillis(), 99),
              percentile(r.addedMillis(), 100),
              r.removed(),
              percentile(r.removedMillis(), 50),
              percentile(r.removedMillis(), 99),
              percentile(r.removedMillis(), 100),
              r.busyOpsPerSecond() / r.idleOpsPerSecond(),
              r.idleOpsPerSecond() / 1e6,
              r.startupMillis() / 1000.0,
              r.startupKnown()));
    }
    md.append("\n-1 ms: not seen within 30 s.\n");
    return md.toString();
  }

  /** The in-process platform: every connection issues local tokens, the code exchange included. */
  static final class Local implements TokenProviderFactory {
    @Override
    public String name() {
      return LocalRefreshProvider.NAME;
    }

    @Override
    public TokenProvider create(Settings settings, ProviderContext context) {
      LocalRefreshProvider tokens = new LocalRefreshProvider(context.clock());
      return new TokenProvider() {
        @Override
        public String name() {
          return LocalRefreshProvider.NAME;
        }

        @Override
        public GrantType grantType() {
          return GrantType.AUTHORIZATION_CODE;
        }

        @Override
        public RenewalPolicy renewalPolicy() {
          return tokens.renewalPolicy();
        }

        @Override
        public URI authorizationUrl(String state, @Nullable String codeChallenge) {
          return URI.create("https://platform.example/authorize?state=" + state);
        }

        @Override
        public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
          return tokens.grant();
        }

        @Override
        public TokenSet refresh(TokenSet current) {
          return tokens.refresh(current);
        }

        @Override
        public void revoke(TokenSet current, dev.tokenbroker.Revocation revocation) {}
      };
    }
  }
}
