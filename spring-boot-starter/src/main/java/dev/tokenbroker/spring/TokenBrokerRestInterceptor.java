package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenUnavailableIOException;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.TokenProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpRequest;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A {@link ClientHttpRequestInterceptor} for {@code RestClient} and {@code RestTemplate} calling
 * one connection's platform API: adds {@code Authorization} (and the provider's headers, such as
 * Cafe24's API version), and when the provider says the token was rejected, renews once — one
 * renewal shared by every request that saw the same token — and replays the request once. A second
 * rejection goes back to the caller: never a loop. An answer saying the connection itself is dead
 * (app uninstalled, IP not allowed) marks it REAUTHORIZATION_REQUIRED and goes back to the caller.
 *
 * <pre>{@code
 * RestClient cafe24 = RestClient.builder()
 *     .baseUrl("https://mymall.cafe24api.com")
 *     .requestInterceptor(TokenBrokerRestInterceptor.of(broker, ConnectionId.parse("cafe24:mymall")))
 *     .build();
 * }</pre>
 *
 * <p>Blocking, like {@link TokenBroker#accessToken}: waits for a renewal only when no valid token
 * is cached. A failure to get a token is thrown as {@link TokenUnavailableIOException} (Spring
 * wraps it in a {@code ResourceAccessException}). Only error answers (4xx, 5xx) are read into
 * memory, to be classified and still handed to the caller. Register it last among the client's
 * interceptors, so that a replay runs the ones after it again. Thread-safe.
 */
public final class TokenBrokerRestInterceptor implements ClientHttpRequestInterceptor {
  private final TokenBroker broker;
  private final ConnectionId connection;
  private final TokenProvider provider;

  private TokenBrokerRestInterceptor(TokenBroker broker, ConnectionId connection) {
    this.broker = Objects.requireNonNull(broker, "broker");
    this.connection = Objects.requireNonNull(connection, "connection");
    this.provider = broker.provider(connection); // fails now for an unknown connection
  }

  /**
   * An interceptor for {@code connection}'s API.
   *
   * @param broker the broker
   * @param connection the connection whose token requests carry
   * @return the interceptor
   * @throws dev.tokenbroker.ConfigurationException if the broker does not serve {@code connection}
   */
  public static TokenBrokerRestInterceptor of(TokenBroker broker, ConnectionId connection) {
    return new TokenBrokerRestInterceptor(broker, connection);
  }

  @Override
  public ClientHttpResponse intercept(
      HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
    TokenSet tokens;
    try {
      tokens = broker.tokenSet(connection);
    } catch (TokenBrokerException e) {
      throw new TokenUnavailableIOException(e);
    }
    OkHttpBridge.authorize(provider, tokens, request.getURI(), request.getHeaders());
    ClientHttpResponse response = execution.execute(request, body);
    HttpStatusCode status = response.getStatusCode();
    if (status.value() < 400) {
      return response; // the common case costs one comparison
    }
    Buffered buffered = new Buffered(response);
    ApiVerdict verdict =
        OkHttpBridge.classify(
            provider, request.getURI(), status.value(), response.getHeaders(), buffered.bytes);
    switch (verdict.kind()) {
      case CONNECTION_DEAD:
        broker.reportApiVerdict(connection, verdict);
        return buffered;
      case TOKEN_REJECTED:
        TokenSet renewed;
        try {
          renewed = broker.tokenSetAfterRejection(connection, tokens.accessToken());
        } catch (TokenBrokerException e) {
          throw new TokenUnavailableIOException(e);
        }
        if (renewed.accessToken().equals(tokens.accessToken())) {
          return buffered; // the platform handed back the same token: replaying cannot help
        }
        OkHttpBridge.authorize(provider, renewed, request.getURI(), request.getHeaders());
        return execution.execute(request, body);
      default:
        return buffered;
    }
  }

  @Override
  public String toString() {
    return "TokenBrokerRestInterceptor{" + connection + '}';
  }

  /** An error answer read into memory: classified by the provider, then still readable. */
  private static final class Buffered implements ClientHttpResponse {
    private final ClientHttpResponse delegate;
    final byte[] bytes;

    Buffered(ClientHttpResponse delegate) throws IOException {
      this.delegate = delegate;
      try (InputStream in = delegate.getBody()) {
        this.bytes = in.readAllBytes();
      }
    }

    @Override
    public HttpStatusCode getStatusCode() throws IOException {
      return delegate.getStatusCode();
    }

    @Override
    public String getStatusText() throws IOException {
      return delegate.getStatusText();
    }

    @Override
    public HttpHeaders getHeaders() {
      return delegate.getHeaders();
    }

    @Override
    public InputStream getBody() {
      return new ByteArrayInputStream(bytes);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
