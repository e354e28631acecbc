package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenListener;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Turns the broker's events into Spring {@code ApplicationEvent}s. REAUTHORIZATION_REQUIRED is
 * emitted by core only on the instance whose compare-and-set moved the shared health record, so the
 * Spring event is once per change across instances. Recovery: an AUTHORIZED event always; a
 * REFRESHED event when this instance had seen the connection fail since its last success.
 */
final class SpringEventBridge implements TokenListener {
  private static final Logger log = LoggerFactory.getLogger(SpringEventBridge.class);

  private final ApplicationEventPublisher publisher;
  private final Set<ConnectionId> failing = ConcurrentHashMap.newKeySet();
  private volatile @Nullable TokenBroker broker;

  SpringEventBridge(ApplicationEventPublisher publisher) {
    this.publisher = publisher;
  }

  void attach(TokenBroker broker) {
    this.broker = broker;
  }

  @Override
  public void onEvent(TokenEvent event) {
    ConnectionId id = event.connection();
    Object source = broker != null ? broker : this;
    switch (event.type()) {
      case REFRESH_FAILED:
        failing.add(id);
        break;
      case REAUTHORIZATION_REQUIRED:
        failing.add(id);
        publisher.publishEvent(
            new ConnectionReauthorizationRequiredEvent(
                source, id, reasonCode(id), event.message(), event.at()));
        break;
      case AUTHORIZED:
        failing.remove(id);
        publisher.publishEvent(new ConnectionRecoveredEvent(source, id, true, event.at()));
        break;
      case REFRESHED:
        if (failing.remove(id)) {
          publisher.publishEvent(new ConnectionRecoveredEvent(source, id, false, event.at()));
        }
        break;
      default:
        break;
    }
  }

  /** The reason as every instance sees it: read from the shared health record once. */
  private @Nullable String reasonCode(ConnectionId id) {
    TokenBroker b = broker;
    if (b == null) {
      return null;
    }
    try {
      Health h = b.health(id);
      return h.reasonCode();
    } catch (RuntimeException e) {
      log.debug("reason of {} unavailable: {}", id, e.toString());
      return null;
    }
  }
}
