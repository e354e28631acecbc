package dev.tokenbroker.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code tokenbroker.*}: the same shape as {@code tokenbroker.yaml} ({@code store}, {@code apps},
 * {@code connections}), plus the broker's own options. Secrets may come from any Spring property
 * source ({@code ${CAFE24_CLIENT_SECRET}}, a vault, …); they are validated when the broker is
 * built, so a bad setting fails start-up naming the connection and the setting.
 *
 * <p>Connection ids contain a colon, which Spring drops from a map key unless the key is written in
 * brackets: {@code "[cafe24:mymall]":}. A key without its colon fails start-up saying so.
 *
 * <pre>
 * tokenbroker:
 *   store: { type: jdbc }                 # memory (default), file, jdbc, redis
 *   apps:
 *     my-cafe24-app: { provider: cafe24, client-id: ..., client-secret: ${CAFE24_SECRET}, ... }
 *   connections:
 *     "[cafe24:mymall]": { app: my-cafe24-app, mall-id: mymall }
 * </pre>
 */
@ConfigurationProperties(prefix = "tokenbroker", ignoreUnknownFields = false)
public class TokenBrokerProperties {
  /** Whether to create the TokenBroker bean and everything around it. */
  private boolean enabled = true;

  /**
   * The token store, as in tokenbroker.yaml: type (memory, file, jdbc, redis) and its settings.
   * jdbc uses the application's DataSource and redis its Lettuce connection factory when there is
   * one; otherwise their own settings (url, uri, …).
   */
  private Map<String, Object> store = new LinkedHashMap<>();

  /** Settings shared by several connections (client id and secret of one app), by app name. */
  private Map<String, Map<String, Object>> apps = new LinkedHashMap<>();

  /**
   * The connections, by id in brackets ("[cafe24:mymall]"): provider settings as in
   * tokenbroker.yaml, optionally app: naming an entry of apps.
   */
  private Map<String, Map<String, Object>> connections = new LinkedHashMap<>();

  /** Names this instance in lease records and logs; a random suffix is always added. */
  private @Nullable String instanceId;

  /** How long a caller waits for a renewal at most. */
  private Duration renewalTimeout = Duration.ofSeconds(90);

  private final KeepAlive keepAlive = new KeepAlive();
  private final Health health = new Health();
  private final Metrics metrics = new Metrics();
  private final Callback callback = new Callback();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public Map<String, Object> getStore() {
    return store;
  }

  public void setStore(Map<String, Object> store) {
    this.store = store;
  }

  public Map<String, Map<String, Object>> getApps() {
    return apps;
  }

  public void setApps(Map<String, Map<String, Object>> apps) {
    this.apps = apps;
  }

  public Map<String, Map<String, Object>> getConnections() {
    return connections;
  }

  public void setConnections(Map<String, Map<String, Object>> connections) {
    this.connections = connections;
  }

  public @Nullable String getInstanceId() {
    return instanceId;
  }

  public void setInstanceId(@Nullable String instanceId) {
    this.instanceId = instanceId;
  }

  public Duration getRenewalTimeout() {
    return renewalTimeout;
  }

  public void setRenewalTimeout(Duration renewalTimeout) {
    this.renewalTimeout = renewalTimeout;
  }

  public KeepAlive getKeepAlive() {
    return keepAlive;
  }

  public Health getHealth() {
    return health;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  public Callback getCallback() {
    return callback;
  }

  /** Keep-alive: renews connections whose refresh token would otherwise expire. */
  public static class KeepAlive {
    /** Whether keep-alive passes run (on every instance, safely: the store lease). */
    private boolean enabled = true;

    /** Time between keep-alive passes. */
    private Duration interval = Duration.ofMinutes(30);

    /** Renewals one pass runs at once at most. */
    private int concurrency = 4;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public Duration getInterval() {
      return interval;
    }

    public void setInterval(Duration interval) {
      this.interval = interval;
    }

    public int getConcurrency() {
      return concurrency;
    }

    public void setConcurrency(int concurrency) {
      this.concurrency = concurrency;
    }
  }

  /** The "tokenbroker" health contributor. */
  public static class Health {
    /**
     * When the contributor reports DOWN: ANY connection needing re-authorization, only when ALL
     * connections need it, or NEVER. A DEGRADED connection never makes it DOWN (a valid token is
     * still served and the broker retries).
     */
    private DownWhen downWhen = DownWhen.ALL;

    public DownWhen getDownWhen() {
      return downWhen;
    }

    public void setDownWhen(DownWhen downWhen) {
      this.downWhen = downWhen;
    }
  }

  /** Which connections needing re-authorization take the "tokenbroker" health contributor DOWN. */
  public enum DownWhen {
    /** DOWN as soon as one connection needs re-authorization. */
    ANY,
    /** DOWN only when every connection needs re-authorization: the service can do nothing. */
    ALL,
    /** Never DOWN: health details and events report the connections; the service stays up. */
    NEVER
  }

  /** Micrometer metrics (see tokenbroker-micrometer). */
  public static class Metrics {
    /**
     * Connections to publish tokenbroker.access.expiry and tokenbroker.refresh.expiry for, tagged
     * by connection id. Empty by default: each adds two time series.
     */
    private List<String> expiryGauges = new ArrayList<>();

    public List<String> getExpiryGauges() {
      return expiryGauges;
    }

    public void setExpiryGauges(List<String> expiryGauges) {
      this.expiryGauges = expiryGauges;
    }
  }

  /** The OAuth callback endpoint. */
  public static class Callback {
    /** Whether the callback endpoint is registered (when the broker supports it). */
    private boolean enabled = true;

    /** The path the platforms redirect to; the connections' redirect-uri must point here. */
    private String path = "/tokenbroker/callback";

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getPath() {
      return path;
    }

    public void setPath(String path) {
      this.path = path;
    }
  }
}
