package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.TokenProvider;
import java.util.Objects;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An {@link ExchangeFilterFunction} for {@code WebClient} calling one connection's platform API,
 * doing what {@link TokenBrokerRestInterceptor} does — token, provider headers, one renewal and one
 * replay after a rejected token — without ever blocking: tokens come from {@link
 * TokenBroker#tokenSetAsync}, completed by the connection's single renewal on the broker's threads,
 * so an event-loop thread never waits.
 *
 * <pre>{@code
 * WebClient naver = WebClient.builder()
 *     .baseUrl("https://api.commerce.naver.com")
 *     .filter(TokenBrokerExchangeFilter.of(broker, ConnectionId.parse("naver:self")))
 *     .build();
 * }</pre>
 *
 * <p>A failure to get a token is the {@code Mono}'s error: the broker's own exception ({@link
 * dev.tokenbroker.ReauthorizationRequiredException}, {@link
 * dev.tokenbroker.TokenUnavailableException}). Only error answers (4xx, 5xx) are read into memory,
 * to be classified and still handed to the caller. A replay sends the request's body again: bodies
 * from values (the usual {@code bodyValue}) can be, a one-shot {@code Publisher} cannot. After a
 * renewal the exchange continues on the broker thread that completed it, which hands the request to
 * the client's own event loop at once. Thread-safe.
 */
public final class TokenBrokerExchangeFilter implements ExchangeFilterFunction {
  private final TokenBroker broker;
  private final ConnectionId connection;
  private final TokenProvider provider;

  private TokenBrokerExchangeFilter(TokenBroker broker, ConnectionId connection) {
    this.broker = Objects.requireNonNull(broker, "broker");
    this.connection = Objects.requireNonNull(connection, "connection");
    this.provider = broker.provider(connection); // fails now for an unknown connection
  }

  /**
   * A filter for {@code connection}'s API.
   *
   * @param broker the broker
   * @param connection the connection whose token requests carry
   * @return the filter
   * @throws dev.tokenbroker.ConfigurationException if the broker does not serve {@code connection}
   */
  public static TokenBrokerExchangeFilter of(TokenBroker broker, ConnectionId connection) {
    return new TokenBrokerExchangeFilter(broker, connection);
  }

  @Override
  public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
    return Mono.fromFuture(() -> broker.tokenSetAsync(connection))
        .flatMap(
            tokens ->
                next.exchange(authorize(request, tokens))
                    .flatMap(response -> afterAnswer(request, next, tokens, response)));
  }

  private Mono<ClientResponse> afterAnswer(
      ClientRequest request, ExchangeFunction next, TokenSet tokens, ClientResponse response) {
    int status = response.statusCode().value();
    if (status < 400) {
      return Mono.just(response); // the common case costs one comparison
    }
    return response
        .bodyToMono(byte[].class)
        .defaultIfEmpty(new byte[0])
        .flatMap(
            bytes -> {
              ClientResponse buffered =
                  response
                      .mutate()
                      .body(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(bytes)))
                      .build();
              ApiVerdict verdict =
                  OkHttpBridge.classify(
                      provider, request.url(), status, response.headers().asHttpHeaders(), bytes);
              switch (verdict.kind()) {
                case CONNECTION_DEAD:
                  // a store write, off the event loop
                  return Mono.fromRunnable(() -> broker.reportApiVerdict(connection, verdict))
                      .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
                      .thenReturn(buffered);
                case TOKEN_REJECTED:
                  return Mono.fromFuture(
                          () ->
                              broker.tokenSetAfterRejectionAsync(connection, tokens.accessToken()))
                      .flatMap(
                          renewed ->
                              renewed.accessToken().equals(tokens.accessToken())
                                  ? Mono.just(buffered) // the same token: replaying cannot help
                                  : next.exchange(authorize(request, renewed)));
                default:
                  return Mono.just(buffered);
              }
            });
  }

  private ClientRequest authorize(ClientRequest request, TokenSet tokens) {
    return ClientRequest.from(request)
        .headers(h -> OkHttpBridge.authorize(provider, tokens, request.url(), h))
        .build();
  }

  @Override
  public String toString() {
    return "TokenBrokerExchangeFilter{" + connection + '}';
  }
}
