package dev.tokenbroker;

/**
 * Receives {@link TokenEvent}s. Called synchronously on the thread that caused the event (often a
 * renewal thread): keep it quick and do not call back into the broker for the same connection. An
 * exception thrown here is logged and ignored.
 */
@FunctionalInterface
public interface TokenListener {
  /**
   * Called once per event, on the thread that observed it (usually a broker thread); must return
   * quickly, and should not throw: an exception is logged and ignored. Events never carry a token
   * or secret.
   *
   * @param event what happened
   */
  void onEvent(TokenEvent event);
}
