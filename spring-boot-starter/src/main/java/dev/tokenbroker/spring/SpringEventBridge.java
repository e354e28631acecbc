package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenListener;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Turns the broker's events into Spring {@code ApplicationEvent}s. Core emits
 * REAUTHORIZATION_REQUIRED and RECOVERED only on the instance whose compare-and-set moved the
 * shared health record, so each Spring event is published once per change across all instances
 * sharing the store.
 */
final class SpringEventBridge implements TokenListener {
  private static final Logger log = LoggerFactory.getLogger(SpringEventBridge.class);

  private final ApplicationEventPublisher publisher;
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
      case REAUTHORIZATION_REQUIRED:
        publisher.publishEvent(
            new ConnectionReauthorizationRequiredEvent(
                source, id, reasonCode(id), event.message(), event.at()));
        break;
      case RECOVERED:
        publisher.publishEvent(
            new ConnectionRecoveredEvent(source, id, event.message(), event.at()));
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
