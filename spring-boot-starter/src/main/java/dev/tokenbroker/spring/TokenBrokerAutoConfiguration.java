package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.micrometer.TokenBrokerMetrics;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;

/**
 * Auto-configures a {@link TokenBroker} from {@code tokenbroker.*}, with its metrics, health
 * contributor, Actuator endpoint and Spring events. Backs off when the application defines its own
 * {@code TokenBroker} bean (the health, endpoint and metrics then still attach to it).
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration"
    })
@ConditionalOnProperty(prefix = "tokenbroker", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(TokenBrokerProperties.class)
public class TokenBrokerAutoConfiguration {
  /** The name of an optional {@code java.time.Clock} bean the broker and its store use. */
  public static final String CLOCK_BEAN = "tokenBrokerClock";

  private static final String REDIS_FACTORY =
      "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory";

  /** Creates an auto-configuration; Spring does. */
  public TokenBrokerAutoConfiguration() {}

  /**
   * The broker's metrics, a {@code MeterBinder} that Boot binds to every registry.
   *
   * @param properties tokenbroker.*
   * @param clock the broker's clock, when the application set one
   * @return the metrics
   */
  @Bean
  @ConditionalOnMissingBean
  public TokenBrokerMetrics tokenBrokerMetrics(
      TokenBrokerProperties properties, @Qualifier(CLOCK_BEAN) ObjectProvider<Clock> clock) {
    List<ConnectionId> gauges = new ArrayList<>();
    for (String id : properties.getMetrics().getExpiryGauges()) {
      gauges.add(ConnectionId.parse(id));
    }
    return TokenBrokerMetrics.builder()
        .expiryGauges(gauges)
        .clock(clock.getIfAvailable(Clock::systemUTC))
        .build();
  }

  /**
   * The token store {@code tokenbroker.store} describes, closed after the broker (the broker
   * depends on it). An application's own {@code TokenStore} bean wins.
   *
   * @param properties tokenbroker.*
   * @param clock the broker's clock, when the application set one
   * @param dataSource the application's DataSource, for store.type jdbc
   * @param context the application context (for the Redis connection factory, when present)
   * @return the store
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public TokenStore tokenBrokerStore(
      TokenBrokerProperties properties,
      @Qualifier(CLOCK_BEAN) ObjectProvider<Clock> clock,
      ObjectProvider<DataSource> dataSource,
      ApplicationContext context) {
    Clock c = clock.getIfAvailable(Clock::systemUTC);
    ClassLoader loader = TokenBrokerAutoConfiguration.class.getClassLoader();
    return StoreSelection.create(
        SettingsTree.plain(properties.getStore()),
        c,
        settings -> applicationStore(settings, c, dataSource, context, loader),
        loader);
  }

  /**
   * The broker, closed when the context closes — before its store: keep-alive stops, renewals in
   * flight finish and are saved, unsaved sets get a last save attempt.
   *
   * @param properties tokenbroker.*
   * @param store the token store
   * @param metrics the metrics
   * @param events publishes the Spring events
   * @param clock the broker's clock, when the application set one
   * @param customizers applied last
   * @return the started broker
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public TokenBroker tokenBroker(
      TokenBrokerProperties properties,
      TokenStore store,
      TokenBrokerMetrics metrics,
      ApplicationEventPublisher events,
      @Qualifier(CLOCK_BEAN) ObjectProvider<Clock> clock,
      ObjectProvider<TokenBrokerCustomizer> customizers) {
    ClassLoader loader = TokenBrokerAutoConfiguration.class.getClassLoader();
    SpringEventBridge bridge = new SpringEventBridge(events);
    TokenBrokerBuilder b =
        TokenBroker.builder()
            .clock(clock.getIfAvailable(Clock::systemUTC))
            .store(store)
            .renewalTimeout(properties.getRenewalTimeout())
            .listener(metrics)
            .listener(bridge);
    for (TokenProviderFactory f : ServiceLoader.load(TokenProviderFactory.class, loader)) {
      b.providerFactory(metrics.instrument(f));
    }
    if (properties.getInstanceId() != null) {
      b.instanceId(properties.getInstanceId());
    }
    TokenBrokerProperties.KeepAlive keepAlive = properties.getKeepAlive();
    if (keepAlive.isEnabled()) {
      b.keepAlive(keepAlive.getInterval(), keepAlive.getConcurrency());
    } else {
      b.withoutKeepAlive();
    }
    for (Map.Entry<ConnectionId, Map<String, Object>> e :
        SettingsTree.connections(properties.getConnections(), properties.getApps()).entrySet()) {
      b.connection(e.getKey(), e.getValue());
    }
    customizers.orderedStream().forEach(cz -> cz.customize(b));
    TokenBroker broker = b.build();
    bridge.attach(broker);
    metrics.monitor(broker);
    return broker;
  }

  private static @Nullable TokenStore applicationStore(
      Settings settings,
      Clock clock,
      ObjectProvider<DataSource> dataSource,
      ApplicationContext context,
      ClassLoader loader) {
    String type = settings.optional("type", "memory");
    if (type.equals("jdbc") && !settings.has("url")) {
      DataSource ds = dataSource.getIfUnique();
      if (ds != null && ClassUtils.isPresent("dev.tokenbroker.jdbc.JdbcTokenStore", loader)) {
        return JdbcStores.onDataSource(ds, settings, clock);
      }
    }
    if (type.equals("redis")
        && !settings.has("uri")
        && ClassUtils.isPresent(REDIS_FACTORY, loader)
        && ClassUtils.isPresent("dev.tokenbroker.redis.RedisTokenStore", loader)) {
      return RedisLookup.store(context, settings, clock);
    }
    return null;
  }

  /** The Redis lookup, in a class of its own so that Spring Data Redis stays optional. */
  static final class RedisLookup {
    private RedisLookup() {}

    static @Nullable TokenStore store(ApplicationContext context, Settings settings, Clock clock) {
      org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory factory =
          context
              .getBeanProvider(
                  org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory.class)
              .getIfUnique();
      return factory == null ? null : RedisStores.onConnectionFactory(factory, settings, clock);
    }
  }

  /** Health contributor "tokenbroker", when the application has Spring Boot's health module. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = "tokenbrokerHealthIndicator")
    TokenBrokerHealthIndicator tokenbrokerHealthIndicator(
        TokenBroker broker, TokenBrokerProperties properties) {
      return new TokenBrokerHealthIndicator(broker, properties.getHealth().getDownWhen());
    }
  }

  /** The "tokenbroker" Actuator endpoint, when the application has Actuator. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  static class EndpointConfiguration {
    @Bean
    @ConditionalOnMissingBean
    TokenBrokerEndpoint tokenBrokerEndpoint(TokenBroker broker) {
      return new TokenBrokerEndpoint(broker);
    }
  }

  /**
   * The OAuth callback at {@code tokenbroker.callback.path} (default {@code
   * /tokenbroker/callback}): completes the authorization the redirect's {@code state} belongs to,
   * started on any instance sharing the store ({@link TokenBroker#handleCallback}).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(prefix = "tokenbroker.callback", name = "enabled", matchIfMissing = true)
  static class CallbackConfiguration {
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = "org.springframework.web.servlet.function.RouterFunction")
    static class Servlet {
      @Bean
      org.springframework.web.servlet.function.RouterFunction<
              org.springframework.web.servlet.function.ServerResponse>
          tokenBrokerCallbackRoute(TokenBroker broker, TokenBrokerProperties properties) {
        return CallbackRoutes.Servlet.routes(
            properties.getCallback().getPath(), new TokenBrokerCallback(broker));
      }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = "org.springframework.web.reactive.function.server.RouterFunction")
    static class Reactive {
      @Bean
      org.springframework.web.reactive.function.server.RouterFunction<
              org.springframework.web.reactive.function.server.ServerResponse>
          tokenBrokerCallbackRoute(TokenBroker broker, TokenBrokerProperties properties) {
        return CallbackRoutes.Reactive.routes(
            properties.getCallback().getPath(), new TokenBrokerCallback(broker));
      }
    }
  }
}
