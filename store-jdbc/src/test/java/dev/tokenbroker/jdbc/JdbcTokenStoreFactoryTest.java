package dev.tokenbroker.jdbc;

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

class JdbcTokenStoreFactoryTest {
  @Test
  void jdbcType_buildsAnEncryptedStoreOnItsOwnPool(@TempDir Path dir) throws Exception {
    Path key =
        Files.writeString(dir.resolve("key"), Base64.getEncoder().encodeToString(new byte[32]));
    String table = TestDatabases.freshTable();
    ConnectionId id = ConnectionId.of("cafe24", "factory");
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    try (TokenStore store =
        factory("jdbc")
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
      store.put(
          id,
          TokenSet.builder().accessToken("a").issuedAt(t0).expiresAt(t0.plusSeconds(60)).build());
      assertThat(store.load(id).accessToken()).isEqualTo("a");
    }
  }

  @Test
  void badSettings_failNamingTheSetting() {
    assertThatThrownBy(() -> factory("jdbc").create(settings("type", "jdbc"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'url'");
    assertThatThrownBy(
            () ->
                factory("jdbc")
                    .create(settings("url", "postgres://x", "type", "jdbc"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'url'");
    assertThatThrownBy(
            () ->
                factory("jdbc")
                    .create(settings("url", "jdbc:h2:mem:x", "table", "x y"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'table'");
    assertThatThrownBy(
            () ->
                factory("jdbc")
                    .create(settings("url", "jdbc:h2:mem:x", "user", "sa"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'user'");
  }

  @Test
  void unreachableDatabase_failsAtBuildNamingTheUrlAndNeverThePassword() {
    assertThatThrownBy(
            () ->
                factory("jdbc")
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
