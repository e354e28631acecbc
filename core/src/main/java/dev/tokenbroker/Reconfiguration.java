package dev.tokenbroker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings that change under a running service (a client secret reissued at the platform, a Naver
 * application replaced by an agency one): providers rebuilt from new settings — checked first, so a
 * bad change changes nothing — while stored tokens, health and the cache stay, and a call in flight
 * finishes with the provider it started with.
 */
final class Reconfiguration {
  private static final Logger log = LoggerFactory.getLogger(Reconfiguration.class);

  private final ConnectionRegistry registry;
  private final TokenBrokerBuilder.Parts parts;

  Reconfiguration(ConnectionRegistry registry, TokenBrokerBuilder.Parts parts) {
    this.registry = registry;
    this.parts = parts;
  }

  /** A configured connection's new settings. */
  void connection(ConnectionId id, Map<String, ?> settings) {
    Connection conn = registry.get(id);
    if (registry.isRunTime(conn)) {
      throw new ConfigurationException(
          id, null, "is made from an app's template: reconfigure the app (reconfigureApp)");
    }
    Map<String, Object> copy = new LinkedHashMap<>(settings);
    conn.reconfigured(reconfigurer().provider(id, copy, null));
    synchronized (this) {
      Map<ConnectionId, Map<String, Object>> next = new LinkedHashMap<>(parts.configuredSettings);
      next.put(id, copy);
      parts.configuredSettings = next;
    }
    log.info("connection {}: settings changed", id);
  }

  /** A template app's new settings, for its connections and those onboarded later. */
  void app(String app, Map<String, ?> settings) {
    ConnectionTemplate current = registry.template(app);
    Map<String, Object> copy = new LinkedHashMap<>(settings);
    copy.remove("template");
    ConnectionTemplate next = ConnectionTemplate.parse(app, current.pattern(), copy);
    TokenBrokerBuilder.Reconfigurer providers = reconfigurer();
    TokenBrokerBuilder.probe(next, providers); // checked before anything changes
    for (Connection c : registry.replaceTemplate(next)) {
      c.reconfigured(providers.provider(c.id, copy, next.subjectOf(c.id)));
    }
    log.info("app {}: settings changed", app);
  }

  /** The configuration file read again; returns what changed, a line each. */
  List<String> reload() {
    Path file = parts.reloadFrom;
    if (file == null) {
      throw new ConfigurationException(null, null, "the broker was not built from a file");
    }
    ConfigFile config = ConfigFile.load(file, parts.environment, parts.reloadFilter);
    List<String> changes = new ArrayList<>();
    // validate everything first: a bad file changes nothing
    TokenBrokerBuilder.Reconfigurer providers = reconfigurer();
    for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
      if (parts.configuredSettings.containsKey(e.getKey())) {
        providers.provider(e.getKey(), e.getValue(), null);
      }
    }
    for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
      Map<String, Object> before = parts.configuredSettings.get(e.getKey());
      if (before == null) {
        changes.add(e.getKey() + ": new in the file — restart to add it");
      } else if (!before.equals(e.getValue())) {
        connection(e.getKey(), e.getValue());
        changes.add(e.getKey() + ": settings changed");
      }
    }
    for (ConnectionId id : parts.configuredSettings.keySet()) {
      if (!config.connections().containsKey(id)) {
        changes.add(id + ": gone from the file — still served until a restart");
      }
    }
    for (Map.Entry<String, ConfigFile.Template> e : config.templates().entrySet()) {
      ConnectionTemplate before;
      try {
        before = registry.template(e.getKey());
      } catch (ConfigurationException notThere) {
        changes.add("app " + e.getKey() + ": new template — restart to add it");
        continue;
      }
      if (!before.settings.equals(e.getValue().settings)) {
        app(e.getKey(), e.getValue().settings);
        changes.add("app " + e.getKey() + ": settings changed");
      }
    }
    return changes;
  }

  private TokenBrokerBuilder.Reconfigurer reconfigurer() {
    TokenBrokerBuilder.Reconfigurer r = parts.providers;
    if (r == null) {
      throw new IllegalStateException("not built by TokenBrokerBuilder.build()");
    }
    return r;
  }
}
