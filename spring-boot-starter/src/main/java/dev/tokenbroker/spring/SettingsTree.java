package dev.tokenbroker.spring;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns what Spring bound under {@code tokenbroker.*} into the settings maps core reads from
 * tokenbroker.yaml: apps merged into their connections, and lists (which Spring binds into a {@code
 * Map<String, Object>} as maps keyed 0, 1, 2…) back into lists.
 */
final class SettingsTree {
  private SettingsTree() {}

  /** The connections by id, each with its app's settings merged under its own. */
  static Map<ConnectionId, Map<String, Object>> connections(
      Map<String, Map<String, Object>> connections, Map<String, Map<String, Object>> apps) {
    Map<ConnectionId, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : connections.entrySet()) {
      ConnectionId id = id(e.getKey());
      Map<String, Object> own = plain(e.getValue());
      Map<String, Object> settings = new LinkedHashMap<>();
      Object app = own.get("app");
      if (app != null) {
        Map<String, Object> shared = apps.get(app.toString());
        if (shared == null) {
          throw new ConfigurationException(
              id,
              "app",
              "no app named '"
                  + app
                  + "' under tokenbroker.apps; apps: "
                  + new TreeMap<>(apps).keySet());
        }
        settings.putAll(plain(shared));
      }
      settings.putAll(own);
      out.put(id, settings);
    }
    return out;
  }

  private static ConnectionId id(String key) {
    if (key.indexOf(':') < 0) {
      throw new ConfigurationException(
          null,
          "tokenbroker.connections." + key,
          "is not a connection id (provider:account). Spring drops the colon from a map key"
              + " unless the key is in brackets: write \"[provider:account]\":, for example"
              + " \"[cafe24:mymall]\":");
    }
    try {
      return ConnectionId.parse(key);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(null, "tokenbroker.connections." + key, e.getMessage(), e);
    }
  }

  /** A copy with Spring's indexed maps turned back into lists, recursively. */
  static Map<String, Object> plain(Map<String, ?> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : map.entrySet()) {
      out.put(e.getKey(), value(e.getValue()));
    }
    return out;
  }

  private static Object value(Object v) {
    if (v instanceof Map) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) v;
      if (!m.isEmpty() && isIndexed(m)) {
        List<Object> list = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
          list.add(value(m.get(String.valueOf(i))));
        }
        return list;
      }
      return plain(m);
    }
    if (v instanceof List) {
      List<Object> list = new ArrayList<>();
      for (Object o : (List<?>) v) {
        list.add(value(o));
      }
      return list;
    }
    return v;
  }

  private static boolean isIndexed(Map<String, Object> m) {
    for (int i = 0; i < m.size(); i++) {
      if (!m.containsKey(String.valueOf(i))) {
        return false;
      }
    }
    return true;
  }
}
