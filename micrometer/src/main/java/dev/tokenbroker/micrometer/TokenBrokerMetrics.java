package dev.tokenbroker.micrometer;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenListener;
import dev.tokenbroker.spi.TokenProviderFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's metrics as a Micrometer {@link MeterBinder}: counters fed by the broker's {@link
 * TokenEvent}s, a timer of token endpoint calls fed by {@linkplain #instrument instrumented
 * provider factories}, and gauges read from {@link TokenBroker#health} when the registry publishes.
 *
 * <p>Wiring, without Spring:
 *
 * <pre>{@code
 * TokenBrokerMetrics metrics = TokenBrokerMetrics.builder().build();
 * TokenBroker broker = TokenBroker.builder()
 *     .configFile(Path.of("tokenbroker.yaml"))
 *     .listener(metrics)                                        // counters
 *     .providerFactory(metrics.instrument(new Cafe24ProviderFactory())) // latency
 *     .build();
 * metrics.monitor(broker);                                      // gauges
 * metrics.bindTo(registry);
 * }</pre>
 *
 * <p>Meters (tags in brackets; every tag value comes from a short fixed list or a provider's name,
 * never a token, secret or free text):
 *
 * <ul>
 *   <li>{@code tokenbroker.renewals} [provider, outcome = success | failure] — renewals that stored
 *       a new token set, and renewals that failed;
 *   <li>{@code tokenbroker.renewal.failures} [provider, kind = transient | permanent |
 *       outcome-unknown] — failures by kind (outcome-unknown: a refresh whose answer was lost);
 *   <li>{@code tokenbroker.token.requests} (timer, with a percentile histogram so that it
 *       aggregates across instances) [provider, grant = refresh | client-credentials |
 *       authorization-code, outcome = success | failure] — calls to the platforms' token endpoints;
 *   <li>{@code tokenbroker.unsaved} [provider] — token sets that could not be saved at first (kept
 *       and retried by the broker); {@code tokenbroker.unsaved.recovered} [provider] — saved later;
 *   <li>{@code tokenbroker.keepalive.renewals} [provider] — renewals started by keep-alive because
 *       a refresh token neared its end;
 *   <li>{@code tokenbroker.reauthorization.required} [provider] — connections that moved to
 *       REAUTHORIZATION_REQUIRED (counted once across instances, where the move was recorded);
 *   <li>{@code tokenbroker.connections} (gauge) [state = active | degraded |
 *       reauthorization-required] — connections by health state;
 *   <li>{@code tokenbroker.connections.unsaved} (gauge) — connections holding a token set not yet
 *       saved to the store;
 *   <li>{@code tokenbroker.access.expiry} and {@code tokenbroker.refresh.expiry} (gauges, seconds;
 *       negative once expired) [provider, connection] — only for the connections named in {@link
 *       Builder#expiryGauges}, because a tag per connection multiplies time series.
 * </ul>
 *
 * <p>Thread-safe. {@link #onEvent} only increments counters. Gauges read the store through {@link
 * TokenBroker#health} at most once per connection per {@link Builder#healthCacheFor} (default 10
 * seconds), whatever the number of gauges and scrapes.
 */
public final class TokenBrokerMetrics implements MeterBinder, TokenListener {
  private static final Logger log = LoggerFactory.getLogger(TokenBrokerMetrics.class);

  /** Tag value of a successful outcome. */
  static final String SUCCESS = "success";

  /** Tag value of a failed outcome. */
  static final String FAILURE = "failure";

  private final Set<ConnectionId> expiryGauges;
  private final Duration healthCacheFor;
  private final Clock clock;
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  private volatile @Nullable TokenBroker broker;
  private final HealthCache health;

  private TokenBrokerMetrics(Builder b) {
    this.expiryGauges = Set.copyOf(b.expiryGauges);
    this.healthCacheFor = b.healthCacheFor;
    this.clock = b.clock;
    this.health = new HealthCache(clock, healthCacheFor, this::brokerHealth);
  }

  /**
   * A new builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The broker the gauges read health from. Call once, after building the broker this listener was
   * given to; gauges read nothing (0, or NaN for expiries) until then.
   *
   * @param broker the broker
   * @return this
   * @throws IllegalStateException if a broker was given already
   */
  public TokenBrokerMetrics monitor(TokenBroker broker) {
    Objects.requireNonNull(broker, "broker");
    synchronized (this) {
      if (this.broker != null) {
        throw new IllegalStateException("monitor(broker) called twice");
      }
      this.broker = broker;
    }
    for (MeterRegistry r : registries) {
      bindExpiryGauges(r, broker);
    }
    return this;
  }

  /**
   * Wraps a provider factory so that every call its providers make to the platform's token endpoint
   * (refresh, client credentials, code exchange) is timed in {@code tokenbroker.token.requests}.
   * Register the result with {@code TokenBroker.builder().providerFactory(…)}; registered factories
   * win over those found by the {@link java.util.ServiceLoader}.
   *
   * @param factory the provider factory to instrument
   * @return a factory of the same name whose providers are timed
   */
  public TokenProviderFactory instrument(TokenProviderFactory factory) {
    return new TimedProviderFactory(Objects.requireNonNull(factory, "factory"), this);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    registries.add(registry);
    for (Health.State state : Health.State.values()) {
      Gauge.builder("tokenbroker.connections", this, m -> m.countIn(state))
          .description("Connections by health state")
          .tag("state", stateTag(state))
          .register(registry);
    }
    Gauge.builder("tokenbroker.connections.unsaved", this, TokenBrokerMetrics::countUnsaved)
        .description("Connections holding a token set not yet saved to the store")
        .register(registry);
    TokenBroker b = broker;
    if (b != null) {
      bindExpiryGauges(registry, b);
    }
  }

  @Override
  public void onEvent(TokenEvent event) {
    if (registries.isEmpty()) {
      return;
    }
    String provider = event.connection().provider();
    switch (event.type()) {
      case REFRESHED:
        count("tokenbroker.renewals", "Renewals by outcome", provider, "outcome", SUCCESS);
        break;
      case REFRESH_FAILED:
        count("tokenbroker.renewals", "Renewals by outcome", provider, "outcome", FAILURE);
        count(
            "tokenbroker.renewal.failures",
            "Failed renewals by kind",
            provider,
            "kind",
            failureKind(event.error()));
        break;
      case REAUTHORIZATION_REQUIRED:
        count(
            "tokenbroker.reauthorization.required",
            "Connections that moved to REAUTHORIZATION_REQUIRED",
            provider,
            null,
            null);
        break;
      case SAVE_FAILED:
        count(
            "tokenbroker.unsaved",
            "Token sets that could not be saved at first; kept and retried",
            provider,
            null,
            null);
        break;
      case SAVE_RECOVERED:
        count(
            "tokenbroker.unsaved.recovered",
            "Token sets saved after earlier failures",
            provider,
            null,
            null);
        break;
      case REFRESH_TOKEN_EXPIRING_SOON:
        count(
            "tokenbroker.keepalive.renewals",
            "Renewals started by keep-alive because a refresh token neared its end",
            provider,
            null,
            null);
        break;
      default:
        break;
    }
    health.invalidate(event.connection());
  }

  /** The failure kind of a REFRESH_FAILED event, from the exception it carries. */
  static String failureKind(@Nullable Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof TokenEndpointException) {
        switch (((TokenEndpointException) t).kind()) {
          case PERMANENT:
          case TOKEN_REJECTED:
            return "permanent";
          case OUTCOME_UNKNOWN:
            return "outcome-unknown";
          default:
            return "transient";
        }
      }
      if (t instanceof ReauthorizationRequiredException) {
        return "permanent";
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return "transient";
  }

  void recordTokenRequest(String provider, String grant, boolean success, long nanos) {
    for (MeterRegistry r : registries) {
      io.micrometer.core.instrument.Timer.builder("tokenbroker.token.requests")
          .description("Calls to the platforms' token endpoints")
          .tags("provider", provider, "grant", grant, "outcome", success ? SUCCESS : FAILURE)
          .publishPercentileHistogram()
          .register(r)
          .record(Duration.ofNanos(nanos));
    }
  }

  private void count(
      String name,
      String description,
      String provider,
      @Nullable String tagKey,
      @Nullable String tagValue) {
    Tags tags = Tags.of("provider", provider);
    if (tagKey != null && tagValue != null) {
      tags = tags.and(tagKey, tagValue);
    }
    for (MeterRegistry r : registries) {
      Counter.builder(name).description(description).tags(tags).register(r).increment();
    }
  }

  private double countIn(Health.State state) {
    TokenBroker b = broker;
    if (b == null) {
      return 0;
    }
    int n = 0;
    for (ConnectionId id : b.connections()) {
      Health h = health.get(id);
      if (h != null && h.state() == state) {
        n++;
      }
    }
    return n;
  }

  private double countUnsaved() {
    TokenBroker b = broker;
    if (b == null) {
      return 0;
    }
    int n = 0;
    for (ConnectionId id : b.connections()) {
      Health h = health.get(id);
      if (h != null && h.unsaved()) {
        n++;
      }
    }
    return n;
  }

  private void bindExpiryGauges(MeterRegistry registry, TokenBroker b) {
    Set<ConnectionId> known = new LinkedHashSet<>(b.connections());
    for (ConnectionId id : expiryGauges) {
      if (!known.contains(id)) {
        log.warn("expiry gauges asked for {}, which the broker does not serve", id);
        continue;
      }
      Tags tags = Tags.of("provider", id.provider(), "connection", id.toString());
      Gauge.builder("tokenbroker.access.expiry", this, m -> m.secondsUntil(id, false))
          .description("Seconds until the connection's access token expires")
          .baseUnit("seconds")
          .tags(tags)
          .register(registry);
      Gauge.builder("tokenbroker.refresh.expiry", this, m -> m.secondsUntil(id, true))
          .description("Seconds until the connection's refresh token expires")
          .baseUnit("seconds")
          .tags(tags)
          .register(registry);
    }
  }

  private double secondsUntil(ConnectionId id, boolean refresh) {
    Health h = health.get(id);
    if (h == null) {
      return Double.NaN;
    }
    Instant at = refresh ? h.refreshTokenExpiresAt() : h.accessTokenExpiresAt();
    if (at == null) {
      return Double.NaN;
    }
    return Duration.between(clock.instant(), at).toMillis() / 1000.0;
  }

  private @Nullable Health brokerHealth(ConnectionId id) {
    TokenBroker b = broker;
    if (b == null) {
      return null;
    }
    try {
      return b.health(id);
    } catch (RuntimeException e) {
      log.debug("health of {} unavailable for metrics: {}", id, e.toString());
      return null;
    }
  }

  /**
   * The tag value of a state: {@code active}, {@code degraded}, {@code reauthorization-required}.
   *
   * @param state a health state
   * @return its tag value
   */
  public static String stateTag(Health.State state) {
    switch (state) {
      case ACTIVE:
        return "active";
      case DEGRADED:
        return "degraded";
      default:
        return "reauthorization-required";
    }
  }

  /** Reads each connection's health at most once per period; events invalidate it. */
  private static final class HealthCache {
    private final Clock clock;
    private final long periodMillis;
    private final java.util.function.Function<ConnectionId, @Nullable Health> source;
    private final Map<ConnectionId, Entry> entries = new java.util.concurrent.ConcurrentHashMap<>();

    private static final class Entry {
      final @Nullable Health health;
      final long readAt;

      Entry(@Nullable Health health, long readAt) {
        this.health = health;
        this.readAt = readAt;
      }
    }

    HealthCache(
        Clock clock,
        Duration period,
        java.util.function.Function<ConnectionId, @Nullable Health> source) {
      this.clock = clock;
      this.periodMillis = period.toMillis();
      this.source = source;
    }

    @Nullable Health get(ConnectionId id) {
      long now = clock.millis();
      Entry e = entries.get(id);
      if (e == null || now - e.readAt >= periodMillis || now < e.readAt) {
        e = new Entry(source.apply(id), now);
        entries.put(id, e);
      }
      return e.health;
    }

    void invalidate(ConnectionId id) {
      entries.remove(id);
    }
  }

  /** Builds {@link TokenBrokerMetrics}. Not thread-safe. */
  public static final class Builder {
    private final Set<ConnectionId> expiryGauges = new LinkedHashSet<>();
    private Duration healthCacheFor = Duration.ofSeconds(10);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Publishes {@code tokenbroker.access.expiry} and {@code tokenbroker.refresh.expiry} for these
     * connections, tagged with the connection id. Off by default: each connection adds two time
     * series.
     *
     * @param connections the connections to publish expiry gauges for
     * @return this builder
     */
    public Builder expiryGauges(Collection<ConnectionId> connections) {
      List<ConnectionId> copy = new ArrayList<>(connections);
      copy.forEach(c -> Objects.requireNonNull(c, "connection"));
      expiryGauges.addAll(copy);
      return this;
    }

    /**
     * How long a connection's health read for the gauges is reused (default 10 seconds): gauges
     * read the store through {@link TokenBroker#health}, and a scrape must not hit it once per
     * gauge. Any event of the connection drops its cached health at once.
     *
     * @param period how long a health read is reused; zero reads on every scrape
     * @return this builder
     */
    public Builder healthCacheFor(Duration period) {
      if (period.isNegative()) {
        throw new IllegalArgumentException("healthCacheFor must not be negative: " + period);
      }
      this.healthCacheFor = period;
      return this;
    }

    /**
     * The clock expiry gauges and the health cache measure time by; the broker's, in tests.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The metrics.
     *
     * @return the metrics, ready to be given to a broker builder as a listener and bound to
     *     registries
     */
    public TokenBrokerMetrics build() {
      return new TokenBrokerMetrics(this);
    }
  }

  @Override
  public String toString() {
    return "TokenBrokerMetrics{"
        + registries.size()
        + " registries, expiryGauges="
        + expiryGauges
        + '}';
  }
}
