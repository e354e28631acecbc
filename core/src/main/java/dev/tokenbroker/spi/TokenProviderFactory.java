package dev.tokenbroker.spi;

import dev.tokenbroker.ConfigurationException;

/**
 * Builds {@link TokenProvider}s for one platform from a connection's settings. Found with {@link
 * java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/dev.tokenbroker.spi.TokenProviderFactory}) and selected by a connection's
 * {@code provider:} setting, so a new platform is a new jar and no change to core.
 */
public interface TokenProviderFactory {

  /**
   * The value of {@code provider:} this factory serves, e.g. {@code cafe24}.
   *
   * @return the value of {@code provider:} this factory serves, e.g. {@code cafe24}
   */
  String name();

  /**
   * Builds the provider for {@code settings.connection()}. Validates every setting now and throws
   * {@link ConfigurationException} naming the connection and the setting ({@link
   * Settings#invalid}), so that a bad secret fails at start-up, not at the first request.
   *
   * @param settings the connection's settings, as in a configuration file
   * @param context the connection, the broker's clock, HTTP client and randomness
   * @return the provider; never null
   */
  TokenProvider create(Settings settings, ProviderContext context);
}
