package dev.tokenbroker.cli;

/** A mistake on the command line or in the setup; exit code 2. The message says what to do. */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
