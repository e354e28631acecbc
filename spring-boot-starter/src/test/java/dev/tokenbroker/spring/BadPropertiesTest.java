package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConfigurationException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;

/** Bad tokenbroker.* properties fail start-up, naming the connection and the setting. */
class BadPropertiesTest {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
          .withPropertyValues("tokenbroker.keep-alive.enabled=false");

  /**
   * Properties as the application's own property source: withPropertyValues would split a bracketed
   * connection id at its colon.
   */
  private ApplicationContextRunner with(String... keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (String kv : keyValues) {
      int eq = kv.indexOf('=');
      map.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return runner.withInitializer(
        context ->
            context
                .getEnvironment()
                .getPropertySources()
                .addFirst(new MapPropertySource("test", map)));
  }

  private static ConfigurationException configurationFailure(Throwable startup) {
    for (Throwable t = startup; t != null; t = t.getCause()) {
      if (t instanceof ConfigurationException) {
        return (ConfigurationException) t;
      }
    }
    throw new AssertionError("start-up failed without a ConfigurationException", startup);
  }

  @Test
  void missingMallId_failsStartUp_namingTheConnectionAndTheSetting() {
    with(
            "tokenbroker.connections.[cafe24:shop].client-id=id",
            "tokenbroker.connections.[cafe24:shop].client-secret=a-secret-never-shown",
            "tokenbroker.connections.[cafe24:shop].redirect-uri=https://example.com/cb")
        .run(
            context -> {
              assertThat(context).hasFailed();
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.connection()).hasToString("cafe24:shop");
              assertThat(e.setting()).isEqualTo("mall-id");
              assertThat(e.getMessage())
                  .contains("cafe24:shop")
                  .contains("mall-id")
                  .doesNotContain("a-secret-never-shown");
            });
  }

  @Test
  void malformedNaverSecret_failsStartUp_withoutShowingIt() {
    with(
            "tokenbroker.connections.[naver:self].client-id=id",
            "tokenbroker.connections.[naver:self].client-secret=not-a-bcrypt-salt-secret")
        .run(
            context -> {
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.connection()).hasToString("naver:self");
              assertThat(e.setting()).isEqualTo("client-secret");
              assertThat(e.getMessage()).doesNotContain("not-a-bcrypt-salt-secret");
            });
  }

  @Test
  void unknownApp_failsStartUp_namingTheConnectionAndApp() {
    with("tokenbroker.connections.[cafe24:shop].app=nope")
        .run(
            context -> {
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.connection()).hasToString("cafe24:shop");
              assertThat(e.setting()).isEqualTo("app");
              assertThat(e.getMessage()).contains("nope");
            });
  }

  @Test
  void connectionIdWithoutBrackets_failsStartUp_sayingHowToWriteIt() {
    with("tokenbroker.connections.cafe24:shop.mall-id=shop")
        .run(
            context -> {
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.setting()).isEqualTo("tokenbroker.connections.cafe24shop");
              assertThat(e.getMessage()).contains("[cafe24:mymall]");
            });
  }

  @Test
  void typoInASetting_failsStartUp_namingIt() {
    with(
            "tokenbroker.connections.[naver:self].client-id=id",
            "tokenbroker.connections.[naver:self].client-secret=$2a$04$abcdefghijklmnopqrstuv",
            "tokenbroker.connections.[naver:self].client_idd=oops")
        .run(
            context -> {
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.connection()).hasToString("naver:self");
              assertThat(e.getMessage()).contains("client_idd");
            });
  }

  @Test
  void unknownStoreType_failsStartUp_namingTheSetting() {
    with("tokenbroker.store.type=cassandra")
        .run(
            context -> {
              ConfigurationException e = configurationFailure(context.getStartupFailure());
              assertThat(e.setting()).isEqualTo("tokenbroker.store.type");
              assertThat(e.getMessage()).contains("cassandra");
            });
  }

  @Test
  void misspelledSection_failsStartUp_insteadOfBeingIgnored() {
    with("tokenbroker.conections.[naver:self].client-id=id")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure()).hasStackTraceContaining("conections");
            });
  }

  @Test
  void disabled_createsNoBroker() {
    with("tokenbroker.enabled=false", "tokenbroker.connections.[cafe24:shop].app=nope")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(dev.tokenbroker.TokenBroker.class);
            });
  }

  @Test
  void failureAnalysis_namesTheConnectionAndTheSetting() {
    ConfigurationException cause =
        new ConfigurationException(
            dev.tokenbroker.ConnectionId.parse("cafe24:shop"), "mall-id", "is required");
    var analysis =
        new TokenBrokerFailureAnalyzer().analyze(new IllegalStateException("wrapped", cause));
    assertThat(analysis.getDescription()).contains("cafe24:shop").contains("mall-id");
    assertThat(analysis.getAction()).contains("tokenbroker.connections.\"[cafe24:shop]\"");
  }

  @Test
  void configurationMetadata_isGenerated_forIdeCompletion() throws Exception {
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).isNotNull();
      String json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(json)
          .contains("\"tokenbroker.connections\"")
          .contains("\"tokenbroker.store\"")
          .contains("\"tokenbroker.health.down-when\"")
          .contains("\"tokenbroker.callback.path\"")
          .contains("tokenbroker.connections.values"); // the hints
    }
  }
}
