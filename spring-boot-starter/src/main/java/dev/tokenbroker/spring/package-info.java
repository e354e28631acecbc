/**
 * Spring Boot 4 auto-configuration for the token broker: {@code tokenbroker.*} properties, a {@code
 * TokenBroker} bean, Actuator health and endpoint, Micrometer metrics, Spring events, and the
 * RestClient ({@link dev.tokenbroker.spring.TokenBrokerRestInterceptor}) and WebClient ({@link
 * dev.tokenbroker.spring.TokenBrokerExchangeFilter}) integrations.
 */
@NullMarked
package dev.tokenbroker.spring;

import org.jspecify.annotations.NullMarked;
