package dev.tokenbroker.spring;

import dev.tokenbroker.TokenBrokerBuilder;

/**
 * Adjusts the broker's builder before the auto-configured {@code TokenBroker} is built: extra
 * listeners, connections in code, an application {@code TokenCache}, an OkHttp client for the token
 * endpoints. Beans of this type are applied in their {@code @Order}. Each builder option may be set
 * once: the starter sets the store, the connections from {@code tokenbroker.connections}, the
 * instance id (when configured), the renewal timeout and keep-alive.
 */
@FunctionalInterface
public interface TokenBrokerCustomizer {
  /**
   * Adjusts the builder.
   *
   * @param builder the broker's builder, with the properties applied
   */
  void customize(TokenBrokerBuilder builder);
}
