package dev.tokenbroker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tokenbroker.spi.Secrets;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

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
 */
final class ConfigFile {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigFile.class);
  // Thread-safe once configured; building one costs milliseconds.
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
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
      Set<String> secrets = literalSecrets(file);
      String masked = mask(e.getMessage(), secrets);
      throw masked.equals(e.getMessage()) ? e : ConfigurationException.withMessage(e, masked);
    }
  }

  private static ConfigFile read(
      Path file, Map<String, String> env, java.util.function.Predicate<ConnectionId> accepted) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    Map<String, Object> tree;
    try {
      if (name.endsWith(".properties")) {
        tree = readProperties(file);
      } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
        tree = readYaml(file);
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
    Map<String, Map<String, Object>> raw = sections(tree.get("connections"), "connections");
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
      connections.put(id, substitute(id, settings, env));
    }
    Map<String, Object> store = null;
    Object storeTree = tree.get("store");
    if (storeTree != null) {
      if (!(storeTree instanceof Map)) {
        throw new ConfigurationException(
            null, "store", "must be a section with a type and its settings");
      }
      store = substitute(null, castMap(storeTree), env);
      resolvePaths(store, file);
    }
    Map<String, Template> templates = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : apps.entrySet()) {
      Object pattern = e.getValue().get("template");
      if (pattern != null) {
        Map<String, Object> settings = new LinkedHashMap<>(e.getValue());
        settings.remove("template");
        templates.put(
            e.getKey(), new Template(pattern.toString(), substitute(null, settings, env)));
      }
    }
    warnAboutLiteralSecrets(file, tree);
    return new ConfigFile(connections, templates, store);
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

  private static Map<String, Object> readYaml(Path file) throws IOException {
    ObjectMapper yaml = YAML;
    JsonNode root;
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      root = yaml.readTree(r);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // Lead with the fix: the usual cause is ${VAR} unquoted inside { } (a YAML flow mapping).
      String fix =
          Files.readString(file, StandardCharsets.UTF_8).contains("${")
              ? "quote values that use ${VAR} inside { } (key: \"${VAR}\") — "
              : "";
      // Where, and what SnakeYAML says is wrong, without the excerpt of the line (a secret?).
      String problem = yamlProblem(e);
      if (problem.length() > 120) {
        problem = problem.substring(0, 117) + "...";
      }
      throw new ConfigurationException(
          null, null, fix + "configuration file " + file + " is not valid YAML: " + problem, null);
    } catch (RuntimeException | StackOverflowError e) {
      // SnakeYAML bounds nesting, aliases and code points itself; anything it still throws is a
      // file it cannot read, reported as such.
      throw new ConfigurationException(
          null,
          null,
          "configuration file "
              + file
              + " is not valid YAML ("
              + e.getClass().getSimpleName()
              + ")",
          null);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return new LinkedHashMap<>();
    }
    if (!root.isObject()) {
      throw new ConfigurationException(
          null, null, "configuration file " + file + " must be a YAML mapping");
    }
    return castMap(toPlain(root));
  }

  private static Object toPlain(JsonNode n) {
    if (n.isObject()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isNull()) {
          m.put(e.getKey(), toPlain(e.getValue()));
        }
      }
      return m;
    }
    if (n.isArray()) {
      List<Object> l = new ArrayList<>();
      n.forEach(x -> l.add(toPlain(x)));
      return l;
    }
    return n.asText();
  }

  private static Map<String, Object> readProperties(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IllegalArgumentException e) {
      // Properties.load's "Malformed \\uxxxx encoding."
      throw new ConfigurationException(
          null,
          null,
          "configuration file " + file + " is not a valid properties file: a bad \\u escape");
    }
    Map<String, Object> tree = new LinkedHashMap<>();
    for (String key : new java.util.TreeSet<>(p.stringPropertyNames())) {
      String value = p.getProperty(key);
      int firstDot = key.indexOf('.');
      if (firstDot < 0) {
        throw new ConfigurationException(
            null,
            key,
            "expected store.<setting>, apps.<app>.<setting> or connections.<id>.<setting>");
      }
      String section = key.substring(0, firstDot);
      String rest = key.substring(firstDot + 1);
      Map<String, Object> sectionMap =
          castMap(tree.computeIfAbsent(section, k -> new LinkedHashMap<String, Object>()));
      if (section.equals("store")) {
        sectionMap.put(rest, value);
      } else {
        int lastDot = rest.lastIndexOf('.');
        if (lastDot <= 0) {
          throw new ConfigurationException(null, key, "expected " + section + ".<name>.<setting>");
        }
        castMap(
                sectionMap.computeIfAbsent(
                    rest.substring(0, lastDot), k -> new LinkedHashMap<String, Object>()))
            .put(rest.substring(lastDot + 1), value);
      }
    }
    return tree;
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

  private static Map<String, Object> substitute(
      @Nullable ConnectionId id, Map<String, Object> settings, Map<String, String> env) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : settings.entrySet()) {
      out.put(e.getKey(), substituteValue(id, e.getKey(), e.getValue(), env));
    }
    return out;
  }

  private static Object substituteValue(
      @Nullable ConnectionId id, String setting, Object value, Map<String, String> env) {
    if (value instanceof List) {
      List<Object> out = new ArrayList<>();
      for (Object o : (List<?>) value) {
        out.add(substituteValue(id, setting, o, env));
      }
      return out;
    }
    if (value instanceof Map) {
      // A mapping of plain values (oauth2's authorize-params: {prompt: login}); deeper is refused.
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        Object v = e.getValue();
        if (v == null || v instanceof Map || v instanceof List) {
          throw new ConfigurationException(
              id, setting, "must be a value, a list, or a mapping of names to plain values");
        }
        out.put(String.valueOf(e.getKey()), substituteValue(id, setting, v, env));
      }
      return out;
    }
    return expand(id, setting, value.toString(), env);
  }

  /** Expands {@code ${VAR}}, {@code ${VAR:-default}} and {@code $$}. */
  static String expand(
      @Nullable ConnectionId id, String setting, String text, Map<String, String> env) {
    if (text.indexOf('$') < 0) {
      return text;
    }
    StringBuilder b = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '$') {
        b.append('$');
        i += 2;
      } else if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
        int end = text.indexOf('}', i + 2);
        if (end < 0) {
          throw new ConfigurationException(id, setting, "unterminated ${ in value");
        }
        String expr = text.substring(i + 2, end);
        String var = expr;
        String fallback = null;
        int dash = expr.indexOf(":-");
        if (dash >= 0) {
          var = expr.substring(0, dash);
          fallback = expr.substring(dash + 2);
        }
        if (!var.matches("[A-Za-z_][A-Za-z0-9_]*")) {
          throw new ConfigurationException(
              id,
              setting,
              Secrets.isSecretName(setting)
                  ? "a ${…} reference does not name a valid environment variable"
                  : "'${" + var + "}' is not a valid environment variable name");
        }
        String v = env.get(var);
        if (v == null || v.isEmpty()) {
          if (fallback == null) {
            throw new ConfigurationException(
                id,
                setting,
                "environment variable " + var + " is not set (referenced as ${" + var + "})");
          }
          v = fallback;
        }
        b.append(v);
        i = end + 1;
      } else {
        b.append(c);
        i++;
      }
    }
    return b.toString();
  }

  /**
   * Where a YAML error is, and what SnakeYAML says is wrong — without the excerpt of the offending
   * line that its message carries, which may be a literal secret.
   */
  private static String yamlProblem(com.fasterxml.jackson.core.JsonProcessingException e) {
    Throwable cause = e.getCause();
    if (cause instanceof MarkedYAMLException) {
      MarkedYAMLException m = (MarkedYAMLException) cause;
      Mark mark = m.getProblemMark();
      String where =
          mark == null
              ? ""
              : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
      return where + m.getProblem();
    }
    com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
    String where =
        at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
    String message = e.getOriginalMessage();
    int newline = message == null ? -1 : message.indexOf('\n');
    return where + (newline < 0 ? message : message.substring(0, newline));
  }

  /**
   * The values of secret settings ({@link Secrets#isSecretName}) written literally in the file,
   * read line by line so that it works on a file too broken to parse: each {@code name: value} or
   * {@code name=value} (also inside YAML flow mappings), the value and its words. Values using
   * {@code ${VAR}} only are not secrets and are left out. Linear in the file's length.
   */
  static Set<String> literalSecrets(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (String line : text.split("\r?\n|\r")) {
      for (String piece : line.split("[{},\\[\\]]")) {
        int sep = separator(piece);
        if (sep < 0) {
          continue;
        }
        String key = unquote(piece.substring(0, sep).trim());
        int dot = Math.max(key.lastIndexOf('.'), key.lastIndexOf(':'));
        String name = dot >= 0 ? key.substring(dot + 1) : key;
        String value = piece.substring(sep + 1);
        int comment = value.indexOf(" #");
        value = unquote((comment >= 0 ? value.substring(0, comment) : value).trim());
        if (!name.isEmpty() && Secrets.isSecretName(name) && !value.isBlank()) {
          if (!isReferenceOnly(value)) {
            out.add(value);
          }
          for (String word : value.split("[\\s:=,]+")) {
            if (word.length() >= 4 && !isReferenceOnly(word)) {
              out.add(word);
            }
          }
        }
      }
    }
    return out;
  }

  /** The first {@code :} or {@code =} not escaped with a backslash, or -1. */
  private static int separator(String piece) {
    for (int i = 0; i < piece.length(); i++) {
      char c = piece.charAt(i);
      if ((c == ':' || c == '=') && (i == 0 || piece.charAt(i - 1) != '\\')) {
        return i;
      }
    }
    return -1;
  }

  private static String unquote(String v) {
    if (v.length() >= 2
        && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  private static boolean isReferenceOnly(String value) {
    String v = value.trim();
    return v.startsWith("${") && v.indexOf('}') == v.length() - 1;
  }

  /** {@code message} with every secret in {@code secrets} replaced, longest first. */
  static String mask(String message, Set<String> secrets) {
    String out = message;
    List<String> longestFirst = new ArrayList<>(secrets);
    longestFirst.sort((a, b) -> b.length() - a.length());
    for (String secret : longestFirst) {
      if (!secret.isEmpty()) {
        out = out.replace(secret, Secrets.REDACTED);
      }
    }
    return out;
  }

  /**
   * Logs one warning at start-up naming every secret setting whose value is written in the file
   * instead of taken from the environment with {@code ${VAR}}. The values are never logged.
   */
  private static void warnAboutLiteralSecrets(Path file, Map<String, Object> tree) {
    List<String> literal = literalSecretSettings(tree);
    if (!literal.isEmpty()) {
      LOG.warn(
          "configuration file {} holds secrets written literally: {}; use ${ENV_VAR} so that"
              + " secrets stay out of files",
          file,
          literal);
    }
  }

  /** Where secret settings are written literally ({@code apps.my-app.client-secret}, …). */
  static List<String> literalSecretSettings(Map<String, Object> tree) {
    List<String> literal = new ArrayList<>();
    for (String section : List.of("store", "apps", "connections")) {
      Object value = tree.get(section);
      if (!(value instanceof Map)) {
        continue;
      }
      Map<String, Object> entries = castMap(value);
      if (section.equals("store")) {
        collectLiteral("store", entries, literal);
      } else {
        for (Map.Entry<String, Object> e : entries.entrySet()) {
          if (e.getValue() instanceof Map) {
            collectLiteral(section + "." + e.getKey(), castMap(e.getValue()), literal);
          }
        }
      }
    }
    return literal;
  }

  private static void collectLiteral(String where, Map<String, Object> settings, List<String> out) {
    for (Map.Entry<String, Object> e : settings.entrySet()) {
      Object v = e.getValue();
      if (Secrets.isSecretName(e.getKey())
          && v != null
          && !(v instanceof Map)
          && !v.toString().isBlank()
          && !v.toString().contains("${")) {
        out.add(where + "." + e.getKey());
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static <K, V> Map<K, V> castMap(Object o) {
    return (Map<K, V>) o;
  }
}
