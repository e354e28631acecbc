package dev.tokenbroker.store;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.Settings;
import java.time.Clock;

/**
 * Builds a {@link TokenStore} from the {@code store:} section of a configuration file, selected by
 * its {@code type:} ({@code memory}, {@code file}, {@code jdbc}, {@code redis}). Found with {@link
 * java.util.ServiceLoader}.
 */
public interface TokenStoreFactory {
  /** The {@code type:} this factory serves. */
  String type();

  /** Builds the store; throws {@link ConfigurationException} naming a bad setting. */
  TokenStore create(Settings settings, Clock clock);
}
