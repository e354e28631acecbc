package dev.tokenbroker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads a broker configuration file: YAML ({@code .yaml}/{@code .yml}) or Java properties.
 *
 * <pre>
 * store:                      # optional; default in memory
 *   type: file
 *   path: /var/lib/tokenbroker
 * apps:                       # optional: settings shared by many connections
 *   my-cafe24-app:
 *     provider: cafe24
 *     client-id: ${CAFE24_CLIENT_ID}
 *     client-secret: ${CAFE24_CLIENT_SECRET}
 *     template: cafe24:{mall}  # optional: any mall onboarded at run time is a connection
 * connections:
 *   cafe24:mall-a: { app: my-cafe24-app, mall-id: mall-a }
 * </pre>
 *
 * In properties files the same keys are flattened ({@code connections.cafe24\:mall-a.mall-id}; the
 * colon must be escaped there), lists are comma-separated. Every text value may use {@code
 * ${ENV_VAR}} or {@code ${ENV_VAR:-default}}, so secrets stay out of files; {@code $$} is a literal
 * dollar. An unset variable without a default is an error naming the connection and setting.
 *
 * <p>Relative paths in the {@code store:} section ({@code path}, {@code key-file}) are resolved
 * against the directory of the file that names them, not the working directory: the same file opens
 * the same store from wherever it is read. An empty file (nothing but comments, or a truncated one)
 * is an error rather than a broker with no connections.
 *
 * <p>This class gives the sections their meaning (an app's settings under each connection naming
 * it, templates, the store); {@link ConfigFormats} reads the text into a tree, {@link
 * EnvInterpolation} expands {@code ${VAR}}, and {@link ConfigSecrets} keeps literal secrets out of
 * every message.
 */
final class ConfigFile {
  private static final Set<String> TOP_LEVEL = Set.of("store", "apps", "connections");

  private final Map<ConnectionId, Map<String, Object>> connections;
  private final Map<String, Template> templates;
  private final @Nullable Map<String, Object> store;

  /** An app's {@code template:} and its settings, ${VAR}s expanded. */
  static final class Template {
    final String pattern;
    final Map<String, Object> settings;

    Template(String pattern, Map<String, Object> settings) {
      this.pattern = pattern;
      this.settings = settings;
    }
  }

  private ConfigFile(
      Map<ConnectionId, Map<String, Object>> connections,
      Map<String, Template> templates,
      @Nullable Map<String, Object> store) {
    this.connections = connections;
    this.templates = templates;
    this.store = store;
  }

  /** The apps with a {@code template:}, by app name. */
  Map<String, Template> templates() {
    return templates;
  }

  Map<ConnectionId, Map<String, Object>> connections() {
    return connections;
  }

  @Nullable Map<String, Object> store() {
    return store;
  }

  static ConfigFile load(Path file, Map<String, String> env) {
    return load(file, env, id -> true);
  }

  /** Only the connections {@code accepted} takes are resolved (their ${VAR}s expanded) and kept. */
  static ConfigFile load(
      Path file, Map<String, String> env, java.util.function.Predicate<ConnectionId> accepted) {
    try {
      return read(file, env, accepted);
    } catch (ConfigurationException e) {
      // Whatever went wrong, a secret written literally in the file never appears in the message.
      Set<String> secrets = ConfigSecrets.literalSecrets(file);
      String masked = ConfigSecrets.mask(e.getMessage(), secrets);
      throw masked.equals(e.getMessage()) ? e : ConfigurationException.withMessage(e, masked);
    }
  }

  private static ConfigFile read(
      Path file, Map<String, String> env, java.util.function.Predicate<ConnectionId> accepted) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    Map<String, Object> tree;
    try {
      if (name.endsWith(".properties")) {
        tree = ConfigFormats.properties(file);
      } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
        tree = ConfigFormats.yaml(file);
      } else {
        throw new ConfigurationException(
            null, null, "configuration file " + file + " must end in .yaml, .yml or .properties");
      }
    } catch (IOException e) {
      throw new ConfigurationException(
          null, null, "cannot read configuration file " + file + ": " + e.getMessage(), e);
    }
    if (tree.isEmpty()) {
      throw new ConfigurationException(
          null,
          null,
          "configuration file "
              + file
              + " is empty — a truncated file? It needs a connections: section (and a store:)");
    }
    for (String key : tree.keySet()) {
      if (!TOP_LEVEL.contains(key)) {
        throw new ConfigurationException(
            null, key, "unknown top-level section in " + file + "; expected one of " + TOP_LEVEL);
      }
    }
    Map<String, Map<String, Object>> apps = sections(tree.get("apps"), "apps");
    Map<ConnectionId, Map<String, Object>> connections =
        connections(sections(tree.get("connections"), "connections"), apps, env, accepted);
    Map<String, Object> store = store(tree.get("store"), file, env);
    Map<String, Template> templates = templates(apps, env);
    ConfigSecrets.warnAboutLiteralSecrets(file, tree);
    return new ConfigFile(connections, templates, store);
  }

  /** Each accepted connection's settings: its app's (but the template), then its own, expanded. */
  private static Map<ConnectionId, Map<String, Object>> connections(
      Map<String, Map<String, Object>> raw,
      Map<String, Map<String, Object>> apps,
      Map<String, String> env,
      java.util.function.Predicate<ConnectionId> accepted) {
    Map<ConnectionId, Map<String, Object>> connections = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : raw.entrySet()) {
      ConnectionId id;
      try {
        id = ConnectionId.parse(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw new ConfigurationException(null, "connections", ex.getMessage(), ex);
      }
      if (!accepted.test(id)) {
        continue;
      }
      Map<String, Object> settings = new LinkedHashMap<>();
      Object appName = e.getValue().get("app");
      if (appName != null) {
        Map<String, Object> app = apps.get(appName.toString());
        if (app == null) {
          throw new ConfigurationException(
              id,
              "app",
              "no app named '" + appName + "' in the apps section; apps: " + apps.keySet());
        }
        settings.putAll(app);
        settings.remove("template"); // the app's, not the connection's
      }
      settings.putAll(e.getValue());
      connections.put(id, EnvInterpolation.substitute(id, settings, env));
    }
    return connections;
  }

  /** The {@code store:} section, expanded, its relative paths resolved; null if there is none. */
  private static @Nullable Map<String, Object> store(
      @Nullable Object storeTree, Path file, Map<String, String> env) {
    if (storeTree == null) {
      return null;
    }
    if (!(storeTree instanceof Map)) {
      throw new ConfigurationException(
          null, "store", "must be a section with a type and its settings");
    }
    Map<String, Object> store = EnvInterpolation.substitute(null, castMap(storeTree), env);
    resolvePaths(store, file);
    return store;
  }

  /** The apps with a {@code template:}: the pattern, and the app's other settings expanded. */
  private static Map<String, Template> templates(
      Map<String, Map<String, Object>> apps, Map<String, String> env) {
    Map<String, Template> templates = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : apps.entrySet()) {
      Object pattern = e.getValue().get("template");
      if (pattern != null) {
        Map<String, Object> settings = new LinkedHashMap<>(e.getValue());
        settings.remove("template");
        templates.put(
            e.getKey(),
            new Template(pattern.toString(), EnvInterpolation.substitute(null, settings, env)));
      }
    }
    return templates;
  }

  /** Store settings that name files: relative ones are relative to the configuration file. */
  private static final List<String> STORE_PATHS = List.of("path", "key-file");

  private static void resolvePaths(Map<String, Object> store, Path file) {
    Path dir = file.toAbsolutePath().getParent();
    for (String setting : STORE_PATHS) {
      Object value = store.get(setting);
      if (value instanceof String && !((String) value).isBlank() && dir != null) {
        try {
          Path path = Path.of((String) value);
          if (!path.isAbsolute()) {
            store.put(setting, dir.resolve(path).normalize().toString());
          }
        } catch (java.nio.file.InvalidPathException e) {
          throw new ConfigurationException(null, "store." + setting, "is not a valid path", e);
        }
      }
    }
  }

  private static Map<String, Map<String, Object>> sections(@Nullable Object tree, String name) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    if (tree == null) {
      return out;
    }
    if (!(tree instanceof Map)) {
      throw new ConfigurationException(null, name, "must be a section of named entries");
    }
    Map<String, Object> entries = castMap(tree);
    for (Map.Entry<String, Object> e : entries.entrySet()) {
      if (!(e.getValue() instanceof Map)) {
        throw new ConfigurationException(
            null, name + "." + e.getKey(), "must be a section of settings");
      }
      out.put(e.getKey(), castMap(e.getValue()));
    }
    return out;
  }

  /** As {@link ConfigSecrets#literalSecretSettings}; kept here for the tests that call it. */
  static List<String> literalSecretSettings(Map<String, Object> tree) {
    return ConfigSecrets.literalSecretSettings(tree);
  }

  @SuppressWarnings("unchecked")
  private static <K, V> Map<K, V> castMap(Object o) {
    return (Map<K, V>) o;
  }
}
