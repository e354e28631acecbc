package dev.tokenbroker;

import java.io.IOException;

/**
 * How the OkHttp integration reports that no token could be had for a request: OkHttp interceptors
 * may only throw {@link IOException}s. {@link #getCause()} is the {@link TokenBrokerException}
 * (usually a {@link TokenUnavailableException} or {@link ReauthorizationRequiredException}).
 */
public final class TokenUnavailableIOException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * @param cause the broker's exception, kept as the cause; its message is this one's
   */
  public TokenUnavailableIOException(TokenBrokerException cause) {
    super(cause.getMessage(), cause);
  }

  /**
   * The broker's exception.
   *
   * @return the broker's exception
   */
  public TokenBrokerException brokerException() {
    return (TokenBrokerException) getCause();
  }
}
