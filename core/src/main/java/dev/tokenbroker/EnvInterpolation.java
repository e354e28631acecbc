package dev.tokenbroker;

import dev.tokenbroker.spi.Secrets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@code ${ENV_VAR}} in a configuration file's values, so secrets stay out of files: {@code
 * ${VAR:-default}} when the variable is unset or empty, {@code $$} for a literal dollar; an unset
 * variable without a default is an error naming the connection and setting. Lists and mappings of
 * plain values are expanded element by element.
 */
final class EnvInterpolation {
  private EnvInterpolation() {}

  /** {@code settings} with every value expanded; errors name {@code id} (null: the store). */
  static Map<String, Object> substitute(
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
}
