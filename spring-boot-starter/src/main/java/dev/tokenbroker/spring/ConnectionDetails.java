package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import java.util.LinkedHashMap;
import java.util.Map;

/** One connection's health as a map for health details and the endpoint: no token, no secret. */
final class ConnectionDetails {
  private ConnectionDetails() {}

  static Map<String, Object> of(TokenBroker broker, ConnectionId id) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("provider", id.provider());
    Health h;
    try {
      h = broker.health(id);
    } catch (RuntimeException e) {
      d.put("state", "UNKNOWN");
      d.put("error", e.getClass().getSimpleName());
      return d;
    }
    d.put("state", h.state().name());
    put(d, "reasonCode", h.reasonCode());
    put(d, "reason", h.reason());
    put(d, "errorCode", h.errorCode());
    d.put("since", h.since().toString());
    put(d, "nextAttemptAt", h.nextAttemptAt());
    if (h.consecutiveFailures() > 0) {
      d.put("consecutiveFailures", h.consecutiveFailures());
    }
    put(d, "lastRenewalAt", h.lastRenewalAt());
    put(d, "accessTokenExpiresAt", h.accessTokenExpiresAt());
    put(d, "refreshTokenExpiresAt", h.refreshTokenExpiresAt());
    if (h.unsaved()) {
      d.put("unsaved", true);
    }
    return d;
  }

  private static void put(Map<String, Object> d, String key, Object value) {
    if (value != null) {
      d.put(key, value.toString());
    }
  }
}
