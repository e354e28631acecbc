package dev.tokenbroker.examples.spring;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.spring.ConnectionReauthorizationRequiredEvent;
import dev.tokenbroker.spring.TokenBrokerExchangeFilter;
import dev.tokenbroker.spring.TokenBrokerRestInterceptor;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.MapPropertySource;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/**
 * A small integration service that sells on two Cafe24 malls and Naver: {@code GET
 * /malls/{mall}/products} calls the mall's Admin API with a {@code RestClient}, {@code GET
 * /naver/account} calls Naver Commerce with a {@code WebClient}; both always carry a valid token
 * from the auto-configured broker. Actuator shows {@code /actuator/health/tokenbroker} and {@code
 * /actuator/tokenbroker}.
 *
 * <p>With {@code --emulators} (what the README's one command passes) it first starts the testkit's
 * Cafe24 and Naver emulators on loopback ports, points the configuration at them and plays the shop
 * owners' one-time approval in the browser; without it, it expects the real platforms and the
 * variables in {@code application.yml}.
 */
@SpringBootApplication
public class ExampleApplication {
  static final ConnectionId FIRST_MALL = ConnectionId.parse("cafe24:first-mall");
  static final ConnectionId SECOND_MALL = ConnectionId.parse("cafe24:second-mall");
  static final ConnectionId NAVER = ConnectionId.parse("naver:self");

  /**
   * Starts the service.
   *
   * @param args {@code --emulators} to run against the embedded emulators; Spring's own arguments
   */
  public static void main(String[] args) {
    run(args);
  }

  /**
   * Starts the service and returns its context (the test closes it).
   *
   * @param args as for {@link #main}
   * @return the running application
   */
  static ConfigurableApplicationContext run(String... args) {
    SpringApplication app = new SpringApplication(ExampleApplication.class);
    if (Arrays.asList(args).contains("--emulators")) {
      Emulators emulators = Emulators.start();
      app.addInitializers(
          context ->
              context
                  .getEnvironment()
                  .getPropertySources()
                  .addFirst(new MapPropertySource("emulators", emulators.properties())));
      app.addListeners(
          (org.springframework.context.event.ContextClosedEvent e) -> emulators.close());
      app.addPrimarySources(java.util.List.of(EmulatorConfiguration.class));
      Emulators.current = emulators;
    }
    return app.run(args);
  }

  /** Cafe24 and Naver played by the testkit's emulators, on loopback ports. */
  static final class Emulators implements AutoCloseable {
    static volatile Emulators current;
    final Cafe24Emulator cafe24 = new Cafe24Emulator(Clock.systemUTC());
    final NaverEmulator naver = new NaverEmulator(Clock.systemUTC());

    static Emulators start() {
      Emulators e = new Emulators();
      e.cafe24
          .registerApp(
              "example-client", "example-secret", "http://localhost:8080/tokenbroker/callback")
          .addMall("first-mall", "second-mall")
          .start();
      e.naver.registerApplication("example-naver", "$2a$04$abcdefghijklmnopqrstuv").start();
      return e;
    }

    Map<String, Object> properties() {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("CAFE24_CLIENT_ID", "example-client");
      p.put("CAFE24_CLIENT_SECRET", "example-secret");
      p.put("CAFE24_BASE_URL", cafe24.baseUrlTemplate());
      p.put("NAVER_CLIENT_ID", "example-naver");
      p.put("NAVER_CLIENT_SECRET", "$2a$04$abcdefghijklmnopqrstuv");
      p.put("NAVER_BASE_URL", naver.baseUrl());
      return p;
    }

    @Override
    public void close() {
      cafe24.close();
      naver.close();
    }
  }

  /** With the emulators: the shop owners approve once, as they would in a browser. */
  static class EmulatorConfiguration {
    @Bean
    ApplicationRunner approveMalls(TokenBroker broker) {
      return args -> {
        Emulators e = Emulators.current;
        for (ConnectionId mall : new ConnectionId[] {FIRST_MALL, SECOND_MALL}) {
          AuthorizationRequest request = broker.startAuthorization(mall);
          broker.completeAuthorization(mall, e.cafe24.approve(request.url()));
        }
        System.out.println(
            "Example ready: GET /malls/first-mall/products, /malls/second-mall/products,"
                + " /naver/account, /actuator/health/tokenbroker, /actuator/tokenbroker");
      };
    }
  }

  /** Where the platforms' APIs are: {@code {mall_id}} stands for the mall id. */
  record ApiBaseUrls(String cafe24Template, String naver) {}

  @Bean
  ApiBaseUrls apiBaseUrls(
      @Value("${CAFE24_BASE_URL:https://{mall_id}.cafe24api.com}") String cafe24,
      @Value("${NAVER_BASE_URL:https://api.commerce.naver.com}") String naver) {
    return new ApiBaseUrls(cafe24, naver);
  }

  /** Tells the shop owner (here: the log) when a mall needs a new authorization. */
  @EventListener
  void onReauthorizationRequired(ConnectionReauthorizationRequiredEvent event) {
    System.out.println(
        "ALERT: " + event.connection() + " needs a new authorization (" + event.reasonCode() + ")");
  }

  /** The API calls: a RestClient per mall, a WebClient for Naver. */
  @RestController
  static class ApiController {
    private final TokenBroker broker;
    private final ApiBaseUrls urls;
    private final WebClient naver;

    ApiController(TokenBroker broker, ApiBaseUrls urls) {
      this.broker = broker;
      this.urls = urls;
      this.naver =
          WebClient.builder()
              .baseUrl(urls.naver())
              .filter(TokenBrokerExchangeFilter.of(broker, NAVER))
              .build();
    }

    @GetMapping("/malls/{mall}/products")
    Mono<String> products(@PathVariable("mall") String mall) {
      ConnectionId id = ConnectionId.of("cafe24", mall);
      RestClient cafe24 =
          RestClient.builder()
              .baseUrl(urls.cafe24Template().replace("{mall_id}", mall))
              .requestFactory(new JdkClientHttpRequestFactory())
              .requestInterceptor(TokenBrokerRestInterceptor.of(broker, id))
              .build();
      // RestClient blocks: off the event loop
      return Mono.fromCallable(
              () -> cafe24.get().uri("/api/v2/admin/products").retrieve().body(String.class))
          .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic());
    }

    @GetMapping("/naver/account")
    Mono<String> naverAccount() {
      return naver.get().uri(NaverEmulator.ACCOUNT_PATH).retrieve().bodyToMono(String.class);
    }
  }
}
