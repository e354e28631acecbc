package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.MapPropertySource;

/**
 * The OAuth callback endpoint completes an authorization started on another application instance
 * sharing the store: instance A starts it, the shop owner approves, the browser lands on instance B
 * (a WebFlux application on a random port, callback path configured).
 */
class CallbackEndpointTest {
  private static final ConnectionId MALL = ConnectionId.parse("cafe24:mall-a");
  static TestEmulators emulators;
  static InMemoryTokenStore shared;

  @AfterEach
  void stop() {
    emulators.close();
  }

  /** Instance B: a web application. */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class WebApp {
    @Bean(TokenBrokerAutoConfiguration.CLOCK_BEAN)
    Clock tokenBrokerClock() {
      return emulators.clock;
    }

    @Bean
    TokenStore sharedStore() {
      return shared;
    }
  }

  private Map<String, Object> properties() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("tokenbroker.keep-alive.enabled", "false");
    p.put("tokenbroker.callback.path", "/oauth/cafe24");
    p.put("tokenbroker.connections.[cafe24:mall-a].client-id", TestEmulators.CAFE24_CLIENT);
    p.put("tokenbroker.connections.[cafe24:mall-a].client-secret", TestEmulators.CAFE24_SECRET);
    p.put("tokenbroker.connections.[cafe24:mall-a].redirect-uri", TestEmulators.REDIRECT);
    p.put("tokenbroker.connections.[cafe24:mall-a].mall-id", "mall-a");
    p.put("tokenbroker.connections.[cafe24:mall-a].scopes", "mall.read_product");
    p.put("tokenbroker.connections.[cafe24:mall-a].base-url", emulators.cafe24.baseUrlTemplate());
    return p;
  }

  private static HttpResponse<String> get(String url) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void callback_completesAnAuthorizationStartedOnAnotherInstance() throws Exception {
    emulators = new TestEmulators();
    shared = new InMemoryTokenStore(emulators.clock);
    Map<String, Object> props = properties();
    try (ConfigurableApplicationContext b =
        new SpringApplicationBuilder(WebApp.class)
            .web(WebApplicationType.REACTIVE)
            .initializers(
                c ->
                    c.getEnvironment()
                        .getPropertySources()
                        .addFirst(new MapPropertySource("t", props)))
            .properties("server.port=0", "server.address=127.0.0.1")
            .run()) {
      String base = "http://127.0.0.1:" + b.getEnvironment().getProperty("local.server.port");
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
          .withInitializer(
              c ->
                  c.getEnvironment()
                      .getPropertySources()
                      .addFirst(new MapPropertySource("t", props)))
          .withBean(TokenBrokerAutoConfiguration.CLOCK_BEAN, Clock.class, () -> emulators.clock)
          .withBean(TokenStore.class, () -> shared)
          .run(
              a -> {
                TokenBroker brokerA = a.getBean(TokenBroker.class);
                AuthorizationRequest request = brokerA.startAuthorization(MALL); // on A
                URI redirected = URI.create(emulators.cafe24.approve(request.url()));
                String code = EmulatorQuery.param(redirected, "code");

                HttpResponse<String> answer =
                    get(base + "/oauth/cafe24?" + redirected.getRawQuery()); // lands on B

                assertThat(answer.statusCode()).isEqualTo(200);
                assertThat(answer.body()).contains("cafe24:mall-a").doesNotContain(code);
                assertThat(emulators.cafe24.codeExchanges()).isEqualTo(1);
                assertThat(brokerA.health(MALL).state()).isEqualTo(Health.State.ACTIVE);
                assertThat(emulators.cafe24.isAccessTokenValid(brokerA.accessToken(MALL)))
                    .as("A serves the token B obtained, from the shared store")
                    .isTrue();

                // the same redirect again (a reload, a replay): refused, nothing exchanged
                HttpResponse<String> replay =
                    get(base + "/oauth/cafe24?" + redirected.getRawQuery());
                assertThat(replay.statusCode()).isEqualTo(400);
                assertThat(replay.body()).doesNotContain(code);
                assertThat(emulators.cafe24.codeExchanges()).isEqualTo(1);
              });
    }
  }

  /** Reads one query parameter of a redirect. */
  static final class EmulatorQuery {
    private EmulatorQuery() {}

    static String param(URI uri, String name) {
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0 && pair.substring(0, eq).equals(name)) {
          return java.net.URLDecoder.decode(
              pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
        }
      }
      throw new AssertionError("no " + name + " in the redirect");
    }
  }
}
