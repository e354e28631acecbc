package dev.tokenbroker.cli;

/** {@code connect} waited for the redirect in vain; exit code 1. The message says what to do. */
final class ConnectTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ConnectTimeoutException(String message) {
    super(message);
  }
}
