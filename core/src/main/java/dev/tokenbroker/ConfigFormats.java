package dev.tokenbroker;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a configuration file's text into a plain tree of sections — maps of maps, lists and
 * strings, nulls left out — for {@link ConfigFile} to make sense of: YAML through Jackson and
 * SnakeYAML, whose errors are reported by line and column without the excerpt of the offending line
 * (it may hold a literal secret), or Java properties, whose flattened keys ({@code
 * connections.cafe24\:mall-a.mall-id}) are unflattened into the same tree.
 */
final class ConfigFormats {
  // Thread-safe once configured; building one costs milliseconds.
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigFormats() {}

  /** A YAML file's tree: a mapping at the top, or empty for a file with nothing in it. */
  static Map<String, Object> yaml(Path file) throws IOException {
    ObjectMapper yaml = YAML;
    JsonNode root;
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      root = yaml.readTree(r);
    } catch (JsonProcessingException e) {
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

  /**
   * A properties file's tree: {@code store.<setting>}, {@code apps.<app>.<setting>} and {@code
   * connections.<id>.<setting>}, the name being everything between the first and the last dot.
   */
  static Map<String, Object> properties(Path file) throws IOException {
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
    for (String key : new TreeSet<>(p.stringPropertyNames())) {
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

  /**
   * Where a YAML error is, and what SnakeYAML says is wrong — without the excerpt of the offending
   * line that its message carries, which may be a literal secret.
   */
  private static String yamlProblem(JsonProcessingException e) {
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
    JsonLocation at = e.getLocation();
    String where =
        at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
    String message = e.getOriginalMessage();
    int newline = message == null ? -1 : message.indexOf('\n');
    return where + (newline < 0 ? message : message.substring(0, newline));
  }

  @SuppressWarnings("unchecked")
  private static <K, V> Map<K, V> castMap(Object o) {
    return (Map<K, V>) o;
  }
}
