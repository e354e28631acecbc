package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.FileTokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Edges of reading a configuration file: relative store paths, an empty file, bad YAML. */
class ConfigFileEdgesTest {
  @TempDir Path dir;

  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);

  private TokenBroker build(Path config) {
    return TokenBroker.builder()
        .clock(clock)
        .providerFactory(factory())
        .configFile(config)
        .environment(Map.of("ID", "x"))
        .withoutKeepAlive()
        .build();
  }

  @Test
  void relativeStorePaths_areResolvedAgainstTheConfigurationFile_notTheWorkingDirectory()
      throws Exception {
    byte[] key = new byte[32];
    key[0] = 9;
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.writeString(conf.resolve("store.key"), Base64.getEncoder().encodeToString(key));
    ConnectionId id = ConnectionId.parse("fake:mall");
    TokenSet seeded =
        FileTokenStore.builder(conf.resolve("tokens"))
            .encryption(EncryptionKeys.of(key))
            .build()
            .put(id, provider.seed());
    Path config =
        Files.writeString(
            conf.resolve("tokenbroker.yaml"),
            "store: { type: file, path: tokens, key-file: ./store.key }\n"
                + "connections:\n"
                + "  fake:mall: { provider: fake }\n");

    // The working directory of this JVM is the module, not conf/: only resolution against the
    // file finds the seeded store (and its key).
    try (TokenBroker broker = build(config)) {
      assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    }
    assertThat(Path.of("tokens")).doesNotExist();
  }

  @Test
  void anEmptyFile_isAnError_notABrokerWithNoConnections() throws Exception {
    Path empty = Files.writeString(dir.resolve("tokenbroker.yaml"), "# nothing yet\n");
    assertThatThrownBy(() -> build(empty))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("is empty");
    Path emptyProperties = Files.writeString(dir.resolve("tokenbroker.properties"), "");
    assertThatThrownBy(() -> build(emptyProperties))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("is empty");
  }

  @Test
  void unquotedVariableInFlowMapping_leadsWithTheFix_inOneShortLine() throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("c.yaml"),
            "connections:\n  fake:a: { client-id: ${ID}, provider: fake }\n");
    assertThatThrownBy(() -> build(config))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(
            e -> {
              assertThat(e.getMessage()).startsWith("quote values that use ${VAR} inside { }");
              assertThat(e.getMessage()).contains("line 2").doesNotContain("\n");
              assertThat(e.getMessage().length()).isLessThan(260);
            });
  }

  @Test
  void configFileConnections_readsOnlyTheAcceptedOnes_soAnotherOnesUnsetVariableCannotStopIt()
      throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("c.yaml"),
            "connections:\n"
                + "  fake:a: { provider: fake, client-secret: \"${A_SECRET}\" }\n"
                + "  fake:b: { provider: fake, client-secret: \"${B_SECRET_NOT_SET}\" }\n");
    TokenBrokerBuilder only =
        TokenBroker.builder()
            .clock(clock)
            .providerFactory(factory())
            .configFile(config)
            .environment(Map.of("A_SECRET", "x"))
            .withoutKeepAlive();
    try (TokenBroker broker =
        only.configFileConnections(ConnectionId.parse("fake:a")::equals).build()) {
      assertThat(broker.connections()).containsExactly(ConnectionId.parse("fake:a"));
    }
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .providerFactory(factory())
                    .configFile(config)
                    .environment(Map.of("A_SECRET", "x"))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fake:b")
        .hasMessageContaining("B_SECRET_NOT_SET");
  }

  private TokenProviderFactory factory() {
    return new TokenProviderFactory() {
      @Override
      public String name() {
        return "fake";
      }

      @Override
      public TokenProvider create(Settings settings, ProviderContext context) {
        return provider;
      }
    };
  }
}
