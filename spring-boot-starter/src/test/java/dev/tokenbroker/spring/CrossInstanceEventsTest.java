package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.Fault;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.MapPropertySource;

/**
 * Two application instances sharing one store: a connection that needs re-authorization is
 * announced once across both, by the instance whose write moved the shared health record.
 */
class CrossInstanceEventsTest {
  private static final ConnectionId MALL = ConnectionId.parse("cafe24:mall-a");
  private final TestEmulators emulators = new TestEmulators();
  private final InMemoryTokenStore shared = new InMemoryTokenStore(emulators.clock);

  @AfterEach
  void stop() {
    emulators.close();
  }

  private ApplicationContextRunner instance(String name, List<Object> events) {
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("tokenbroker.keep-alive.enabled", "false");
    props.put("tokenbroker.instance-id", name);
    props.put("tokenbroker.connections.[cafe24:mall-a].client-id", TestEmulators.CAFE24_CLIENT);
    props.put("tokenbroker.connections.[cafe24:mall-a].client-secret", TestEmulators.CAFE24_SECRET);
    props.put("tokenbroker.connections.[cafe24:mall-a].redirect-uri", TestEmulators.REDIRECT);
    props.put("tokenbroker.connections.[cafe24:mall-a].mall-id", "mall-a");
    props.put("tokenbroker.connections.[cafe24:mall-a].scopes", "mall.read_product");
    props.put(
        "tokenbroker.connections.[cafe24:mall-a].base-url", emulators.cafe24.baseUrlTemplate());
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
        .withInitializer(
            c ->
                c.getEnvironment().getPropertySources().addFirst(new MapPropertySource("t", props)))
        .withBean(TokenBrokerAutoConfiguration.CLOCK_BEAN, Clock.class, () -> emulators.clock)
        .withBean(TokenStore.class, () -> shared)
        .withBean(
            "collector",
            ApplicationListener.class,
            () -> (ApplicationListener<ConnectionReauthorizationRequiredEvent>) e -> events.add(e));
  }

  private void invalidGrantNext() {
    emulators.cafe24.inject(
        emulators.cafe24.tokenPath("mall-a"),
        Fault.json(
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"Validation failed on"
                + " refresh_token\"}"));
  }

  @Test
  void reauthorizationRequired_isPublishedOnceAcrossInstances() {
    List<Object> eventsA = new CopyOnWriteArrayList<>();
    List<Object> eventsB = new CopyOnWriteArrayList<>();
    instance("a", eventsA)
        .run(
            a ->
                instance("b", eventsB)
                    .run(
                        b -> {
                          TokenBroker brokerA = a.getBean(TokenBroker.class);
                          TokenBroker brokerB = b.getBean(TokenBroker.class);
                          AuthorizationRequest request = brokerA.startAuthorization(MALL);
                          brokerA.completeAuthorization(
                              MALL, emulators.cafe24.approve(request.url()));
                          assertThat(brokerB.accessToken(MALL)).isNotEmpty(); // shared store

                          invalidGrantNext();
                          assertThatThrownBy(() -> brokerA.refresh(MALL))
                              .isInstanceOf(ReauthorizationRequiredException.class);
                          invalidGrantNext();
                          assertThatThrownBy(() -> brokerB.refresh(MALL))
                              .isInstanceOf(ReauthorizationRequiredException.class);

                          assertThat(brokerB.health(MALL).state())
                              .isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
                          assertThat(eventsA).hasSize(1);
                          assertThat(eventsB).as("B found the record already moved").isEmpty();
                          ConnectionReauthorizationRequiredEvent e =
                              (ConnectionReauthorizationRequiredEvent) eventsA.get(0);
                          assertThat(e.connection()).isEqualTo(MALL);
                          assertThat(e.reasonCode()).isEqualTo("refresh-token-rejected");
                        }));
  }
}
