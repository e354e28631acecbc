package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {
  @TempDir Path dir;
  private final MutableClock clock = new MutableClock();
  private final Map<ConnectionId, Settings> seen = new ConcurrentHashMap<>();

  /** A factory that requires client-id and records the settings it was given. */
  private final TokenProviderFactory factory =
      new TokenProviderFactory() {
        @Override
        public String name() {
          return "fake";
        }

        @Override
        public TokenProvider create(Settings settings, ProviderContext context) {
          settings.require("client-id");
          settings.rejectUnknown(List.of("client-id", "client-secret", "mall-id", "scopes"));
          seen.put(settings.connection(), settings);
          return FakeProvider.refreshing(context.clock());
        }
      };

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  private TokenBroker build(Path config, Map<String, String> env) {
    return TokenBroker.builder()
        .clock(clock)
        .providerFactory(factory)
        .configFile(config)
        .environment(env)
        .build();
  }

  @Test
  void yaml_withSharedAppAndEnvironmentSecrets() throws IOException {
    Path config =
        write(
            "tokenbroker.yaml",
            "apps:\n"
                + "  shared:\n"
                + "    provider: fake\n"
                + "    client-id: app-1\n"
                + "    client-secret: ${FAKE_SECRET}\n"
                + "    scopes: [mall.read_product, mall.read_order]\n"
                + "connections:\n"
                + "  fake:mall-a: { app: shared, mall-id: mall-a }\n"
                + "  fake:mall-b: { app: shared, mall-id: mall-b, client-id: '${OTHER_ID:-app-2}' }\n");
    try (TokenBroker broker = build(config, Map.of("FAKE_SECRET", "s3cr3t"))) {
      assertThat(broker.connections())
          .containsExactly(ConnectionId.parse("fake:mall-a"), ConnectionId.parse("fake:mall-b"));
    }
    Settings a = seen.get(ConnectionId.parse("fake:mall-a"));
    assertThat(a.require("client-secret")).isEqualTo("s3cr3t");
    assertThat(a.require("mall-id")).isEqualTo("mall-a");
    assertThat(a.list("scopes")).containsExactly("mall.read_product", "mall.read_order");
    assertThat(seen.get(ConnectionId.parse("fake:mall-b")).require("client-id")).isEqualTo("app-2");
  }

  @Test
  void properties_withEscapedColonAndCommaLists() throws IOException {
    Path config =
        write(
            "tokenbroker.properties",
            "connections.fake\\:mall-a.client-id=app-1\n"
                + "connections.fake\\:mall-a.scopes=a, b\n"
                + "store.type=memory\n");
    try (TokenBroker broker = build(config, Map.of())) {
      assertThat(broker.connections()).containsExactly(ConnectionId.parse("fake:mall-a"));
    }
    assertThat(seen.get(ConnectionId.parse("fake:mall-a")).list("scopes"))
        .containsExactly("a", "b");
  }

  @Test
  void unquotedVariableInFlowMapping_isExplained() throws IOException {
    Path config = write("c.yaml", "connections:\n  fake:a: { client-id: ${ID} }\n");
    assertThatThrownBy(() -> build(config, Map.of("ID", "x")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("quote values that use ${VAR}");
    Path quoted = write("d.yaml", "connections:\n  fake:a: { client-id: \"${ID}\" }\n");
    build(quoted, Map.of("ID", "x")).close();
    assertThat(seen.get(ConnectionId.parse("fake:a")).require("client-id")).isEqualTo("x");
  }

  @Test
  void unresolvedVariable_namesConnectionSettingAndVariable() throws IOException {
    Path config =
        write(
            "c.yaml",
            "connections:\n  fake:mall-a:\n    client-id: x\n    client-secret: ${MISSING_SECRET}\n");
    assertThatThrownBy(() -> build(config, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fake:mall-a")
        .hasMessageContaining("client-secret")
        .hasMessageContaining("MISSING_SECRET")
        .satisfies(
            e -> assertThat(((ConfigurationException) e).setting()).isEqualTo("client-secret"));
  }

  @Test
  void unknownProvider_namesConnectionAndListsAvailableOnes() throws IOException {
    Path config = write("c.yaml", "connections:\n  coupang:main:\n    client-id: x\n");
    assertThatThrownBy(() -> build(config, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("coupang:main")
        .hasMessageContaining("setting 'provider'")
        .hasMessageContaining("unknown provider 'coupang'")
        .hasMessageContaining("fake");
  }

  /** Two factory classes that both call themselves "twin" (found by ServiceLoader below). */
  public static class TwinA implements TokenProviderFactory {
    @Override
    public String name() {
      return "twin";
    }

    @Override
    public TokenProvider create(Settings settings, ProviderContext context) {
      return new ForwardingProvider(FakeProvider.refreshing(context.clock())) {
        @Override
        public String name() {
          return "twin";
        }
      };
    }
  }

  /** The other "twin". */
  public static class TwinB extends TwinA {}

  @Test
  void twoFactoriesOnTheClassPathWithOneName_areRefusedWhereUsed_unlessOneIsRegisteredInCode()
      throws IOException {
    Path services = dir.resolve("cp/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(
        services.resolve(TokenProviderFactory.class.getName()),
        TwinA.class.getName() + "\n" + TwinB.class.getName() + "\n");
    ClassLoader loader =
        new java.net.URLClassLoader(
            new java.net.URL[] {dir.resolve("cp").toUri().toURL()}, getClass().getClassLoader());
    Path config = write("c.yaml", "connections:\n  twin:main: {}\n");

    assertThatThrownBy(
            () -> TokenBroker.builder().clock(clock).classLoader(loader).configFile(config).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("twin:main")
        .hasMessageContaining("more than one factory")
        .hasMessageContaining(TwinA.class.getName())
        .hasMessageContaining(TwinB.class.getName());
    try (TokenBroker chosen =
        TokenBroker.builder()
            .clock(clock)
            .classLoader(loader)
            .providerFactory(new TwinB())
            .configFile(config)
            .withoutKeepAlive()
            .build()) {
      assertThat(chosen.connections()).extracting(Object::toString).contains("twin:main");
    }
  }

  @Test
  void missingSetting_namesConnectionAndSetting() throws IOException {
    Path config = write("c.yaml", "connections:\n  fake:mall-a:\n    mall-id: m\n");
    assertThatThrownBy(() -> build(config, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("connection fake:mall-a: setting 'client-id': is required");
  }

  @Test
  void misspelledSetting_isReportedInsteadOfIgnored() throws IOException {
    Path config =
        write("c.yaml", "connections:\n  fake:mall-a:\n    client-id: x\n    client_secret: y\n");
    assertThatThrownBy(() -> build(config, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'client_secret': is not a known setting");
  }

  @Test
  void unknownApp_unknownSection_badYaml_areReported() throws IOException {
    assertThatThrownBy(
            () -> build(write("a.yaml", "connections:\n  fake:a: { app: nope }\n"), Map.of()))
        .hasMessageContaining("fake:a")
        .hasMessageContaining("setting 'app'");
    assertThatThrownBy(() -> build(write("b.yaml", "conections:\n  fake:a: {}\n"), Map.of()))
        .hasMessageContaining("conections");
    assertThatThrownBy(() -> build(write("c.yaml", "connections: [\n"), Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> build(write("d.yaml", "store:\n  type: nosql\n"), Map.of()))
        .hasMessageContaining("unknown store type 'nosql'");
  }

  @Test
  void builderOptionSetTwice_isRejectedByName() {
    assertThatThrownBy(() -> TokenBroker.builder().clock(clock).clock(clock))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clock was already set");
    ConnectionId id = ConnectionId.parse("fake:a");
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .connection(id, FakeProvider.refreshing(clock))
                    .connection(id, FakeProvider.refreshing(clock)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("configured twice");
    assertThatThrownBy(
            () -> TokenBroker.builder().backoff(Duration.ofMinutes(1), Duration.ofSeconds(1)))
        .hasMessageContaining("backoff max");
  }

  @Test
  void providerOfAnotherPlatform_cannotServeTheConnection() {
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .connection(ConnectionId.parse("naver:self"), FakeProvider.refreshing(clock))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("naver:self");
  }

  @Test
  void settings_durationsUrlsAndBooleans() {
    Settings s =
        new Settings(
            ConnectionId.parse("fake:a"),
            Map.of(
                "a",
                "5m",
                "b",
                "PT30S",
                "c",
                "300",
                "d",
                "14d",
                "u",
                "http://localhost:8080",
                "v",
                "http://example.com",
                "f",
                "yes"));
    assertThat(s.duration("a", Duration.ZERO)).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.duration("b", Duration.ZERO)).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.duration("c", Duration.ZERO)).isEqualTo(Duration.ofSeconds(300));
    assertThat(s.duration("d", Duration.ZERO)).isEqualTo(Duration.ofDays(14));
    assertThat(s.url("u", "https://x").toString()).isEqualTo("http://localhost:8080/");
    assertThatThrownBy(() -> s.url("v", "https://x")).hasMessageContaining("must use https");
    assertThat(s.bool("f", false)).isTrue();
    assertThatThrownBy(() -> s.duration("f", Duration.ZERO)).hasMessageContaining("setting 'f'");
  }
}
