package dev.tokenbroker;

import static dev.tokenbroker.TestStores.factory;
import static dev.tokenbroker.TestStores.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreFactoriesTest {
  @TempDir Path dir;

  @Test
  void memoryType_isFoundAndBuildsAnInMemoryStore() {
    TokenStore store = factory("memory").create(settings("type", "memory"), Clock.systemUTC());

    assertThat(store).isInstanceOf(InMemoryTokenStore.class);
  }

  @Test
  void fileType_buildsAFileStoreAtThePath() {
    TokenStore store =
        factory("file")
            .create(
                settings("type", "file", "path", dir.resolve("t").toString()), Clock.systemUTC());

    assertThat(store).isInstanceOf(FileTokenStore.class);
    assertThat(((FileTokenStore) store).directory()).isEqualTo(dir.resolve("t"));
    assertThat(((FileTokenStore) store).encrypts()).isFalse();
  }

  @Test
  void fileType_withAKeyFile_encrypts() throws Exception {
    Path key = dir.resolve("key");
    Files.writeString(key, TokenCodecTest.keyText(4) + "\n");

    FileTokenStore store =
        (FileTokenStore)
            factory("file")
                .create(
                    settings("path", dir.resolve("t").toString(), "key-file", key.toString()),
                    Clock.systemUTC());

    assertThat(store.encrypts()).isTrue();
  }

  @Test
  void fileType_unknownSetting_failsNamingIt() {
    assertThatThrownBy(
            () ->
                factory("file")
                    .create(settings("path", dir.toString(), "dir", "/x"), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'dir'");
    assertThatThrownBy(
            () -> factory("memory").create(settings("path", dir.toString()), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'path'");
  }

  @Test
  void fileType_pathThatIsAFile_failsNamingThePath() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");

    assertThatThrownBy(
            () -> factory("file").create(settings("path", file.toString()), Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'path'")
        .hasMessageContaining(file.toString());
  }

  @Test
  void fileType_unsetKeyVariable_failsNamingTheSetting() {
    assertThatThrownBy(
            () ->
                factory("file")
                    .create(
                        settings(
                            "path", dir.toString(), "key-env", "TOKENBROKER_TEST_SURELY_UNSET_42"),
                        Clock.systemUTC()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'key-env'");
  }
}
