package dev.tokenbroker;

/**
 * Receives {@link TokenEvent}s. Called synchronously on the thread that caused the event (often a
 * renewal thread): keep it quick and do not call back into the broker for the same connection. An
 * exception thrown here is logged and ignored.
 */
@FunctionalInterface
public interface TokenListener {
  void onEvent(TokenEvent event);
}
