package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.TokenStoreFactory;
import dev.tokenbroker.spi.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcTokenStoreFactoryTest {
  static TokenStoreFactory factory() {
    for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class)) {
      if (f.type().equals("jdbc")) {
        return f;
      }
    }
    throw new AssertionError("no jdbc store factory registered");
  }

  static Settings settings(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new Settings(null, m);
  }

  @Test
  void jdbcType_buildsAnEncryptedStoreOnItsOwnPool(@TempDir Path dir) throws Exception {
    Path key =
        Files.writeString(dir.resolve("key"), Base64.getEncoder().encodeToString(new byte[32]));
    String table = TestDatabases.freshTable();
    ConnectionId id = ConnectionId.of("cafe24", "factory");
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    try (TokenStore store =
        factory()
            .create(
                settings(
                    "type", "jdbc",
                    "url", "jdbc:h2:mem:factory;DB_CLOSE_DELAY=-1",
                    "table", table,
                    "pool-size", "2",
                    "key-file", key.toString()),
                Clock.systemUTC())) {
      assertThat(store).isInstanceOf(JdbcTokenStore.class);
      assertThat(((JdbcTokenStore) store).encrypts()).isTrue();
      assertThat(((JdbcTokenStore) store).table()).isEqualTo(table);
      store.compareAndSet(
          id,
          0,
          TokenSet.builder().accessToken("a").issuedAt(t0).expiresAt(t0.plusSeconds(60)).build());
      assertThat(store.load(id).accessToken()).isEqualTo("a");
    }
  }

  @Test
  void badSettings_failNamingTheSetting() {
    assertThatThrownBy(() -> factory().create(settings("type", "jdbc"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'url'");
    assertThatThrownBy(
            () ->
                factory()
                    .create(settings("url", "postgres://x", "type", "jdbc"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'url'");
    assertThatThrownBy(
            () ->
                factory()
                    .create(settings("url", "jdbc:h2:mem:x", "table", "x y"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'table'");
    assertThatThrownBy(
            () ->
                factory().create(settings("url", "jdbc:h2:mem:x", "user", "sa"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'user'");
  }

  @Test
  void unreachableDatabase_failsAtBuildNamingTheUrlAndNeverThePassword() {
    assertThatThrownBy(
            () ->
                factory()
                    .create(
                        settings(
                            "url", "jdbc:postgresql://127.0.0.1:1/nowhere",
                            "username", "u",
                            "password", "hunter2-password"),
                        Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'url': cannot connect")
        .hasMessageNotContaining("hunter2-password");
  }
}
