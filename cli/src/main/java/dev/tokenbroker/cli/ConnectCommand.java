package dev.tokenbroker.cli;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tokenbroker connect ID}: the human step of Cafe24 and Kakao. Prints the authorization URL,
 * then takes the redirect from a loopback listener (when the redirect URI is local) or from a URL
 * pasted on standard input — whichever comes first — and exchanges the code at once.
 */
@Command(
    name = "connect",
    mixinStandardHelpOptions = true,
    header = "Connect an account once: browser approval, code exchanged at once.",
    description =
        "Connects an account (Cafe24 mall, Kakao user): prints the URL to open in a browser, then captures the redirect on http://localhost:PORT/… when that is the redirect URI, or reads the redirected URL you paste, and exchanges the code at once (a Cafe24 code dies within a minute). Shows what was connected: mall, user, scopes, expiries — never a token.")
final class ConnectCommand extends ConnectionCommand {
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(30);

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "5m",
      converter = DurationConverter.class,
      description = "how long to wait for the redirect (default: ${DEFAULT-VALUE}; e.g. 90s, 10m)")
  Duration timeout = Duration.ofMinutes(5);

  @Option(
      names = "--no-listen",
      description = "do not listen on a local redirect URI; read the pasted URL only")
  boolean noListen;

  @Override
  int run(TokenBroker broker, Console console) {
    TokenProvider provider = broker.provider(id);
    if (provider.grantType() != GrantType.AUTHORIZATION_CODE) {
      throw new UsageException(
          id
              + " uses client credentials ("
              + provider.name()
              + "): there is nothing to connect — `tokenbroker token "
              + id
              + "` obtains a token by itself");
    }
    AuthorizationRequest request = broker.startAuthorization(id);
    String redirectUri = LoopbackListener.redirectUriOf(request.url());
    HttpUrl loopback = noListen ? null : LoopbackListener.loopbackRedirect(redirectUri);
    RedirectCapture capture =
        new RedirectCapture(
            request::state,
            url -> broker.completeAuthorization(id, url),
            notice -> {
              console.err.println(notice);
              console.err.flush();
            });

    // Listen before the URL is shown: a quick browser must find the listener there.
    LoopbackListener listener = null;
    String cannotListen = null;
    if (loopback != null) {
      try {
        listener = LoopbackListener.start(loopback, capture, id.toString());
      } catch (IOException e) {
        cannotListen =
            "Cannot listen on "
                + loopback.host()
                + ":"
                + loopback.port()
                + " ("
                + e.getMessage()
                + "), so:";
      }
    }
    console.out.println("Connecting " + id + ". Open this URL in a browser, log in and approve:");
    console.out.println();
    console.out.println("  " + request.url());
    console.out.println();
    if (listener != null) {
      console.out.println(
          "Waiting for your browser to come back to "
              + listener.redirect().newBuilder().query(null).build()
              + " (up to "
              + Text.duration(timeout)
              + ").");
      console.out.println(
          "If the browser runs on another machine, paste the URL it ends up on here instead.");
    } else if (cannotListen != null) {
      console.out.println(cannotListen);
    }
    if (listener == null) {
      console.out.println(
          "After you approve, the browser is sent to "
              + (redirectUri == null ? "the app's redirect URI" : redirectUri)
              + "?code=…");
      console.out.println(
          "Paste that whole URL here and press Enter (the page itself may fail to load: copy the"
              + " address bar):");
    }
    console.out.flush();
    try {
      readPastedRedirect(console, capture, listener == null);
      TokenSet tokens = await(console, capture);
      console.out.println("✓ connected " + id);
      Text.printLines(console.out, Text.describe(tokens, console.clock.instant()));
      return ExitCode.OK;
    } finally {
      if (listener != null) {
        listener.close();
      }
    }
  }

  /**
   * Reads standard input on a daemon thread (a blocked read cannot be interrupted) and offers the
   * first line that looks like a redirect. Other lines get a hint and another chance.
   */
  private void readPastedRedirect(Console console, RedirectCapture capture, boolean onlySource) {
    Thread reader =
        new Thread(
            () -> {
              try {
                BufferedReader in =
                    new BufferedReader(new InputStreamReader(console.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !capture.outcome().isDone()) {
                  if (line.isBlank()) {
                    continue;
                  }
                  if (RedirectCapture.isRedirect(line)) {
                    if (capture.offer(line, "pasted on standard input")) {
                      return;
                    }
                    continue; // wrong state: reported; the right URL may still be pasted
                  }
                  console.err.println(
                      "That is not the redirected URL (it has no code= or error=); paste the whole"
                          + " address the browser was sent to:");
                  console.err.flush();
                }
                if (onlySource) {
                  capture.fail(
                      new UsageException(
                          "no redirected URL on standard input — run `tokenbroker connect "
                              + id
                              + "` in a terminal and paste the URL the browser was sent to"));
                }
              } catch (IOException e) {
                if (onlySource) {
                  capture.fail(new UncheckedIOException("cannot read standard input", e));
                }
              }
            },
            "tokenbroker-stdin");
    reader.setDaemon(true);
    reader.start();
  }

  private TokenSet await(Console console, RedirectCapture capture) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        capture.fail(
            new ConnectTimeoutException(
                "no redirect arrived for "
                    + id
                    + " within "
                    + Text.duration(timeout)
                    + " — run `tokenbroker connect "
                    + id
                    + "` again (and approve within the time, or pass --timeout)"));
      }
      try {
        if (left <= 0) {
          // Failed just now, or a redirect arrived in time and its exchange is still running.
          return capture.outcome().get();
        }
        return capture
            .outcome()
            .get(Math.min(left, PROGRESS_EVERY.toNanos()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        long remaining = deadline - System.nanoTime();
        if (remaining > 0) {
          console.err.println(
              "… still waiting for the redirect ("
                  + Text.duration(Duration.ofNanos(remaining))
                  + " left)");
          console.err.flush();
        }
      } catch (ExecutionException e) {
        throw rethrow(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ConnectTimeoutException("interrupted while waiting for the redirect");
      }
    }
  }

  private static RuntimeException rethrow(@Nullable Throwable t) {
    if (t instanceof RuntimeException) {
      return (RuntimeException) t;
    }
    if (t instanceof Error) {
      throw (Error) t;
    }
    return new IllegalStateException(t);
  }
}
