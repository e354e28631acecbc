package dev.tokenbroker.spring;

import dev.tokenbroker.AuthorizationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import dev.tokenbroker.TokenEndpointException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the OAuth callback endpoint does, whatever the web stack: hands the redirect to {@link
 * TokenBroker#handleCallback}, which completes the authorization its {@code state} belongs to —
 * started on any instance sharing the store — and answers the browser. Never echoes the code, the
 * state or a token.
 */
final class TokenBrokerCallback {
  private static final Logger log = LoggerFactory.getLogger(TokenBrokerCallback.class);

  /** The answer to the browser. */
  record Answer(int status, String body) {}

  private final TokenBroker broker;

  TokenBrokerCallback(TokenBroker broker) {
    this.broker = Objects.requireNonNull(broker);
  }

  /** Blocking: exchanges the code with the platform at once (Cafe24's lives about a minute). */
  Answer handle(String redirectedUrl) {
    try {
      ConnectionId id = broker.handleCallback(redirectedUrl);
      log.info("connection {} authorized through the callback", id);
      return new Answer(200, "Connected " + id + ". You can close this window.\n");
    } catch (AuthorizationException e) {
      log.warn("callback refused: {}", e.getMessage());
      return new Answer(400, "This authorization cannot be completed: " + e.getMessage() + "\n");
    } catch (TokenEndpointException e) {
      log.warn("callback: the platform refused the code: {}", e.getMessage());
      return new Answer(502, "The platform refused the authorization code; please start again.\n");
    } catch (TokenBrokerException e) {
      log.warn("callback failed: {}", e.getMessage());
      return new Answer(503, "The authorization could not be completed; please try again.\n");
    }
  }
}
