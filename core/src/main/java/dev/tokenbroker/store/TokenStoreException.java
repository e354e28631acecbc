package dev.tokenbroker.store;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBrokerException;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenStore} could not load or save: I/O error, full disk, database down, a corrupt or
 * undecryptable record. The message names the connection and never contains a token.
 */
public class TokenStoreException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /**
   * @param connection the connection, or null when the store as a whole failed
   * @param message what failed, naming the connection; never a token
   * @param cause the underlying failure, or null
   */
  public TokenStoreException(
      @Nullable ConnectionId connection, String message, @Nullable Throwable cause) {
    super(connection, message, cause);
  }
}
