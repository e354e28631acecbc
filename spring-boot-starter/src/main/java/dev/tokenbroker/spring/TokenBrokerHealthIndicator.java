package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code tokenbroker} health contributor: one detail per connection (state, reason, since,
 * expiries; never a token) and an overall status by the configured {@link
 * TokenBrokerProperties.DownWhen} rule. DEGRADED connections never make it DOWN: a valid token is
 * still served and the broker retries on its own. Reads each connection's record in the store once
 * per call; never contacts a platform.
 */
public final class TokenBrokerHealthIndicator implements HealthIndicator {
  private final TokenBroker broker;
  private final TokenBrokerProperties.DownWhen downWhen;

  /**
   * @param broker the broker
   * @param downWhen when the contributor reports DOWN
   */
  public TokenBrokerHealthIndicator(TokenBroker broker, TokenBrokerProperties.DownWhen downWhen) {
    this.broker = Objects.requireNonNull(broker);
    this.downWhen = Objects.requireNonNull(downWhen);
  }

  @Override
  public Health health() {
    Map<String, Object> details = new LinkedHashMap<>();
    int total = 0;
    int needPerson = 0;
    int degraded = 0;
    for (ConnectionId id : broker.connections()) {
      Map<String, Object> d = ConnectionDetails.of(broker, id);
      details.put(id.toString(), d);
      total++;
      Object state = d.get("state");
      if ("REAUTHORIZATION_REQUIRED".equals(state)) {
        needPerson++;
      } else if ("DEGRADED".equals(state) || "UNKNOWN".equals(state)) {
        degraded++;
      }
    }
    boolean down;
    switch (downWhen) {
      case ANY:
        down = needPerson > 0;
        break;
      case ALL:
        down = total > 0 && needPerson == total;
        break;
      default:
        down = false;
    }
    Health.Builder b = down ? Health.down() : Health.up();
    b.withDetail("reauthorizationRequired", needPerson);
    b.withDetail("degraded", degraded);
    b.withDetail("connections", details);
    return b.build();
  }
}
