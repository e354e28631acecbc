package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The WebClient filter while the connection's first token is still being obtained: subscribing
 * returns at once on the subscribing thread (an event loop would be free), and the exchange goes
 * out with the token when the single flight completes. The token endpoint is held at the emulator's
 * gate, so the test decides when it answers; nothing sleeps.
 */
class ExchangeFilterNonBlockingTest {
  private final TestEmulators emulators = new TestEmulators();
  private TokenBroker broker;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    emulators.close();
  }

  @Test
  void filter_doesNotBlockTheSubscriber_whileTheTokenIsObtained() throws Exception {
    ConnectionId naver = ConnectionId.parse("naver:self");
    broker =
        TokenBroker.builder()
            .clock(emulators.clock)
            .withoutKeepAlive()
            .connection(
                naver,
                Map.of(
                    "client-id", TestEmulators.NAVER_CLIENT,
                    "client-secret", TestEmulators.NAVER_SECRET,
                    "base-url", emulators.naver.baseUrl()))
            .build();
    EmulatorServer.Gate gate = emulators.naver.hold(NaverEmulator.TOKEN_PATH);
    List<ClientRequest> sent = new CopyOnWriteArrayList<>();
    TokenBrokerExchangeFilter filter = TokenBrokerExchangeFilter.of(broker, naver);
    ClientRequest request =
        ClientRequest.create(HttpMethod.GET, URI.create(emulators.naver.baseUrl() + "/x")).build();
    AtomicReference<ClientResponse> answer = new AtomicReference<>();
    CountDownLatch answered = new CountDownLatch(1);

    Disposable subscription =
        filter
            .filter(
                request,
                r -> {
                  sent.add(r);
                  return Mono.just(ClientResponse.create(HttpStatus.OK).build());
                })
            .subscribe(
                r -> {
                  answer.set(r);
                  answered.countDown();
                });

    // subscribe() returned on this thread while the token request is held at the platform
    assertThat(gate.awaitArrivals(1, 30, TimeUnit.SECONDS)).isTrue();
    assertThat(sent).isEmpty();
    assertThat(answer.get()).isNull();

    gate.release();
    assertThat(answered.await(30, TimeUnit.SECONDS)).as("the exchange went out").isTrue();
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).headers().getFirst(HttpHeaders.AUTHORIZATION))
        .isEqualTo("Bearer " + broker.accessToken(naver));
    assertThat(emulators.naver.tokenRequests()).isEqualTo(1);
    subscription.dispose();
  }
}
