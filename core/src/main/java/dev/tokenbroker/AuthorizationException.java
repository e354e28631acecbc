package dev.tokenbroker;

import org.jspecify.annotations.Nullable;

/**
 * The browser step of an authorization-code flow went wrong before any token was issued: the
 * redirect's {@code state} does not match, the operator denied access ({@code
 * error=access_denied}), the redirect has no code, or no authorization was started for the
 * connection. Nothing was sent to the token endpoint unless the cause is a {@link
 * TokenEndpointException}.
 */
public final class AuthorizationException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /** The redirect's {@code error} parameter, or null. */
  private final @Nullable String error;

  /**
   * @param connection the connection being authorized
   * @param message what went wrong, for a person; never a code, state or token
   * @param error the redirect's {@code error} parameter (e.g. {@code access_denied}), or null
   * @param cause the underlying failure, or null
   */
  public AuthorizationException(
      @Nullable ConnectionId connection,
      String message,
      @Nullable String error,
      @Nullable Throwable cause) {
    super(
        connection,
        connection == null
            ? "authorization: " + message
            : "connection " + connection + ": " + message,
        cause);
    this.error = error;
  }

  /**
   * The {@code error} parameter of the redirect (e.g. {@code access_denied}), if any.
   *
   * @return the redirect's {@code error} parameter (such as {@code access_denied}), or null
   */
  public @Nullable String error() {
    return error;
  }
}
