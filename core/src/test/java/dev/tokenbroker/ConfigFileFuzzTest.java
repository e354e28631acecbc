package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.fuzz.Bounded;
import dev.tokenbroker.fuzz.Mutations;
import dev.tokenbroker.spi.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the configuration loader: YAML and properties files, mutated everywhere but on the line
 * holding a literal client secret. Loading gives a configuration or a {@link
 * ConfigurationException} within a bounded time, never another exception; no message repeats the
 * secret; and every setting read through {@link Settings}' typed getters gives a value or a {@link
 * ConfigurationException}.
 */
class ConfigFileFuzzTest {
  static final String SECRET = "S3CRETliteral-9x8y7z";
  static final String SECRET_LINE_YAML = "    client-secret: " + SECRET + "\n";
  static final String SECRET_LINE_PROPS = "apps.my-app.client-secret=" + SECRET + "\n";

  static final List<String> YAML =
      List.of(
          "store:\n  type: file\n  path: /var/lib/tb\napps:\n  my-app:\n    provider: cafe24\n",
          "    client-id: ${CLIENT_ID:-abc}\n    renew-before: 5m\nconnections:\n"
              + "  cafe24:mall-a: { app: my-app, mall-id: mall-a, scopes: [mall.read_product] }\n"
              + "  naver:self:\n    provider: naver\n    timeout: PT30S\n    pool-size: 4\n");
  static final List<String> PROPS =
      List.of(
          "store.type=memory\napps.my-app.provider=cafe24\n",
          "apps.my-app.renew-before=14d\nconnections.cafe24\\:mall-a.app=my-app\n"
              + "connections.cafe24\\:mall-a.mall-id=mall-a\nconnections.cafe24\\:mall-a.scopes=a,b\n");

  static Path dir;

  @BeforeContainer
  static void createDir() throws IOException {
    dir = Files.createTempDirectory("tokenbroker-config-fuzz");
  }

  @AfterContainer
  static void deleteDir() throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Provide
  Arbitrary<String> yamlFiles() {
    return Arbitraries.randoms()
        .map(r -> mutate(YAML.get(0), r) + SECRET_LINE_YAML + mutate(YAML.get(1), r));
  }

  @Provide
  Arbitrary<String> propertiesFiles() {
    return Arbitraries.randoms()
        .map(r -> mutate(PROPS.get(0), r) + SECRET_LINE_PROPS + mutate(PROPS.get(1), r));
  }

  private static String mutate(String seed, Random r) {
    return r.nextInt(3) == 0 ? seed : Mutations.mutate(seed, r);
  }

  @Property(tries = 250)
  void yaml_loadsOrFailsTyped_neverQuotingTheSecret(@ForAll("yamlFiles") String text)
      throws IOException {
    check("broker.yaml", text);
  }

  @Property(tries = 250)
  void properties_loadOrFailTyped_neverQuotingTheSecret(@ForAll("propertiesFiles") String text)
      throws IOException {
    check("broker.properties", text);
  }

  private static void check(String name, String text) throws IOException {
    Bounded.Outcome<Object> o =
        Bounded.run(
            () -> {
              loadAndRead(name, text);
              return null;
            });
    if (o.thrown != null) {
      throw new AssertionError("untyped failure: " + o.thrown, o.thrown);
    }
  }

  private static void loadAndRead(String name, String text) throws IOException {
    Path file = Files.createTempDirectory(dir, "c").resolve(name);
    Files.write(file, text.getBytes(StandardCharsets.UTF_8));
    Map<String, String> env = Map.of("CLIENT_ID", "id-from-env");
    ConfigFile config;
    try {
      config = ConfigFile.load(file, env);
    } catch (ConfigurationException e) {
      assertThat(e.getMessage()).doesNotContain(SECRET);
      return;
    }
    for (Map.Entry<ConnectionId, Map<String, Object>> c : config.connections().entrySet()) {
      readEverySetting(new Settings(c.getKey(), c.getValue()));
    }
    if (config.store() != null) {
      readEverySetting(new Settings(null, config.store()));
    }
  }

  private static void readEverySetting(Settings s) {
    for (String key : s.asMap().keySet()) {
      for (java.util.function.Supplier<?> getter :
          List.<java.util.function.Supplier<?>>of(
              () -> s.optional(key),
              () -> s.list(key),
              () -> s.duration(key, Duration.ZERO),
              () -> s.integer(key, 0),
              () -> s.bool(key, false),
              () -> s.url(key, "https://example.com"),
              () -> s.redirectUri(key, String.valueOf(s.asMap().get(key))))) {
        Bounded.Outcome<Object> o = Bounded.valueOrTyped(ConfigurationException.class, getter::get);
        if (o.thrown != null) {
          assertThat(o.thrown.getMessage()).doesNotContain(SECRET).contains("setting '" + key);
        }
      }
    }
  }
}
