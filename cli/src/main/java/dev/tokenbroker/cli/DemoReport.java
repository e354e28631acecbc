package dev.tokenbroker.cli;

import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.Secrets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tokenbroker demo}'s output: step titles, the ✓/✗ checks and their count, the final
 * line, and the secrets check — every token and secret the demo met is remembered, and the last
 * check proves none of them appeared in what was printed.
 */
final class DemoReport {
  private final PrintWriter out;
  private final StringWriter transcript = new StringWriter();
  private final boolean verbose;
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private int passed;
  private int failed;

  DemoReport(PrintWriter console, boolean verbose) {
    this.out = new PrintWriter(new Tee(console, transcript), true);
    this.verbose = verbose;
  }

  /** Where the demo prints (the console, and the transcript the secrets check reads). */
  PrintWriter out() {
    return out;
  }

  void step(String title) {
    out.println();
    out.println(title);
  }

  void check(boolean ok, String what, String detail) {
    if (ok) {
      passed++;
    } else {
      failed++;
    }
    out.println("  " + (ok ? "✓ " : "✗ ") + what + (detail.isEmpty() ? "" : " — " + detail));
  }

  /** A broker event, shown with {@code --verbose}. */
  void event(TokenEvent event) {
    if (verbose) {
      synchronized (out) {
        out.println("    · " + event);
      }
    }
  }

  /** Remembers a token or secret, so that the last check can prove it was not printed. */
  void secret(String secret) {
    secrets.add(secret);
  }

  /** Remembers tokens or secrets, so that the last check can prove none was printed. */
  void secrets(Iterable<String> some) {
    for (String s : some) {
      secrets.add(s);
    }
  }

  /** Remembers a set's tokens, so that the last check can prove none was printed. */
  void witness(@Nullable TokenSet tokens) {
    if (tokens != null) {
      secrets.add(tokens.accessToken());
      if (tokens.refreshToken() != null) {
        secrets.add(tokens.refreshToken());
      }
    }
  }

  /** The last check: no remembered token or secret appears in the output so far. */
  void checkNothingLeaked() {
    String text = transcript.toString();
    List<String> leaked = new ArrayList<>();
    for (String s : secrets) {
      if (text.contains(s)) {
        leaked.add(Secrets.fingerprint(s));
      }
    }
    check(
        leaked.isEmpty(),
        "no token or secret appeared in this output",
        leaked.isEmpty()
            ? secrets.size() + " tokens and secrets checked; fingerprints at most"
            : "leaked: " + leaked);
  }

  /** Prints the final line; 0 if every check passed, 1 otherwise. */
  int summary(String simulated, Duration took) {
    out.println();
    if (failed == 0) {
      out.println(
          "✓ all "
              + passed
              + " checks passed ("
              + simulated
              + " simulated in "
              + took.toMillis()
              + " ms)");
      return ExitCode.OK;
    }
    out.println("✗ " + failed + " of " + (passed + failed) + " checks failed");
    return ExitCode.FAILURE;
  }

  /** Writes to the console and keeps a transcript for the final secrets check. */
  private static final class Tee extends Writer {
    private final Writer console;
    private final StringWriter copy;

    Tee(Writer console, StringWriter copy) {
      this.console = console;
      this.copy = copy;
    }

    @Override
    public void write(char[] cbuf, int off, int len) throws IOException {
      console.write(cbuf, off, len);
      copy.write(cbuf, off, len);
    }

    @Override
    public void flush() throws IOException {
      console.flush();
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
