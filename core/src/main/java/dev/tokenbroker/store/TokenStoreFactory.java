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
  /**
   * The {@code type:} this factory serves.
   *
   * @return the {@code type:} this factory serves
   */
  String type();

  /**
   * Builds the store; throws {@link ConfigurationException} naming a bad setting.
   *
   * @param settings the connection's settings, as in a configuration file
   * @param clock the clock every expiry and lease is measured by
   * @return the store; the broker closes it
   */
  TokenStore create(Settings settings, Clock clock);
}
