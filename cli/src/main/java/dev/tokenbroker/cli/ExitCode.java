package dev.tokenbroker.cli;

/** The command's exit codes; documented in the module README. */
final class ExitCode {
  /** Done. */
  static final int OK = 0;

  /** The operation failed: the platform refused, the operator denied access, a store error. */
  static final int FAILURE = 1;

  /** Bad command line, a missing or invalid configuration file, an unknown connection. */
  static final int USAGE = 2;

  /** A person must act: {@code tokenbroker connect}, or fix credentials or the IP allow-list. */
  static final int REAUTHORIZATION_REQUIRED = 3;

  /** Temporarily unavailable (platform down, rate limited, lost answer): retry later. */
  static final int UNAVAILABLE = 4;

  private ExitCode() {}
}
