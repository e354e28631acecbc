package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * A person must act before this connection can get tokens again: the refresh token expired or was
 * already used, the client secret was reissued, the app was removed from the mall, the IP is not
 * registered, or the connection was never authorized or was revoked. The message says which
 * connection, why, and what to do; {@link #health()} has the reason and since when.
 */
public final class ReauthorizationRequiredException extends TokenUnavailableException {
  private static final long serialVersionUID = 1L;

  /**
   * @param connection the connection that needs a person
   * @param health its health, REAUTHORIZATION_REQUIRED with the reason
   * @param cause the failure that decided it, or null
   */
  public ReauthorizationRequiredException(
      ConnectionId connection, Health health, @Nullable Throwable cause) {
    super(connection, describe(connection, health), health, cause);
  }

  private static String describe(ConnectionId connection, Health health) {
    return "connection "
        + connection
        + " needs re-authorization: "
        + (health.reason() == null ? "unknown reason" : health.reason())
        + " (since "
        + health.since()
        + ")";
  }
}
