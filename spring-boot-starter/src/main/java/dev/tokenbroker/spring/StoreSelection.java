package dev.tokenbroker.spring;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreFactory;
import java.time.Clock;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The store {@code tokenbroker.store} describes. {@code jdbc} without a {@code url} uses the
 * application's DataSource and {@code redis} without a {@code uri} its Lettuce connection factory;
 * everything else goes to the store factory of that type (as in tokenbroker.yaml).
 */
final class StoreSelection {
  private StoreSelection() {}

  /**
   * @param fromApplication builds a store from the application's own connection for a type, or
   *     returns null when the application has none
   */
  static TokenStore create(
      Map<String, Object> settingsMap,
      Clock clock,
      Function<Settings, @Nullable TokenStore> fromApplication,
      ClassLoader loader) {
    Settings settings = new Settings(null, settingsMap);
    String type = settings.optional("type", "memory");
    TokenStore own = fromApplication.apply(settings);
    if (own != null) {
      return own;
    }
    for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class, loader)) {
      if (f.type().equals(type)) {
        return f.create(settings, clock);
      }
    }
    if (type.equals("memory")) {
      return new InMemoryTokenStore(clock);
    }
    throw new ConfigurationException(
        null,
        "tokenbroker.store.type",
        "unknown store type '" + type + "' (is tokenbroker-store-" + type + " on the classpath?)");
  }
}
