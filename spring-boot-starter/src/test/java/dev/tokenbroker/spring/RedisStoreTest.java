package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.redis.RedisTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import redis.embedded.RedisServer;

/**
 * {@code store.type: redis} without a uri stores tokens through the application's Lettuce factory.
 */
class RedisStoreTest {
  private final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  private final NaverEmulator naver = new NaverEmulator(clock);
  private RedisServer server;
  private LettuceConnectionFactory factory;

  @AfterEach
  void stop() throws Exception {
    naver.close();
    if (factory != null) {
      factory.destroy();
    }
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void redisStore_usesTheApplicationsLettuceConnectionFactory() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("starter-redis");
    server =
        RedisServer.newRedisServer()
            .port(port)
            .bind("127.0.0.1")
            .setting("dir " + dir.toAbsolutePath())
            .setting("save \"\"")
            .setting("appendonly no")
            .build();
    server.start();
    factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
    factory.afterPropertiesSet();
    factory.start();
    naver.registerApplication(TestEmulators.NAVER_CLIENT, TestEmulators.NAVER_SECRET).start();
    Map<String, Object> props =
        Map.of(
            "tokenbroker.store.type",
            "redis",
            "tokenbroker.store.key-prefix",
            "starter:",
            "tokenbroker.keep-alive.enabled",
            "false",
            "tokenbroker.connections.[naver:self].client-id",
            TestEmulators.NAVER_CLIENT,
            "tokenbroker.connections.[naver:self].client-secret",
            TestEmulators.NAVER_SECRET,
            "tokenbroker.connections.[naver:self].base-url",
            naver.baseUrl());
    ConnectionId id = ConnectionId.parse("naver:self");
    String[] token = new String[1];
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
        .withInitializer(
            c ->
                c.getEnvironment().getPropertySources().addFirst(new MapPropertySource("t", props)))
        .withBean(TokenBrokerAutoConfiguration.CLOCK_BEAN, Clock.class, () -> clock)
        .withBean(LettuceConnectionFactory.class, () -> factory)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(TokenStore.class)).isNotNull();
              token[0] = context.getBean(TokenBroker.class).accessToken(id);
            });
    // Another process reading the same Redis finds the set the application saved.
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + port);
    try (StatefulRedisConnection<String, String> c = client.connect(StringCodec.UTF8);
        RedisTokenStore other = RedisTokenStore.builder(c).keyPrefix("starter:").build()) {
      assertThat(other.load(id)).isNotNull();
      assertThat(other.load(id).accessToken()).isEqualTo(token[0]);
    } finally {
      client.shutdown();
    }
  }
}
