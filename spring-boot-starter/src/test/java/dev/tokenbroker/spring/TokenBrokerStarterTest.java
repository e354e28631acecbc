package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * A Spring Boot application with two Cafe24 malls and Naver, configured only by tokenbroker.*
 * properties, against the testkit emulators on random loopback ports, on a real web server (random
 * port) for Actuator. Time is the emulators' fake clock, shared with the broker.
 */
@SpringBootTest(
    classes = TokenBrokerStarterTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "management.endpoints.web.exposure.include=health,tokenbroker",
      "management.endpoint.health.show-details=always",
      "tokenbroker.metrics.expiry-gauges=naver:self",
      "tokenbroker.keep-alive.enabled=false"
    })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TokenBrokerStarterTest {
  static final TestEmulators EMULATORS = new TestEmulators();
  static final ConnectionId MALL_A = ConnectionId.parse("cafe24:mall-a");
  static final ConnectionId MALL_B = ConnectionId.parse("cafe24:mall-b");
  static final ConnectionId NAVER = ConnectionId.parse("naver:self");

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    final List<Object> events = new CopyOnWriteArrayList<>();

    @Bean(TokenBrokerAutoConfiguration.CLOCK_BEAN)
    Clock tokenBrokerClock() {
      return EMULATORS.clock;
    }

    @EventListener
    void onReauthorization(ConnectionReauthorizationRequiredEvent e) {
      events.add(e);
    }

    @EventListener
    void onRecovery(ConnectionRecoveredEvent e) {
      events.add(e);
    }
  }

  @DynamicPropertySource
  static void emulators(DynamicPropertyRegistry r) {
    EMULATORS.register(r);
  }

  @AfterAll
  static void stopEmulators() {
    EMULATORS.close();
  }

  @Autowired TokenBroker broker;
  @Autowired TokenBrokerProperties properties;
  @Autowired MeterRegistry meters;
  @Autowired App app;
  @LocalServerPort int port;

  private void authorize(ConnectionId mall) {
    AuthorizationRequest request = broker.startAuthorization(mall);
    broker.completeAuthorization(mall, EMULATORS.cafe24.approve(request.url()));
  }

  private RestClient actuator() {
    return RestClient.builder()
        .baseUrl("http://127.0.0.1:" + port + "/actuator")
        .requestFactory(new JdkClientHttpRequestFactory())
        .build();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> json(String path) {
    return actuator()
        .get()
        .uri(path)
        .retrieve()
        .onStatus(s -> true, (req, res) -> {})
        .body(Map.class);
  }

  @Test
  @Order(1)
  void properties_bind_inTheShapeOfTokenbrokerYaml_withListsAndBracketedIds() {
    assertThat(broker.connections()).containsExactly(MALL_A, MALL_B, NAVER);
    assertThat(properties.getApps().get("shop-app")).containsEntry("provider", "cafe24");
    Map<String, Object> mallA =
        SettingsTree.connections(properties.getConnections(), properties.getApps()).get(MALL_A);
    assertThat(mallA)
        .containsEntry("client-secret", TestEmulators.CAFE24_SECRET) // resolved from elsewhere
        .containsEntry("scopes", List.of("mall.read_product"))
        .containsEntry("mall-id", "mall-a");
    assertThat(broker.provider(MALL_A).name()).isEqualTo("cafe24");
    assertThat(broker.health(MALL_A).reasonCode()).isEqualTo("not-authorized");
  }

  @Test
  @Order(2)
  void restClient_carriesAToken_andRecoversFromOne401() {
    RestClient naver =
        RestClient.builder()
            .baseUrl(EMULATORS.naver.baseUrl())
            .requestFactory(new JdkClientHttpRequestFactory())
            .requestInterceptor(TokenBrokerRestInterceptor.of(broker, NAVER))
            .build();
    assertThat(
            naver
                .get()
                .uri(NaverEmulator.ACCOUNT_PATH)
                .retrieve()
                .toBodilessEntity()
                .getStatusCode()
                .value())
        .isEqualTo(200);
    String first = broker.accessToken(NAVER);
    int issued = EMULATORS.naver.issuedTokens();
    int rejected = EMULATORS.naver.rejectedApiRequests();

    EMULATORS.naver.invalidateAllTokens(); // the platform drops the token the broker holds

    assertThat(
            naver
                .get()
                .uri(NaverEmulator.ACCOUNT_PATH)
                .retrieve()
                .toBodilessEntity()
                .getStatusCode()
                .value())
        .isEqualTo(200);
    assertThat(EMULATORS.naver.rejectedApiRequests()).as("one 401").isEqualTo(rejected + 1);
    assertThat(EMULATORS.naver.issuedTokens()).as("one renewal").isEqualTo(issued + 1);
    assertThat(broker.accessToken(NAVER)).isNotEqualTo(first);
    assertThat(EMULATORS.naver.isValid(broker.accessToken(NAVER))).isTrue();
  }

  @Test
  @Order(3)
  void webClient_carriesAToken_andRecoversFromOne401_withoutBlocking() {
    WebClient naver =
        WebClient.builder()
            .baseUrl(EMULATORS.naver.baseUrl())
            .filter(TokenBrokerExchangeFilter.of(broker, NAVER))
            .build();
    int issued = EMULATORS.naver.issuedTokens();
    int rejected = EMULATORS.naver.rejectedApiRequests();
    EMULATORS.naver.invalidateAllTokens();

    Integer status =
        naver
            .get()
            .uri(NaverEmulator.ACCOUNT_PATH)
            .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()))
            .block(Duration.ofSeconds(30));

    assertThat(status).isEqualTo(200);
    assertThat(EMULATORS.naver.rejectedApiRequests()).as("one 401").isEqualTo(rejected + 1);
    assertThat(EMULATORS.naver.issuedTokens()).as("one renewal").isEqualTo(issued + 1);
    assertThat(EMULATORS.naver.isValid(broker.accessToken(NAVER))).isTrue();
  }

  @Test
  @Order(4)
  void cafe24_restClientAndWebClient_carryTheMallsToken() {
    authorize(MALL_A);
    int calls = EMULATORS.cafe24.apiCalls();
    RestClient rest =
        RestClient.builder()
            .baseUrl(EMULATORS.cafe24.mallBaseUrl("mall-a"))
            .requestFactory(new JdkClientHttpRequestFactory())
            .requestInterceptor(TokenBrokerRestInterceptor.of(broker, MALL_A))
            .build();
    WebClient web =
        WebClient.builder()
            .baseUrl(EMULATORS.cafe24.mallBaseUrl("mall-a"))
            .filter(TokenBrokerExchangeFilter.of(broker, MALL_A))
            .build();
    String path = "/api/v2/admin/products";
    assertThat(rest.get().uri(path).retrieve().toBodilessEntity().getStatusCode().value())
        .isEqualTo(200);
    assertThat(
            web.get()
                .uri(path)
                .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()))
                .block(Duration.ofSeconds(30)))
        .isEqualTo(200);
    assertThat(EMULATORS.cafe24.apiCalls()).isEqualTo(calls + 2);
    assertThat(app.events)
        .as("a first authorization is no recovery")
        .noneMatch(ConnectionRecoveredEvent.class::isInstance);
  }

  @Test
  @Order(5)
  void healthAndMetrics_followAConnectionToDegradedAndToReauthorizationRequired() {
    authorize(MALL_B);
    Map<String, Object> health = json("/health/tokenbroker");
    assertThat(health).containsEntry("status", "UP");
    assertThat(details(health, MALL_B)).containsEntry("state", "ACTIVE");
    assertThat(gauge("active")).isEqualTo(3);

    // DEGRADED: the token endpoint fails for a while
    String tokenPath = EMULATORS.cafe24.tokenPath("mall-b");
    EMULATORS.cafe24.inject(tokenPath, Fault.json(503, "{\"error\":\"server_error\"}"));
    assertThatThrownBy(() -> broker.refresh(MALL_B)).isInstanceOf(TokenUnavailableException.class);
    assertThat(broker.health(MALL_B).state()).isEqualTo(Health.State.DEGRADED);
    health = json("/health/tokenbroker");
    assertThat(health).containsEntry("status", "UP"); // a valid token is still served
    assertThat(details(health, MALL_B))
        .containsEntry("state", "DEGRADED")
        .containsEntry("reasonCode", "transient");
    assertThat(gauge("degraded")).isEqualTo(1);
    assertThat(counter("tokenbroker.renewal.failures", "kind", "transient")).isEqualTo(1);

    // REAUTHORIZATION_REQUIRED: the platform refuses the refresh token
    EMULATORS.clock.advance(Duration.ofMinutes(10)); // past the backoff
    EMULATORS.cafe24.inject(
        tokenPath,
        Fault.json(
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"Validation failed on"
                + " refresh_token\"}"));
    assertThatThrownBy(() -> broker.refresh(MALL_B))
        .isInstanceOf(ReauthorizationRequiredException.class);
    health = json("/health/tokenbroker");
    assertThat(health)
        .as("one connection needing a person does not take the service down (down-when: all)")
        .containsEntry("status", "UP");
    assertThat(details(health, MALL_B))
        .containsEntry("state", "REAUTHORIZATION_REQUIRED")
        .containsEntry("reasonCode", "refresh-token-rejected");
    assertThat(gauge("reauthorization-required")).isEqualTo(1);
    assertThat(gauge("degraded")).isZero();
    assertThat(counter("tokenbroker.renewal.failures", "kind", "permanent")).isEqualTo(1);
    assertThat(counter("tokenbroker.reauthorization.required", "provider", "cafe24")).isEqualTo(1);
    assertThat(app.events)
        .filteredOn(ConnectionReauthorizationRequiredEvent.class::isInstance)
        .singleElement()
        .satisfies(
            e -> {
              ConnectionReauthorizationRequiredEvent r = (ConnectionReauthorizationRequiredEvent) e;
              assertThat(r.connection()).isEqualTo(MALL_B);
              assertThat(r.reasonCode()).isEqualTo("refresh-token-rejected");
            });

    // the endpoint lists every connection, without tokens
    Map<String, Object> endpoint = json("/tokenbroker");
    @SuppressWarnings("unchecked")
    Map<String, Object> connections = (Map<String, Object>) endpoint.get("connections");
    assertThat(connections).containsOnlyKeys("cafe24:mall-a", "cafe24:mall-b", "naver:self");
    String body = endpoint.toString() + health;
    assertThat(body)
        .doesNotContain(broker.accessToken(NAVER))
        .doesNotContain(broker.accessToken(MALL_A))
        .doesNotContain(TestEmulators.CAFE24_SECRET)
        .doesNotContain(TestEmulators.NAVER_SECRET);
    assertThat(json("/tokenbroker/cafe24:mall-b"))
        .containsEntry("state", "REAUTHORIZATION_REQUIRED");

    // recovery: a new authorization; one recovered event
    authorize(MALL_B);
    assertThat(json("/health/tokenbroker").toString()).doesNotContain("REAUTHORIZATION_REQUIRED");
    assertThat(gauge("active")).isEqualTo(3);
    assertThat(app.events)
        .filteredOn(ConnectionRecoveredEvent.class::isInstance)
        .singleElement()
        .satisfies(
            e -> {
              ConnectionRecoveredEvent r = (ConnectionRecoveredEvent) e;
              assertThat(r.connection()).isEqualTo(MALL_B);
              assertThat(r.message()).contains("REAUTHORIZATION_REQUIRED");
            });
  }

  @Test
  @Order(6)
  void metrics_countRenewalsPerProvider_timeTheTokenEndpoint_andPublishOptInExpiryGauges() {
    assertThat(counter("tokenbroker.renewals", "provider", "naver", "outcome", "success"))
        .isGreaterThanOrEqualTo(2);
    assertThat(
            meters
                .find("tokenbroker.token.requests")
                .tags("provider", "naver", "grant", "client-credentials", "outcome", "success")
                .timer()
                .count())
        .isGreaterThanOrEqualTo(3);
    assertThat(meters.find("tokenbroker.access.expiry").tag("connection", "naver:self").gauge())
        .isNotNull();
    assertThat(meters.find("tokenbroker.access.expiry").tag("connection", "cafe24:mall-a").gauge())
        .as("expiry gauges only where asked for")
        .isNull();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> details(Map<String, Object> health, ConnectionId id) {
    Map<String, Object> d = (Map<String, Object>) health.get("details");
    return (Map<String, Object>) ((Map<String, Object>) d.get("connections")).get(id.toString());
  }

  private double gauge(String state) {
    return meters.find("tokenbroker.connections").tag("state", state).gauge().value();
  }

  private double counter(String name, String... tags) {
    var c = meters.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }
}
