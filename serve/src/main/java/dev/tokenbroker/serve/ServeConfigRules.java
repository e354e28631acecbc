package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What {@link ServeConfig.Builder} accepts, section by section: the TCP port's range, unique client
 * names and valid connection ids, webhook URLs that are https (http only to a loopback address),
 * positive intervals, and at build time something to listen on, clients for TCP, and TLS for a
 * non-loopback TCP address. Each refusal is a {@link ConfigurationException} naming the setting.
 */
final class ServeConfigRules {
  private ServeConfigRules() {}

  static void port(int port) {
    if (port < 0 || port > 65535) {
      throw new ConfigurationException(null, "tcp.port", "must be between 0 and 65535");
    }
  }

  /** A new client's name is not taken by one of {@code clients}, and its connection ids parse. */
  static void client(String name, List<String> connections, List<ServeConfig.Client> clients) {
    for (ServeConfig.Client c : clients) {
      if (c.name().equals(name)) {
        throw new ConfigurationException(null, "clients[].name", "'" + name + "' twice");
      }
    }
    for (String id : connections) {
      if (!id.equals("*")) {
        ConnectionId.parse(id); // fails naming the bad id
      }
    }
  }

  static void webhookUrl(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(scheme.equals("http") && isLoopback(url.getHost()))) {
      throw new ConfigurationException(
          null, "webhooks[].url", "must be https (http only to a loopback address)");
    }
  }

  static void positive(String setting, Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigurationException(null, setting, "must be positive");
    }
  }

  /** The whole configuration's checks, made when it is built. */
  static void listeners(
      @Nullable Path socketPath,
      @Nullable String tcpHost,
      List<ServeConfig.Client> clients,
      @Nullable Path tlsKey) {
    if (socketPath == null && tcpHost == null) {
      throw new ConfigurationException(
          null, "socket", "nothing to listen on: configure socket.path and/or tcp");
    }
    if (tcpHost != null && clients.isEmpty()) {
      throw new ConfigurationException(
          null, "clients", "tcp needs at least one client with a secret-file");
    }
    if (tcpHost != null && !isLoopback(tcpHost) && tlsKey == null) {
      throw new ConfigurationException(
          null, "tcp.tls", "tcp.host " + tcpHost + " is not a loopback address: configure tcp.tls");
    }
  }

  static boolean isLoopback(@Nullable String host) {
    if (host == null) {
      return false;
    }
    String h =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    // Literal addresses only: a name is never resolved here (its answer could change).
    if (!h.matches("[0-9.]+") && !h.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
