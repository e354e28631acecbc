package dev.tokenbroker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
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
  private final ProviderFactories providers;
  private volatile Map<ConnectionId, Map<String, Object>> configuredSettings;
  private final @Nullable Path reloadFrom;
  private final Map<String, String> environment;
  private final Predicate<ConnectionId> reloadFilter;

  /**
   * @param configuredSettings the settings of the configured connections that were given as
   *     settings (not as a provider), by id
   * @param reloadFrom the configuration file the broker was built from, if any
   * @param environment where the file's {@code ${VAR}}s are looked up
   * @param reloadFilter which of the file's connections the broker takes
   */
  Reconfiguration(
      ConnectionRegistry registry,
      ProviderFactories providers,
      Map<ConnectionId, Map<String, Object>> configuredSettings,
      @Nullable Path reloadFrom,
      Map<String, String> environment,
      Predicate<ConnectionId> reloadFilter) {
    this.registry = registry;
    this.providers = providers;
    this.configuredSettings = configuredSettings;
    this.reloadFrom = reloadFrom;
    this.environment = environment;
    this.reloadFilter = reloadFilter;
  }

  /** A configured connection's new settings. */
  void connection(ConnectionId id, Map<String, ?> settings) {
    Connection conn = registry.get(id);
    if (registry.isRunTime(conn)) {
      throw new ConfigurationException(
          id, null, "is made from an app's template: reconfigure the app (reconfigureApp)");
    }
    Map<String, Object> copy = new LinkedHashMap<>(settings);
    conn.reconfigured(providers.provider(id, copy, null));
    synchronized (this) {
      Map<ConnectionId, Map<String, Object>> next = new LinkedHashMap<>(configuredSettings);
      next.put(id, copy);
      configuredSettings = next;
    }
    log.info("connection {}: settings changed", id);
  }

  /** A template app's new settings, for its connections and those onboarded later. */
  void app(String app, Map<String, ?> settings) {
    ConnectionTemplate current = registry.template(app);
    Map<String, Object> copy = new LinkedHashMap<>(settings);
    copy.remove("template");
    ConnectionTemplate next = ConnectionTemplate.parse(app, current.pattern(), copy);
    providers.probe(next); // checked before anything changes
    for (Connection c : registry.replaceTemplate(next)) {
      c.reconfigured(providers.provider(c.id, copy, next.subjectOf(c.id)));
    }
    log.info("app {}: settings changed", app);
  }

  /** The configuration file read again; returns what changed, a line each. */
  List<String> reload() {
    Path file = reloadFrom;
    if (file == null) {
      throw new ConfigurationException(null, null, "the broker was not built from a file");
    }
    ConfigFile config = ConfigFile.load(file, environment, reloadFilter);
    List<String> changes = new ArrayList<>();
    // validate everything first: a bad file changes nothing
    for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
      if (configuredSettings.containsKey(e.getKey())) {
        providers.provider(e.getKey(), e.getValue(), null);
      }
    }
    for (Map.Entry<ConnectionId, Map<String, Object>> e : config.connections().entrySet()) {
      Map<String, Object> before = configuredSettings.get(e.getKey());
      if (before == null) {
        changes.add(e.getKey() + ": new in the file — restart to add it");
      } else if (!before.equals(e.getValue())) {
        connection(e.getKey(), e.getValue());
        changes.add(e.getKey() + ": settings changed");
      }
    }
    for (ConnectionId id : configuredSettings.keySet()) {
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
}
