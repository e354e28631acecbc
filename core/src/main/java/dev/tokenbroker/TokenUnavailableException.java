package dev.tokenbroker;

import dev.tokenbroker.store.TokenStoreException;
import org.jspecify.annotations.Nullable;

/**
 * No valid access token can be handed out for a connection right now. The {@linkplain #getCause()
 * cause} is usually the {@link TokenEndpointException} of the renewal that failed (every caller
 * that waited on that renewal gets an exception with the same cause), or a {@link
 * TokenStoreException}.
 *
 * <p>{@link #health()} says whether waiting can help (DEGRADED, with the next attempt time) or a
 * person must act ({@link ReauthorizationRequiredException}).
 */
public class TokenUnavailableException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  private final transient Health health;

  /**
   * @param connection the connection
   * @param message what happened, for a person; never a token or secret
   * @param health the connection's health when this was thrown
   * @param cause the failure behind it (often a {@link TokenEndpointException}), or null
   */
  public TokenUnavailableException(
      ConnectionId connection, String message, Health health, @Nullable Throwable cause) {
    super(connection, message, cause);
    this.health = health;
  }

  /**
   * The connection's health when this was thrown.
   *
   * @return the connection's health when this was thrown
   */
  public Health health() {
    return health;
  }

  /**
   * The renewal failure behind this, when there was one.
   *
   * @return the renewal failure behind this, when there was one
   */
  public @Nullable TokenEndpointException endpointFailure() {
    return getCause() instanceof TokenEndpointException
        ? (TokenEndpointException) getCause()
        : null;
  }
}
