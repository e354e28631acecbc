package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * The root of every exception this library throws. Unchecked, so that {@code accessToken} reads as
 * a plain call; catch it where you can do something about a connection that cannot get a token.
 *
 * <p>Messages never contain tokens or secrets.
 */
public class TokenBrokerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient @Nullable ConnectionId connection;

  /**
   * @param connection the connection concerned, or null
   * @param message what happened, for a person; never a token or secret
   */
  public TokenBrokerException(@Nullable ConnectionId connection, String message) {
    this(connection, message, null);
  }

  /**
   * @param connection the connection concerned, or null
   * @param message what happened, for a person; never a token or secret
   * @param cause the underlying failure, or null
   */
  public TokenBrokerException(
      @Nullable ConnectionId connection, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.connection = connection;
  }

  /**
   * The connection concerned, or null when the failure is not about one connection.
   *
   * @return the connection concerned, or null when the failure is not about one connection
   */
  public @Nullable ConnectionId connection() {
    return connection;
  }
}
