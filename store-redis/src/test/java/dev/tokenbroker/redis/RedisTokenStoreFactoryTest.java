package dev.tokenbroker.redis;

import static dev.tokenbroker.TestStores.factory;
import static dev.tokenbroker.TestStores.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisTokenStoreFactoryTest {
  @Test
  void redisType_buildsAnEncryptedStoreOnItsOwnClient(@TempDir Path dir) throws Exception {
    Path key =
        Files.writeString(dir.resolve("key"), Base64.getEncoder().encodeToString(new byte[32]));
    String prefix = TestRedis.freshPrefix();
    ConnectionId id = ConnectionId.of("cafe24", "factory");
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    try (TokenStore store =
        factory("redis")
            .create(
                settings(
                    "type",
                    "redis",
                    "uri",
                    TestRedis.url(),
                    "key-prefix",
                    prefix,
                    "timeout",
                    "2s",
                    "key-file",
                    key.toString()),
                Clock.systemUTC())) {
      RedisTokenStore redis = (RedisTokenStore) store;
      assertThat(redis.encrypts()).isTrue();
      assertThat(redis.keyPrefix()).isEqualTo(prefix);
      store.put(
          id,
          TokenSet.builder().accessToken("a").issuedAt(t0).expiresAt(t0.plusSeconds(60)).build());
      assertThat(store.load(id).accessToken()).isEqualTo("a");
      assertThat(store.connections()).containsExactly(id);
    }
  }

  @Test
  void badSettings_failNamingTheSetting() {
    assertThatThrownBy(() -> factory("redis").create(settings("type", "redis"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'uri'");
    assertThatThrownBy(
            () ->
                factory("redis")
                    .create(
                        settings("uri", TestRedis.url(), "key-prefix", "{bad}"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'key-prefix'");
    assertThatThrownBy(
            () ->
                factory("redis")
                    .create(settings("uri", TestRedis.url(), "host", "x"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'host'");
  }

  @Test
  void unreachableServer_failsAtBuildNamingTheUriAndNeverThePassword() {
    assertThatThrownBy(
            () ->
                factory("redis")
                    .create(
                        settings("uri", "redis://:hunter2-password@127.0.0.1:1", "timeout", "1s"),
                        Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'uri': cannot connect to Redis")
        .hasMessageNotContaining("hunter2-password");
  }
}
