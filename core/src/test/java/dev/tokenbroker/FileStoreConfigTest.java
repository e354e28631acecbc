package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.FileTokenStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file store chosen and keyed by a configuration file, used by a broker end to end. */
class FileStoreConfigTest {
  @TempDir Path dir;

  @Test
  void brokerFromYaml_savesRenewalsEncryptedInTheFileStore() throws Exception {
    MutableClock clock = new MutableClock();
    FakeProvider provider = FakeProvider.refreshing(clock);
    byte[] key = new byte[32];
    key[0] = 42;
    Path keyFile = Files.writeString(dir.resolve("key"), Base64.getEncoder().encodeToString(key));
    Path tokens = dir.resolve("tokens");
    ConnectionId id = ConnectionId.parse("fake:mall");
    FileTokenStore seeding =
        FileTokenStore.builder(tokens).encryption(EncryptionKeys.of(key)).build();
    TokenSet seeded = seeding.put(id, provider.seed());
    Path config =
        Files.writeString(
            dir.resolve("tokenbroker.yaml"),
            "store:\n"
                + "  type: file\n"
                + "  path: "
                + tokens
                + "\n"
                + "  key-file: "
                + keyFile
                + "\n"
                + "connections:\n"
                + "  fake:mall: { provider: fake }\n");
    TokenProviderFactory factory = factoryOf(provider);

    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .providerFactory(factory)
            .configFile(config)
            .environment(Map.of())
            .build()) {
      assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
      TokenSet renewed = broker.refresh(id);

      TokenSet stored = seeding.load(id);
      assertThat(stored.version()).isEqualTo(2);
      assertThat(stored.accessToken()).isEqualTo(renewed.accessToken());
      String onDisk =
          new String(
              Files.readAllBytes(tokens.resolve(FileTokenStore.baseName(id) + ".tokens")),
              StandardCharsets.UTF_8);
      assertThat(onDisk)
          .doesNotContain(renewed.accessToken())
          .doesNotContain(renewed.refreshToken())
          .contains("\"alg\":\"A256GCM\"");
    }
  }

  @Test
  void keyEnvIsReadFromTheBrokersEnvironmentNotTheProcess() throws Exception {
    MutableClock clock = new MutableClock();
    FakeProvider provider = FakeProvider.refreshing(clock);
    byte[] key = new byte[32];
    key[0] = 7;
    Path tokens = dir.resolve("tokens");
    ConnectionId id = ConnectionId.parse("fake:mall");
    TokenSet seeded =
        FileTokenStore.builder(tokens)
            .encryption(EncryptionKeys.of(key))
            .build()
            .put(id, provider.seed());
    // A variable no process environment has: only Builder.environment can supply it.
    String variable = "TOKENBROKER_TEST_KEY_" + Long.toHexString(System.nanoTime());
    Path config =
        Files.writeString(
            dir.resolve("tokenbroker.yaml"),
            "store:\n"
                + "  type: file\n"
                + "  path: "
                + tokens
                + "\n"
                + "  key-env: "
                + variable
                + "\n"
                + "connections:\n"
                + "  fake:mall: { provider: fake }\n");
    TokenProviderFactory factory = factoryOf(provider);

    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .providerFactory(factory)
            .configFile(config)
            .environment(Map.of(variable, Base64.getEncoder().encodeToString(key)))
            .build()) {
      assertThat(broker.accessToken(id)).isEqualTo(seeded.accessToken());
    }
  }

  /** A factory named {@code fake} that hands out {@code provider}. */
  private static TokenProviderFactory factoryOf(TokenProvider provider) {
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
