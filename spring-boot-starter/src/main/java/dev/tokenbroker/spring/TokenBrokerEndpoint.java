package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code tokenbroker} Actuator endpoint ({@code /actuator/tokenbroker}, once exposed with
 * {@code management.endpoints.web.exposure.include}): every connection with its health, or one
 * connection ({@code /actuator/tokenbroker/cafe24:mymall}). Read-only; never shows a token or
 * secret.
 */
@Endpoint(id = "tokenbroker")
public final class TokenBrokerEndpoint {
  private final TokenBroker broker;

  /**
   * @param broker the broker
   */
  public TokenBrokerEndpoint(TokenBroker broker) {
    this.broker = Objects.requireNonNull(broker);
  }

  /**
   * Every connection with its health.
   *
   * @return connection id to its details
   */
  @ReadOperation
  public Map<String, Object> connections() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (ConnectionId id : broker.connections()) {
      out.put(id.toString(), ConnectionDetails.of(broker, id));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("connections", out);
    return body;
  }

  /**
   * One connection's health.
   *
   * @param connection the connection id ({@code cafe24:mymall})
   * @return its details, or null (404) when no such connection is configured
   */
  @ReadOperation
  public @Nullable Map<String, Object> connection(@Selector String connection) {
    ConnectionId id;
    try {
      id = ConnectionId.parse(connection);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!broker.connections().contains(id)) {
      return null;
    }
    return ConnectionDetails.of(broker, id);
  }
}
