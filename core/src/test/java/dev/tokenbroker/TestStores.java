package dev.tokenbroker;

import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Stores built the way an application's configuration builds them: from {@code store:} settings, by
 * the {@link TokenStoreFactory} of their {@code type}, found with {@link ServiceLoader}. A test
 * that names its store by settings can hand the same settings to a child JVM (as {@code key=value}
 * arguments), and the store module's test class path, which the child inherits, provides the
 * factory: the shared children and scenarios need no store-specific code.
 */
public final class TestStores {
  private TestStores() {}

  /** A compare-and-set under a lease seized for it and released after, as a test's one write. */
  public static dev.tokenbroker.TokenSet cas(
      TokenStore store, ConnectionId id, long expectedVersion, TokenSet tokens) {
    dev.tokenbroker.store.Lease lease =
        store.seizeLease(id, "test-writer", java.time.Duration.ofMinutes(1), TokenStore.NO_FENCE);
    try {
      return store.compareAndSet(id, expectedVersion, tokens, lease);
    } finally {
      store.releaseLease(lease);
    }
  }

  /** The registered factory of {@code type}; fails the test when there is none. */
  public static TokenStoreFactory factory(String type) {
    for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class)) {
      if (f.type().equals(type)) {
        return f;
      }
    }
    throw new AssertionError("no store factory of type " + type + " on the class path");
  }

  /** Store settings from alternating keys and values. */
  public static Settings settings(Object... keysAndValues) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return new Settings(null, m);
  }

  /** The store {@code settings} describe (their {@code type} picks the factory), on system time. */
  public static TokenStore open(Map<String, String> settings) {
    return open(settings, Clock.systemUTC());
  }

  /** The store {@code settings} describe, on {@code clock}. */
  public static TokenStore open(Map<String, String> settings, Clock clock) {
    String type = settings.get("type");
    if (type == null) {
      throw new IllegalArgumentException("store settings without a type: " + settings.keySet());
    }
    return factory(type).create(new Settings(null, settings), clock);
  }

  /** {@code settings} as {@code key=value} command-line arguments; see {@link #fromArgs}. */
  public static List<String> toArgs(Map<String, String> settings) {
    List<String> args = new ArrayList<>();
    settings.forEach((k, v) -> args.add(k + "=" + v));
    return args;
  }

  /** The settings written by {@link #toArgs} from {@code args[from]} on. */
  public static Map<String, String> fromArgs(String[] args, int from) {
    Map<String, String> settings = new LinkedHashMap<>();
    for (int i = from; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("not a key=value store setting: argument " + i);
      }
      settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    return settings;
  }
}
