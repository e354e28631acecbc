package dev.tokenbroker.cli;

import dev.tokenbroker.AuthorizationException;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.TokenStoreException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Turns any failure into one line for a person — what went wrong and what to do — and an exit code.
 * Stack traces only with {@code --verbose}. Every line goes through {@link Secrets#scrub} as a last
 * guard, although the library's messages never carry a secret in the first place.
 */
final class Failures {
  private static final int MAX_LINE = 600;

  private Failures() {}

  /** A failure as the command reports it. */
  static final class Report {
    final int exitCode;
    final String line;

    Report(int exitCode, String line) {
      this.exitCode = exitCode;
      this.line = line;
    }
  }

  /** Prints the failure to the console's error stream and returns its exit code. */
  static int report(Console console, Throwable failure, boolean verbose) {
    return report(console, failure, verbose, null);
  }

  /** Like {@link #report(Console, Throwable, boolean)}, for a connection of {@code grantType}. */
  static int report(
      Console console, Throwable failure, boolean verbose, @Nullable GrantType grantType) {
    Report r = describe(failure, grantType);
    console.err.println(Secrets.scrub(r.line, List.of(), MAX_LINE));
    if (verbose) {
      StringWriter trace = new StringWriter();
      failure.printStackTrace(new PrintWriter(trace));
      console.err.print(trace);
    }
    console.err.flush();
    return r.exitCode;
  }

  /**
   * What to say about {@code failure}.
   *
   * @param grantType the connection's grant type when known: decides whether "connect" is the fix
   */
  static Report describe(Throwable failure, @Nullable GrantType grantType) {
    if (failure instanceof UsageException) {
      return new Report(ExitCode.USAGE, failure.getMessage());
    }
    if (failure instanceof ConfigurationException) {
      return new Report(
          ExitCode.USAGE, failure.getMessage() + " — fix the configuration file and try again");
    }
    if (failure instanceof ReauthorizationRequiredException) {
      ReauthorizationRequiredException r = (ReauthorizationRequiredException) failure;
      ConnectionId id = r.connection();
      String reason = r.health().reason() != null ? r.health().reason() : "unknown reason";
      StringBuilder line =
          new StringBuilder("connection ").append(id).append(" needs re-authorization: ");
      line.append(reason);
      if (!reason.contains("tokenbroker connect")) {
        if (grantType == GrantType.CLIENT_CREDENTIALS) {
          line.append(" — fix the credentials or the platform settings, then run `tokenbroker")
              .append(" refresh ")
              .append(id)
              .append('`');
        } else {
          line.append(" — run `tokenbroker connect ").append(id).append('`');
        }
      }
      return new Report(ExitCode.REAUTHORIZATION_REQUIRED, line.toString());
    }
    if (failure instanceof TokenUnavailableException) {
      TokenUnavailableException u = (TokenUnavailableException) failure;
      return new Report(
          ExitCode.UNAVAILABLE,
          u.getMessage()
              + " — try again later; `tokenbroker status` shows "
              + u.connection()
              + "'s health");
    }
    if (failure instanceof AuthorizationException) {
      AuthorizationException a = (AuthorizationException) failure;
      if (a.getCause() instanceof TokenEndpointException) {
        return describe(a.getCause(), grantType);
      }
      return new Report(
          ExitCode.FAILURE,
          a.getMessage()
              + (a.connection() == null
                  ? ""
                  : " — run `tokenbroker connect " + a.connection() + "` again"));
    }
    if (failure instanceof TokenEndpointException) {
      TokenEndpointException e = (TokenEndpointException) failure;
      if (e.kind() == TokenEndpointException.Kind.PERMANENT) {
        return new Report(ExitCode.FAILURE, e.getMessage());
      }
      return new Report(
          ExitCode.UNAVAILABLE, e.getMessage() + " — the platform may be busy; try again later");
    }
    if (failure instanceof TokenStoreException) {
      return new Report(
          ExitCode.FAILURE,
          "token store error: "
              + failure.getMessage()
              + " — check the store: section of the configuration file");
    }
    if (failure instanceof ConnectTimeoutException) {
      return new Report(ExitCode.FAILURE, failure.getMessage());
    }
    String message = failure.getMessage();
    return new Report(
        ExitCode.FAILURE,
        "unexpected error: "
            + failure.getClass().getName()
            + (message == null ? "" : ": " + message)
            + " (run with --verbose for details)");
  }
}
