package dev.tokenbroker.spi;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The list and map settings of {@link Settings}, made from the raw value configuration gave: a YAML
 * list or mapping, or (for a list) one text of comma-separated items as properties files write it.
 * Errors name the setting through {@link Settings#invalid} and never repeat a value.
 */
final class SettingCollections {
  private SettingCollections() {}

  /** {@code value} of setting {@code key} as a list, as {@link Settings#list(String)} describes. */
  static List<String> list(Settings settings, String key, @Nullable Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof Map) {
      throw settings.invalid(key, "must be a list, not a mapping");
    }
    List<String> out = new ArrayList<>();
    if (value instanceof Collection) {
      for (Object o : (Collection<?>) value) {
        if (o instanceof Collection || o instanceof Map) {
          throw settings.invalid(key, "must be a list of plain values");
        }
        if (o != null && !o.toString().isBlank()) {
          out.add(o.toString().trim());
        }
      }
    } else {
      for (String part : value.toString().split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
    }
    return List.copyOf(out);
  }

  /** {@code value} of setting {@code key} as a map, as {@link Settings#map} describes. */
  static Map<String, String> map(Settings settings, String key, @Nullable Object value) {
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof Map)) {
      throw settings.invalid(key, "must be a mapping of names to values, e.g. {prompt: login}");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
      Object name = e.getKey();
      Object v = e.getValue();
      if (name == null || name.toString().isBlank()) {
        throw settings.invalid(key, "has an empty name");
      }
      if (v == null || v instanceof Collection || v instanceof Map) {
        throw settings.invalid(key, "'" + name + "' must have one plain value");
      }
      out.put(name.toString().trim(), v.toString());
    }
    return Collections.unmodifiableMap(out);
  }
}
