package dev.tokenbroker;

import dev.tokenbroker.spi.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Secrets written literally in a configuration file: their values, masked in every configuration
 * message (found line by line, so that it works on a file too broken to parse), and where they are,
 * named in one warning at start-up (never their values) so that they move to {@code ${ENV_VAR}}.
 */
final class ConfigSecrets {
  // Logged under ConfigFile's name, as before this moved here.
  private static final Logger LOG = LoggerFactory.getLogger(ConfigFile.class);

  private ConfigSecrets() {}

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
  static void warnAboutLiteralSecrets(Path file, Map<String, Object> tree) {
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
