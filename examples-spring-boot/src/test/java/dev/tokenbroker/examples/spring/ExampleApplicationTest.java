package dev.tokenbroker.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.TokenBroker;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/** The README's one command, in a test: the example starts on the emulators and serves its API. */
class ExampleApplicationTest {
  @Test
  void theExample_servesBothMallsAndNaver_andReportsHealth() {
    try (ConfigurableApplicationContext context =
        ExampleApplication.run("--emulators", "--server.port=0", "--server.address=127.0.0.1")) {
      String port = context.getEnvironment().getProperty("local.server.port");
      RestClient http =
          RestClient.builder()
              .baseUrl("http://127.0.0.1:" + port)
              .requestFactory(new JdkClientHttpRequestFactory())
              .build();

      assertThat(http.get().uri("/malls/first-mall/products").retrieve().body(String.class))
          .contains("products");
      assertThat(http.get().uri("/malls/second-mall/products").retrieve().body(String.class))
          .contains("products");
      assertThat(
              http.get()
                  .uri("/naver/account")
                  .retrieve()
                  .toBodilessEntity()
                  .getStatusCode()
                  .value())
          .isEqualTo(200);

      @SuppressWarnings("unchecked")
      Map<String, Object> health =
          http.get().uri("/actuator/health/tokenbroker").retrieve().body(Map.class);
      assertThat(health).containsEntry("status", "UP");
      assertThat(health.toString())
          .contains("cafe24:first-mall")
          .contains("cafe24:second-mall")
          .contains("naver:self")
          .doesNotContain("REAUTHORIZATION_REQUIRED");
      TokenBroker broker = context.getBean(TokenBroker.class);
      assertThat(health.toString())
          .doesNotContain(broker.accessToken(ExampleApplication.NAVER))
          .doesNotContain("example-secret");
    }
  }
}
