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
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
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
    Report store = storeProblem(failure);
    if (store != null) {
      return store;
    }
    if (failure instanceof ReauthorizationRequiredException) {
      ReauthorizationRequiredException r = (ReauthorizationRequiredException) failure;
      ConnectionId id = r.connection();
      String reason = r.health().reason() != null ? r.health().reason() : "unknown reason";
      StringBuilder line =
          new StringBuilder("connection ").append(id).append(" needs re-authorization: ");
      line.append(reason);
      String code = r.health().reasonCode();
      if ("client-rejected".equals(code)) {
        // A new browser approval would be refused the same way (and spend a code): the fix is the
        // app's credentials, after which a refresh uses the refresh token the store still holds.
        line.append(" — fix the client id or secret in the configuration, then run `tokenbroker")
            .append(" refresh ")
            .append(id)
            .append('`');
      } else if ("ip-not-allowed".equals(code)) {
        line.append(" — add this machine's outbound IP to the platform's allow-list (or send")
            .append(" through an allowed proxy), then run `tokenbroker refresh ")
            .append(id)
            .append('`');
      } else if (!reason.contains("tokenbroker connect")) {
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
      TokenEndpointException endpoint = u.endpointFailure();
      String why =
          endpoint != null
              ? endpointLine(endpoint)
              : u.health().reason() != null ? u.health().reason() : u.getMessage();
      // A one-shot command has no "next attempt": the person retries. Nothing was lost either
      // way: the store still holds the last token set.
      return new Report(
          ExitCode.UNAVAILABLE,
          "connection "
              + u.connection()
              + ": could not get a token now: "
              + why
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
        return new Report(ExitCode.FAILURE, endpointLine(e));
      }
      return new Report(
          ExitCode.UNAVAILABLE, endpointLine(e) + " — the platform may be busy; try again later");
    }
    if (failure instanceof TokenStoreException) {
      return new Report(
          ExitCode.FAILURE,
          "token store error: "
              + failure.getMessage()
              + " — check the store: section of the configuration file");
    }
    if (failure instanceof UncheckedIOException || failure instanceof FileSystemException) {
      FileSystemException fs = find(failure, FileSystemException.class);
      if (fs != null) {
        return new Report(ExitCode.USAGE, fileProblem(fs));
      }
    }
    if (failure instanceof ConnectTimeoutException) {
      return new Report(ExitCode.FAILURE, failure.getMessage());
    }
    String message = failure.getMessage();
    FileSystemException fs = find(failure, FileSystemException.class);
    if (fs != null) {
      return new Report(ExitCode.USAGE, fileProblem(fs));
    }
    return new Report(
        ExitCode.FAILURE,
        "unexpected error: "
            + failure.getClass().getName()
            + (message == null ? "" : ": " + message)
            + " (run with --verbose for details)");
  }

  /** The endpoint failure's message, with its HTTP status when the message does not show it. */
  static String endpointLine(TokenEndpointException e) {
    String message = String.valueOf(e.getMessage());
    int status = e.httpStatus();
    if (status > 0 && !message.contains(String.valueOf(status))) {
      message += " (HTTP " + status + ")";
    }
    return message;
  }

  /**
   * A store failure no retry can fix, or null. A permission or path problem is a configuration
   * error (exit 2) naming the path and what it needs; a record that cannot be read back — corrupt,
   * encrypted with a key that is not configured, or the wrong key — is a store error (exit 1).
   * Anything else from a store (a database or Redis down) stays "try again later".
   */
  static @Nullable Report storeProblem(Throwable failure) {
    TokenStoreException store = find(failure, TokenStoreException.class);
    if (store == null) {
      return null;
    }
    FileSystemException fs = find(store, FileSystemException.class);
    if (fs != null) {
      return new Report(ExitCode.USAGE, "token store: " + fileProblem(fs));
    }
    String message = String.valueOf(store.getMessage());
    for (String permanent : PERMANENT_STORE_PROBLEMS) {
      if (message.contains(permanent)) {
        return new Report(
            ExitCode.FAILURE,
            "token store error: "
                + message
                + " — no retry can fix this: configure the key the store was written with"
                + " (store: key-file, previous keys) or restore the record from a backup");
      }
    }
    return null;
  }

  /** How the stores word a record that will never read back (core's TokenCodec, RecordFiles). */
  private static final List<String> PERMANENT_STORE_PROBLEMS =
      List.of(
          "stored record is corrupt",
          "cannot be decrypted",
          "which is not among the configured keys",
          "but no encryption key is configured",
          "is empty");

  private static String fileProblem(FileSystemException e) {
    String path = e.getFile() == null ? "a file" : e.getFile();
    if (e instanceof AccessDeniedException) {
      return "permission denied on "
          + path
          + " — the store directory and its files must be readable and writable by the user"
          + " running tokenbroker: fix the owner or mode, or point store.path elsewhere";
    }
    if (e instanceof NoSuchFileException) {
      return path
          + " does not exist and cannot be created — create its parent directory or fix the path"
          + " in the configuration file";
    }
    return "cannot use "
        + path
        + (e.getReason() == null ? "" : " (" + e.getReason() + ")")
        + " — fix the path in the configuration file or its permissions";
  }

  private static <T extends Throwable> @Nullable T find(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
