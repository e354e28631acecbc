package dev.tokenbroker.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tokenbroker.ConfigurationException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads a serve configuration file (its shape is in {@link ServeConfig}'s documentation) into a
 * {@link ServeConfig.Builder}, one section at a time: each mapping's settings checked against the
 * known ones, values required or optional, relative paths resolved against the file's directory,
 * durations parsed. What the values may be is the builder's to check ({@link ServeConfigRules}).
 */
final class ServeConfigYaml {
  private ServeConfigYaml() {}

  /** See {@link ServeConfig#load(Path)}. */
  static ServeConfig load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigurationException(
          null, null, "cannot read serve configuration " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigurationException(
          null, null, "serve configuration " + file + " is not a YAML mapping");
    }
    Path dir = file.toAbsolutePath().getParent();
    ServeConfig.Builder b = ServeConfig.builder();
    known(root, "", Set.of("socket", "tcp", "clients", "webhooks", "health-watch", "idle-timeout"));
    socket(b, dir, root.path("socket"));
    tcp(b, dir, root.path("tcp"));
    clients(b, dir, root.path("clients"));
    webhooks(b, dir, root.path("webhooks"));
    String watch = text(root, "health-watch", false);
    if (watch != null) {
      b.healthWatch(duration("health-watch", watch));
    }
    String idle = text(root, "idle-timeout", false);
    if (idle != null) {
      b.idleTimeout(duration("idle-timeout", idle));
    }
    return b.build();
  }

  private static void socket(ServeConfig.Builder b, @Nullable Path dir, JsonNode socket) {
    if (socket.isObject()) {
      known(socket, "socket.", Set.of("path", "group"));
      b.socket(resolve(dir, text(socket, "socket.path", true)));
      String group = text(socket, "socket.group", false);
      if (group != null) {
        b.socketGroup(group);
      }
    }
  }

  private static void tcp(ServeConfig.Builder b, @Nullable Path dir, JsonNode tcp) {
    if (tcp.isObject()) {
      known(tcp, "tcp.", Set.of("host", "port", "allowed-hosts", "tls"));
      String host = text(tcp, "tcp.host", false);
      int port =
          tcp.path("port").isMissingNode() ? ServeConfig.DEFAULT_PORT : tcp.path("port").asInt(-1);
      b.tcp(host == null ? "127.0.0.1" : host, port);
      for (String h : list(tcp, "tcp.allowed-hosts")) {
        b.allowedHost(h);
      }
      JsonNode tls = tcp.path("tls");
      if (tls.isObject()) {
        known(tls, "tcp.tls.", Set.of("certificate", "key"));
        b.tls(
            resolve(dir, text(tls, "tcp.tls.certificate", true)),
            resolve(dir, text(tls, "tcp.tls.key", true)));
      }
    }
  }

  private static void clients(ServeConfig.Builder b, @Nullable Path dir, JsonNode clients) {
    for (JsonNode c : clients) {
      known(c, "clients[].", Set.of("name", "secret-file", "connections"));
      b.client(
          text(c, "clients[].name", true),
          resolve(dir, text(c, "clients[].secret-file", true)),
          list(c, "clients[].connections"));
    }
  }

  private static void webhooks(ServeConfig.Builder b, @Nullable Path dir, JsonNode webhooks) {
    for (JsonNode w : webhooks) {
      known(w, "webhooks[].", Set.of("url", "secret-file"));
      b.webhook(
          URI.create(text(w, "webhooks[].url", true)),
          resolve(dir, text(w, "webhooks[].secret-file", true)));
    }
  }

  private static void known(JsonNode node, String prefix, Set<String> names) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!names.contains(name)) {
        throw new ConfigurationException(
            null, prefix + name, "unknown setting; known here: " + new java.util.TreeSet<>(names));
      }
    }
  }

  private static @Nullable String text(JsonNode node, String setting, boolean required) {
    String field = setting.substring(setting.lastIndexOf('.') + 1);
    JsonNode v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      if (required) {
        throw new ConfigurationException(null, setting, "is required");
      }
      return null;
    }
    if (!v.isValueNode()) {
      throw new ConfigurationException(null, setting, "must be a single value");
    }
    return v.asText();
  }

  private static List<String> list(JsonNode node, String setting) {
    String field = setting.substring(setting.lastIndexOf('.') + 1);
    JsonNode v = node.path(field);
    List<String> out = new ArrayList<>();
    if (v.isMissingNode() || v.isNull()) {
      return out;
    }
    if (v.isValueNode()) {
      out.add(v.asText());
      return out;
    }
    for (JsonNode e : v) {
      out.add(e.asText());
    }
    return out;
  }

  private static Path resolve(@Nullable Path dir, @Nullable String path) {
    Path p = Path.of(Objects.requireNonNull(path));
    return dir == null || p.isAbsolute() ? p : dir.resolve(p).normalize();
  }

  private static Duration duration(String setting, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      switch (t.charAt(t.length() - 1)) {
        case 's':
          return Duration.ofSeconds(n);
        case 'm':
          return Duration.ofMinutes(n);
        case 'h':
          return Duration.ofHours(n);
        default:
          break;
      }
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      // reported below
    }
    throw new ConfigurationException(
        null, setting, "'" + text + "' is not a duration like 500ms, 30s, 5m or 1h");
  }
}
