package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * A running {@code tokenbroker serve}: a {@link TokenBroker} (keep-alive on, as configured by its
 * builder) answering on a Unix domain socket and/or TCP, and sending webhooks. Started with {@link
 * #builder(ServeConfig)}; {@link #close()} stops it gracefully: no new requests, requests in flight
 * finish (up to the stop timeout), then the broker closes (renewals in flight finish and unsaved
 * sets get a last save), then queued webhooks get a few seconds.
 *
 * <p>Refuses to start, with a {@link ConfigurationException} naming the setting, when a secret or
 * key file can be read by other users, the socket's directory can be written by other users, the
 * socket path is taken by a file or a live server, or the TCP address is not loopback and no TLS is
 * configured.
 *
 * <p>Thread-safe.
 */
public final class TokenService implements AutoCloseable {
  private final TokenBroker broker;
  private final Server server;
  private final @Nullable Path socketPath;
  private final @Nullable ServerConnector tcp;
  private final Webhooks webhooks;
  private final ScheduledExecutorService watcher;
  private final JsonLog log;
  private volatile boolean closing;

  private TokenService(
      TokenBroker broker,
      Server server,
      @Nullable Path socketPath,
      @Nullable ServerConnector tcp,
      Webhooks webhooks,
      ScheduledExecutorService watcher,
      JsonLog log) {
    this.broker = broker;
    this.server = server;
    this.socketPath = socketPath;
    this.tcp = tcp;
    this.webhooks = webhooks;
    this.watcher = watcher;
    this.log = log;
  }

  /**
   * A builder for a service with this configuration.
   *
   * @param config what to listen on, who may ask, where webhooks go
   * @return a new builder
   */
  public static Builder builder(ServeConfig config) {
    return new Builder(config);
  }

  /**
   * The broker behind the service.
   *
   * @return the broker
   */
  public TokenBroker broker() {
    return broker;
  }

  /**
   * The Unix domain socket the service answers on, or null.
   *
   * @return the socket's path, or null
   */
  public @Nullable Path socketPath() {
    return socketPath;
  }

  /**
   * The TCP port the service answers on (the one picked when configured as 0), or -1.
   *
   * @return the TCP port, or -1 without TCP
   */
  public int tcpPort() {
    return tcp == null ? -1 : tcp.getLocalPort();
  }

  /** One pass of the health watch (it also runs every {@link ServeConfig#healthWatch()}). */
  void watchHealth() {
    webhooks.watch();
  }

  Webhooks webhooks() {
    return webhooks;
  }

  boolean ready() {
    if (closing || !server.isStarted()) {
      return false;
    }
    // Ready when the store answers: a connection's health read says so (one read).
    Iterator<ConnectionId> it = broker.connections().iterator();
    if (!it.hasNext()) {
      return true;
    }
    try {
      Health h = broker.health(it.next());
      return !"store-unavailable".equals(h.reasonCode());
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Stops gracefully (see the class documentation). Idempotent.
   *
   * @throws IllegalStateException never; failures are logged
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    log.line("stopping").info();
    watcher.shutdownNow();
    try {
      server.stop();
    } catch (Exception e) {
      log.line("stop-failed").with("error", e.getClass().getSimpleName()).warn();
    }
    UnixSocketFile.delete(socketPath);
    broker.close();
    webhooks.close(Duration.ofSeconds(5));
    log.line("stopped").info();
  }

  @Override
  public String toString() {
    return "TokenService{socket=" + socketPath + ", port=" + tcpPort() + ", " + broker + '}';
  }

  /** Builds and starts a {@link TokenService}. Not thread-safe. */
  public static final class Builder {
    private final ServeConfig config;
    private Clock clock = Clock.systemUTC();
    private @Nullable OkHttpClient webhookClient;
    private Duration webhookBackoff = Duration.ofSeconds(1);
    private Duration webhookMaxBackoff = Duration.ofMinutes(5);
    private int webhookAttempts = Webhooks.DEFAULT_ATTEMPTS;
    private @Nullable String instanceId;
    private Duration stopTimeout = Duration.ofSeconds(10);

    Builder(ServeConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * The clock for {@code expires_in} and webhook timestamps: the broker's own. Default: system
     * UTC.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The HTTP client webhooks are sent with (its own retries are turned off).
     *
     * @param client the client
     * @return this builder
     */
    public Builder webhookClient(OkHttpClient client) {
      this.webhookClient = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Webhook retries: first delay, cap, and attempts in all. Default 1 s, 5 min, 8.
     *
     * @param initial the first retry's delay
     * @param max the longest delay
     * @param attempts attempts in all, at least 1
     * @return this builder
     */
    public Builder webhookRetries(Duration initial, Duration max, int attempts) {
      if (attempts < 1 || initial.isNegative() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("attempts >= 1 and 0 <= initial <= max");
      }
      this.webhookBackoff = initial;
      this.webhookMaxBackoff = max;
      this.webhookAttempts = attempts;
      return this;
    }

    /**
     * This instance's name in webhooks and logs. Default: host name and process id.
     *
     * @param instanceId a name
     * @return this builder
     */
    public Builder instanceId(String instanceId) {
      this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
      return this;
    }

    /**
     * How long requests in flight may take to finish on {@link TokenService#close()}. Default 10 s.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Checks the files, builds the broker from {@code brokerBuilder} (with this service's webhook
     * listener added), and starts listening. On any failure nothing is left running.
     *
     * @param brokerBuilder a broker builder with the connections and store set
     * @return the running service
     * @throws ConfigurationException naming the setting when a file, mode or address is refused
     * @throws IllegalStateException when the server cannot start (a port in use)
     */
    public TokenService start(TokenBrokerBuilder brokerBuilder) {
      String instance = instanceId != null ? instanceId : defaultInstance();
      JsonLog log = new JsonLog("dev.tokenbroker.serve", clock);
      List<Webhooks.Receiver> receivers = new ArrayList<>();
      for (ServeConfig.Webhook w : config.webhooks()) {
        receivers.add(
            new Webhooks.Receiver(
                w.url().toString(),
                FileChecks.readSecret(w.secretFile(), "webhooks[].secret-file")));
      }
      Path socket = config.socketPath() == null ? null : config.socketPath().toAbsolutePath();
      if (socket != null) {
        UnixSocketFile.prepare(socket);
      }
      Webhooks webhooks =
          new Webhooks(
              clock,
              receivers,
              webhookClient != null ? webhookClient : new OkHttpClient(),
              webhookBackoff,
              webhookMaxBackoff,
              webhookAttempts,
              instance);
      dev.tokenbroker.micrometer.TokenBrokerMetrics metrics =
          dev.tokenbroker.micrometer.TokenBrokerMetrics.builder().clock(clock).build();
      io.micrometer.prometheusmetrics.PrometheusMeterRegistry prometheus =
          new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
              io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
      metrics.bindTo(prometheus);
      TokenBroker broker = brokerBuilder.listener(webhooks).listener(metrics).build();
      metrics.monitor(broker);
      webhooks.attach(broker);
      QueuedThreadPool threads = new QueuedThreadPool(32, 2);
      threads.setName("tokenbroker-serve");
      threads.setDaemon(true);
      Server server = new Server(threads);
      server.setStopTimeout(stopTimeout.toMillis());
      server.setStopAtShutdown(false); // the caller (the CLI's shutdown hook) closes us
      ScheduledExecutorService watcher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "tokenbroker-serve-health-watch");
                t.setDaemon(true);
                return t;
              });
      try {
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setRequestHeaderSize(8 * 1024);
        http.setIdleTimeout(config.idleTimeout().toMillis());
        UnixDomainServerConnector unix = null;
        if (socket != null) {
          unix = new UnixDomainServerConnector(server, new HttpConnectionFactory(http));
          unix.setUnixDomainPath(socket);
          unix.setIdleTimeout(config.idleTimeout().toMillis());
          server.addConnector(unix);
        }
        ServerConnector tcp = null;
        if (config.tcpHost() != null) {
          if (config.tlsKey() != null) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStore(
                PemKeys.keyStore(Objects.requireNonNull(config.tlsCertificate()), config.tlsKey()));
            ssl.setKeyStorePassword(new String(PemKeys.PASSWORD));
            HttpConfiguration https = new HttpConfiguration(http);
            SecureRequestCustomizer src = new SecureRequestCustomizer();
            src.setSniHostCheck(false); // the Host header is checked against allowed-hosts
            https.addCustomizer(src);
            tcp =
                new ServerConnector(
                    server,
                    new SslConnectionFactory(ssl, "http/1.1"),
                    new HttpConnectionFactory(https));
          } else {
            tcp = new ServerConnector(server, new HttpConnectionFactory(http));
          }
          tcp.setHost(config.tcpHost());
          tcp.setPort(config.tcpPort());
          tcp.setIdleTimeout(config.idleTimeout().toMillis());
          server.addConnector(tcp);
        }
        TokenService[] self = new TokenService[1];
        AccessControl access = new AccessControl(config, unix);
        ApiHandler api =
            new ApiHandler(
                broker,
                clock,
                access,
                new JsonLog("dev.tokenbroker.serve.access", clock),
                () -> self[0] != null && self[0].ready(),
                prometheus::scrape);
        server.setHandler(new GracefulHandler(api));
        TokenService service =
            new TokenService(broker, server, socket, tcp, webhooks, watcher, log);
        self[0] = service;
        server.start();
        if (socket != null) {
          UnixSocketFile.restrict(socket, config.socketGroup());
        }
        long every = config.healthWatch().toMillis();
        watcher.scheduleWithFixedDelay(
            () -> {
              try {
                webhooks.watch();
              } catch (RuntimeException e) {
                log.line("health-watch-failed").with("error", e.getClass().getSimpleName()).warn();
              }
            },
            every,
            every,
            TimeUnit.MILLISECONDS);
        log.line("started")
            .with("instance", instance)
            .with("socket", socket)
            .with("tcp", tcp == null ? null : config.tcpHost() + ":" + tcp.getLocalPort())
            .with("tls", config.tlsKey() != null)
            .with("connections", broker.connections().size())
            .with("webhooks", receivers.size())
            .info();
        return service;
      } catch (RuntimeException e) {
        stopQuietly(server, watcher, broker, webhooks, socket);
        throw e;
      } catch (Exception e) {
        stopQuietly(server, watcher, broker, webhooks, socket);
        throw new IllegalStateException(
            "cannot start the server: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
      }
    }

    private static void stopQuietly(
        Server server,
        ScheduledExecutorService watcher,
        TokenBroker broker,
        Webhooks webhooks,
        @Nullable Path socket) {
      watcher.shutdownNow();
      try {
        server.stop();
      } catch (Exception ignored) {
        // already failing
      }
      UnixSocketFile.delete(socket);
      broker.close();
      webhooks.close(Duration.ZERO);
    }

    /** The host name ($HOSTNAME, else /etc/hostname: no DNS lookup) and the process id. */
    private static String defaultInstance() {
      String host = System.getenv("HOSTNAME");
      if (host == null || host.isBlank()) {
        try {
          host = Files.readString(Path.of("/etc/hostname")).strip();
        } catch (IOException | RuntimeException e) {
          host = null;
        }
      }
      return (host == null || host.isBlank() ? "localhost" : host)
          + ":"
          + ProcessHandle.current().pid();
    }
  }
}
