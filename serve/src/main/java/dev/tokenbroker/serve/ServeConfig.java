package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What {@code tokenbroker serve} listens on, who may ask it for what, and where it sends webhooks.
 * Immutable; built with {@link #builder()} or read from a YAML file with {@link #load(Path)}:
 *
 * <pre>
 * socket:
 *   path: /run/tokenbroker/tokenbroker.sock   # its directory: owned by us, writable by us only
 *   group: tokenbroker                         # optional: mode 0660 and this group (else 0600)
 * tcp:
 *   host: 127.0.0.1                            # a non-loopback address requires tls
 *   port: 8411                                 # 0: any free port
 *   allowed-hosts: [localhost, 127.0.0.1]      # Host header values accepted (DNS rebinding)
 *   tls:
 *     certificate: /etc/tokenbroker/cert.pem   # PEM, leaf first, then the chain
 *     key: /etc/tokenbroker/key.pem            # PEM PKCS#8, readable by the owner only
 * clients:                                     # TCP callers: one bearer secret each
 *   - name: reports
 *     secret-file: /etc/tokenbroker/clients/reports   # readable by the owner only
 *     connections: [cafe24:mymall, naver:self]        # or ["*"]
 * webhooks:
 *   - url: https://hooks.example.com/tokenbroker
 *     secret-file: /etc/tokenbroker/webhook.secret    # HMAC-SHA256 key, owner only
 * health-watch: 30s                            # how often the shared health is read
 * </pre>
 *
 * Relative paths are resolved against the file's directory. At least one of {@code socket} and
 * {@code tcp} must be present; {@code tcp} requires at least one client. Files are checked (and
 * secrets read) when the server starts, not here.
 */
public final class ServeConfig {
  /** The TCP port used when {@code tcp.port} is not given. */
  public static final int DEFAULT_PORT = 8411;

  private final @Nullable Path socketPath;
  private final @Nullable String socketGroup;
  private final @Nullable String tcpHost;
  private final int tcpPort;
  private final Set<String> allowedHosts;
  private final List<String> explicitHosts;
  private final @Nullable Path tlsCertificate;
  private final @Nullable Path tlsKey;
  private final List<Client> clients;
  private final List<Webhook> webhooks;
  private final Duration healthWatch;
  private final Duration idleTimeout;

  private ServeConfig(Builder b) {
    this.socketPath = b.socketPath;
    this.socketGroup = b.socketGroup;
    this.tcpHost = b.tcpHost;
    this.tcpPort = b.tcpPort;
    this.tlsCertificate = b.tlsCertificate;
    this.tlsKey = b.tlsKey;
    this.clients = List.copyOf(b.clients);
    this.webhooks = List.copyOf(b.webhooks);
    this.healthWatch = b.healthWatch;
    this.idleTimeout = b.idleTimeout;
    this.explicitHosts = List.copyOf(b.allowedHosts);
    Set<String> hosts = new LinkedHashSet<>();
    if (b.allowedHosts.isEmpty() && tcpHost != null) {
      hosts.add("localhost");
      hosts.add("127.0.0.1");
      hosts.add("[::1]");
      hosts.add(tcpHost.toLowerCase(Locale.ROOT));
    }
    for (String h : b.allowedHosts) {
      hosts.add(h.toLowerCase(Locale.ROOT));
    }
    this.allowedHosts = Set.copyOf(hosts);
  }

  /**
   * A new builder.
   *
   * @return a new, empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this configuration, to change a setting (the command line's {@code
   * --socket}).
   *
   * @return a builder holding this configuration
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.socketPath = socketPath;
    b.socketGroup = socketGroup;
    b.tcpHost = tcpHost;
    b.tcpPort = tcpPort;
    b.allowedHosts.addAll(explicitHosts);
    b.tlsCertificate = tlsCertificate;
    b.tlsKey = tlsKey;
    b.clients.addAll(clients);
    b.webhooks.addAll(webhooks);
    b.healthWatch = healthWatch;
    b.idleTimeout = idleTimeout;
    return b;
  }

  /**
   * Reads a serve configuration from a YAML file (see the class documentation for its shape).
   *
   * @param file the YAML file
   * @return the configuration
   * @throws ConfigurationException naming the setting that is missing or wrong
   */
  public static ServeConfig load(Path file) {
    return ServeConfigYaml.load(file);
  }

  /**
   * The Unix domain socket to listen on, or null for none.
   *
   * @return the socket's path, or null
   */
  public @Nullable Path socketPath() {
    return socketPath;
  }

  /**
   * The group given access to the socket (mode 0660), or null for owner only (mode 0600).
   *
   * @return the socket's group, or null
   */
  public @Nullable String socketGroup() {
    return socketGroup;
  }

  /**
   * The TCP address to listen on, or null for no TCP.
   *
   * @return the TCP host, or null
   */
  public @Nullable String tcpHost() {
    return tcpHost;
  }

  /**
   * The TCP port; 0 picks a free one.
   *
   * @return the TCP port
   */
  public int tcpPort() {
    return tcpPort;
  }

  /**
   * The {@code Host} header values (without port, lower case) accepted on TCP.
   *
   * @return the accepted host names
   */
  public Set<String> allowedHosts() {
    return allowedHosts;
  }

  /**
   * The PEM certificate chain for TLS, or null for plain HTTP (loopback only).
   *
   * @return the certificate file, or null
   */
  public @Nullable Path tlsCertificate() {
    return tlsCertificate;
  }

  /**
   * The PEM (PKCS#8) private key for TLS, or null.
   *
   * @return the key file, or null
   */
  public @Nullable Path tlsKey() {
    return tlsKey;
  }

  /**
   * The TCP clients.
   *
   * @return the TCP clients, in configuration order
   */
  public List<Client> clients() {
    return clients;
  }

  /**
   * The webhook receivers.
   *
   * @return the webhook receivers
   */
  public List<Webhook> webhooks() {
    return webhooks;
  }

  /**
   * How often the shared health of every connection is read from the store, to learn of states
   * other instances recorded.
   *
   * @return the health watch interval
   */
  public Duration healthWatch() {
    return healthWatch;
  }

  /**
   * How long a connection may stay idle (a slow or stalled client) before it is closed.
   *
   * @return the idle timeout
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  @Override
  public String toString() {
    return "ServeConfig{socket="
        + socketPath
        + ", tcp="
        + (tcpHost == null ? "none" : tcpHost + ":" + tcpPort + (tlsKey == null ? "" : " tls"))
        + ", clients="
        + clients.size()
        + ", webhooks="
        + webhooks.size()
        + '}';
  }

  /** A TCP client: a name, the file holding its bearer secret, and what it may read. */
  public static final class Client {
    private final String name;
    private final Path secretFile;
    private final Set<String> connections;

    Client(String name, Path secretFile, List<String> connections) {
      this.name = name;
      this.secretFile = secretFile;
      this.connections = Set.copyOf(connections);
    }

    /**
     * The client's name, as it appears in the access log.
     *
     * @return the client's name
     */
    public String name() {
      return name;
    }

    /**
     * The file holding the client's bearer secret (readable by the owner only).
     *
     * @return the secret file
     */
    public Path secretFile() {
      return secretFile;
    }

    /**
     * Whether this client may read (and refresh) {@code id}.
     *
     * @param id the connection
     * @return true if listed, or if the list holds {@code *}
     */
    public boolean mayRead(ConnectionId id) {
      return connections.contains("*") || connections.contains(id.toString());
    }

    @Override
    public String toString() {
      return "Client{" + name + ", " + connections.size() + " connection(s)}";
    }
  }

  /** A webhook receiver: where to POST, and the file holding the HMAC key. */
  public static final class Webhook {
    private final URI url;
    private final Path secretFile;

    Webhook(URI url, Path secretFile) {
      this.url = url;
      this.secretFile = secretFile;
    }

    /**
     * Where events are POSTed.
     *
     * @return the receiver's URL
     */
    public URI url() {
      return url;
    }

    /**
     * The file holding the HMAC-SHA256 key (readable by the owner only).
     *
     * @return the secret file
     */
    public Path secretFile() {
      return secretFile;
    }

    @Override
    public String toString() {
      return "Webhook{" + url.getScheme() + "://" + url.getHost() + '}';
    }
  }

  /** Builds a {@link ServeConfig}. Not thread-safe. */
  public static final class Builder {
    private @Nullable Path socketPath;
    private @Nullable String socketGroup;
    private @Nullable String tcpHost;
    private int tcpPort;
    private final List<String> allowedHosts = new ArrayList<>();
    private @Nullable Path tlsCertificate;
    private @Nullable Path tlsKey;
    private final List<Client> clients = new ArrayList<>();
    private final List<Webhook> webhooks = new ArrayList<>();
    private Duration healthWatch = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofSeconds(30);

    Builder() {}

    /**
     * Listen on a Unix domain socket at {@code path}.
     *
     * @param path the socket file to create
     * @return this builder
     */
    public Builder socket(Path path) {
      this.socketPath = Objects.requireNonNull(path, "path");
      return this;
    }

    /**
     * Give {@code group} access to the socket: mode 0660 instead of 0600.
     *
     * @param group a group this user belongs to
     * @return this builder
     */
    public Builder socketGroup(String group) {
      this.socketGroup = Objects.requireNonNull(group, "group");
      return this;
    }

    /**
     * Listen on TCP.
     *
     * @param host the address to bind (loopback unless TLS is configured)
     * @param port the port, 0 for any free one
     * @return this builder
     */
    public Builder tcp(String host, int port) {
      ServeConfigRules.port(port);
      this.tcpHost = Objects.requireNonNull(host, "host");
      this.tcpPort = port;
      return this;
    }

    /**
     * Accept {@code host} in the {@code Host} header on TCP (default: localhost, 127.0.0.1, [::1]
     * and the bound host).
     *
     * @param host a host name, without port
     * @return this builder
     */
    public Builder allowedHost(String host) {
      allowedHosts.add(Objects.requireNonNull(host, "host"));
      return this;
    }

    /**
     * Serve TCP over TLS with this PEM certificate chain and PEM PKCS#8 key.
     *
     * @param certificate the certificate chain, leaf first
     * @param key the private key, readable by the owner only
     * @return this builder
     */
    public Builder tls(Path certificate, Path key) {
      this.tlsCertificate = Objects.requireNonNull(certificate, "certificate");
      this.tlsKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /**
     * A TCP client.
     *
     * @param name its name, for the access log
     * @param secretFile the file holding its bearer secret, readable by the owner only
     * @param connections the connection ids it may read, or {@code *}
     * @return this builder
     */
    public Builder client(String name, Path secretFile, List<String> connections) {
      Objects.requireNonNull(name, "name");
      ServeConfigRules.client(name, connections, clients);
      clients.add(new Client(name, Objects.requireNonNull(secretFile), connections));
      return this;
    }

    /**
     * A webhook receiver.
     *
     * @param url where to POST: {@code https}, or {@code http} to a loopback address
     * @param secretFile the file holding the HMAC-SHA256 key, readable by the owner only
     * @return this builder
     */
    public Builder webhook(URI url, Path secretFile) {
      ServeConfigRules.webhookUrl(url);
      webhooks.add(new Webhook(url, Objects.requireNonNull(secretFile)));
      return this;
    }

    /**
     * How often the shared health is read (default 30 s).
     *
     * @param interval the interval, positive
     * @return this builder
     */
    public Builder healthWatch(Duration interval) {
      ServeConfigRules.positive("health-watch", interval);
      this.healthWatch = interval;
      return this;
    }

    /**
     * How long an idle or stalled client connection is kept (default 30 s).
     *
     * @param timeout the timeout, positive
     * @return this builder
     */
    public Builder idleTimeout(Duration timeout) {
      ServeConfigRules.positive("idle-timeout", timeout);
      this.idleTimeout = timeout;
      return this;
    }

    /**
     * The configuration.
     *
     * @return the configuration
     * @throws ConfigurationException if nothing to listen on, or TCP without clients
     */
    public ServeConfig build() {
      ServeConfigRules.listeners(socketPath, tcpHost, clients, tlsKey);
      return new ServeConfig(this);
    }
  }
}
