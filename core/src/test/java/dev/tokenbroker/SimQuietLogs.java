package dev.tokenbroker;

import java.lang.reflect.Field;
import java.util.IdentityHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Silences the engine's loggers while the simulation runs thousands of expected failures (each
 * logged as a warning), and restores them after. Works on the test binding (slf4j-simple) by
 * setting its per-logger level; with any other binding it does nothing.
 */
final class SimQuietLogs implements AutoCloseable {
  private static final Class<?>[] ENGINE = {
    TokenBroker.class,
    StoreRenewal.class,
    StoreView.class,
    ProviderCall.class,
    DurableSaver.class,
    HealthBook.class,
    KeepAlive.class,
    Revoker.class,
    SingleFlight.class,
    Events.class
  };

  private final Map<Logger, Integer> saved = new IdentityHashMap<>();

  SimQuietLogs() {
    for (Class<?> c : ENGINE) {
      Logger logger = LoggerFactory.getLogger(c);
      Field level = levelField(logger.getClass());
      if (level == null) {
        continue;
      }
      try {
        saved.put(logger, level.getInt(logger));
        level.setInt(logger, Integer.MAX_VALUE); // above ERROR: nothing is logged
      } catch (IllegalAccessException e) {
        // leave it logging
      }
    }
  }

  private static Field levelField(Class<?> type) {
    for (Class<?> t = type; t != null; t = t.getSuperclass()) {
      try {
        Field f = t.getDeclaredField("currentLogLevel");
        f.setAccessible(true);
        return f;
      } catch (NoSuchFieldException | RuntimeException e) {
        // not this class
      }
    }
    return null;
  }

  @Override
  public void close() {
    for (Map.Entry<Logger, Integer> e : saved.entrySet()) {
      Field level = levelField(e.getKey().getClass());
      try {
        level.setInt(e.getKey(), e.getValue());
      } catch (IllegalAccessException ex) {
        // cannot happen: it was set above
      }
    }
  }
}
