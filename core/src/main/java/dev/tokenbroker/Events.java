package dev.tokenbroker;

import java.time.Clock;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers {@link TokenEvent}s to the application's listeners; a failing listener is logged. */
final class Events {
  private static final Logger log = LoggerFactory.getLogger(Events.class);

  private final Clock clock;
  private final List<TokenListener> listeners;

  Events(Clock clock, List<TokenListener> listeners) {
    this.clock = clock;
    this.listeners = List.copyOf(listeners);
  }

  void emit(TokenEvent.Type type, ConnectionId id, String message, @Nullable Throwable error) {
    if (listeners.isEmpty()) {
      return;
    }
    TokenEvent event = new TokenEvent(type, id, clock.instant(), message, error);
    for (TokenListener l : listeners) {
      try {
        l.onEvent(event);
      } catch (RuntimeException e) {
        log.warn("listener {} failed on {}: {}", l, type, e.toString());
      }
    }
  }
}
