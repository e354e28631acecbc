package dev.tokenbroker.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tokenbroker.TokenSet;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Captures the browser's redirect on the loopback address named by a {@code
 * http://localhost:PORT/…} or {@code http://127.0.0.1:PORT/…} redirect URI (a JDK HTTP server,
 * nothing else on the path), so that the code is exchanged the moment the browser arrives, and
 * answers the browser with a small page saying whether the connection worked. Never logs or shows
 * the code or state.
 */
final class LoopbackListener implements AutoCloseable {
  private final List<HttpServer> servers;
  private final ExecutorService executor;
  private final HttpUrl redirect;

  private LoopbackListener(List<HttpServer> servers, ExecutorService executor, HttpUrl redirect) {
    this.servers = servers;
    this.executor = executor;
    this.redirect = redirect;
  }

  /**
   * The redirect URI as a loopback address this process can listen on, or null if it is not one
   * (https, another host, no http scheme).
   */
  static @Nullable HttpUrl loopbackRedirect(@Nullable String redirectUri) {
    HttpUrl url = redirectUri == null ? null : HttpUrl.parse(redirectUri);
    if (url == null || !url.scheme().equals("http")) {
      return null;
    }
    String host = url.host().toLowerCase(Locale.ROOT);
    return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("::1") ? url : null;
  }

  /** The {@code redirect_uri} query parameter of an authorization URL, or null. */
  static @Nullable String redirectUriOf(URI authorizationUrl) {
    HttpUrl url = HttpUrl.parse(authorizationUrl.toString());
    return url == null ? null : url.queryParameter("redirect_uri");
  }

  /**
   * Listens on the redirect's host and port (for {@code localhost}: 127.0.0.1, and ::1 when it is
   * available) and hands every plausible redirect on its path to {@code capture}.
   *
   * @throws IOException if the port cannot be bound (in use, privileged)
   */
  static LoopbackListener start(HttpUrl redirect, RedirectCapture capture, String connection)
      throws IOException {
    String host = redirect.host();
    InetAddress first = InetAddress.getByName(host.equals("::1") ? "::1" : "127.0.0.1");
    ExecutorService executor = executor();
    List<HttpServer> servers = new ArrayList<>();
    try {
      servers.add(bind(first, redirect.port(), redirect, capture, connection, executor));
    } catch (IOException e) {
      executor.shutdownNow();
      throw e;
    }
    if (host.equalsIgnoreCase("localhost")) {
      // Browsers may resolve localhost to ::1 first; listen there too when the machine has it.
      try {
        servers.add(
            bind(
                InetAddress.getByName("::1"),
                redirect.port(),
                redirect,
                capture,
                connection,
                executor));
      } catch (IOException e) {
        // no IPv6 loopback here: 127.0.0.1 alone is enough, browsers fall back to it
      }
    }
    return new LoopbackListener(servers, executor, redirect);
  }

  /**
   * Listens on 127.0.0.1 at a port the system picks, for {@code path}; {@link #redirect()} then
   * names the address to register as redirect URI. For the demo and tests.
   */
  static LoopbackListener startOnFreePort(String path, RedirectCapture capture, String connection)
      throws IOException {
    HttpUrl placeholder = new HttpUrl.Builder().scheme("http").host("127.0.0.1").port(1).build();
    HttpUrl pathOnly = placeholder.newBuilder().encodedPath(path).build();
    ExecutorService executor = executor();
    HttpServer server;
    try {
      server = bind(InetAddress.getByName("127.0.0.1"), 0, pathOnly, capture, connection, executor);
    } catch (IOException e) {
      executor.shutdownNow();
      throw e;
    }
    HttpUrl redirect = pathOnly.newBuilder().port(server.getAddress().getPort()).build();
    return new LoopbackListener(List.of(server), executor, redirect);
  }

  private static ExecutorService executor() {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, "tokenbroker-loopback");
          t.setDaemon(true);
          return t;
        });
  }

  private static HttpServer bind(
      InetAddress address,
      int port,
      HttpUrl redirect,
      RedirectCapture capture,
      String connection,
      ExecutorService executor)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 8);
    server.createContext("/", exchange -> handle(exchange, redirect, capture, connection));
    server.setExecutor(executor);
    server.start();
    return server;
  }

  private static void handle(
      HttpExchange exchange, HttpUrl redirect, RedirectCapture capture, String connection)
      throws IOException {
    try {
      URI uri = exchange.getRequestURI();
      if (!"GET".equals(exchange.getRequestMethod())
          || !redirect.encodedPath().equals(uri.getRawPath())) {
        respond(exchange, 404, "Not found", "Nothing here.");
        return;
      }
      String query = uri.getRawQuery();
      String url = redirect.newBuilder().query(null).build() + (query == null ? "" : "?" + query);
      if (!RedirectCapture.isRedirect(url)) {
        respond(
            exchange,
            400,
            "Waiting for the authorization",
            "This address receives the redirect after you approve access for "
                + connection
                + ". Open the authorization URL shown in the terminal.");
        return;
      }
      if (!capture.hasExpectedState(url)) {
        // Checked before the single slot is claimed: a forged callback from any local page must
        // not end the flow. Turned away (and reported in the terminal); the real redirect wins.
        capture.ignoredWrongState("on the loopback listener");
        respond(
            exchange,
            400,
            "Not this authorization",
            "This redirect does not belong to the authorization in progress for "
                + connection
                + " and was ignored. Open the authorization URL shown in the terminal.");
        return;
      }
      CompletableFuture<TokenSet> result = capture.exchange(url);
      if (result == null) {
        respond(
            exchange,
            409,
            "Already handled",
            "This authorization was already handled. Return to the terminal.");
        return;
      }
      try {
        result.join();
        respond(
            exchange,
            200,
            "Connected",
            connection + " is connected. You can close this tab and return to the terminal.");
      } catch (CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        respond(
            exchange,
            400,
            "Not connected",
            Failures.describe(cause, null).line + " See the terminal for what to do.");
      } finally {
        capture.publish(result); // after the page is sent: the command stops listening next
      }
    } finally {
      exchange.close();
    }
  }

  private static void respond(HttpExchange exchange, int status, String title, String text)
      throws IOException {
    String html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tokenbroker: "
            + escape(title)
            + "</title></head><body style=\"font-family:sans-serif;margin:3em\"><h1>"
            + escape(title)
            + "</h1><p>"
            + escape(dev.tokenbroker.spi.Secrets.scrub(text, List.of(), 600))
            + "</p></body></html>";
    byte[] body = html.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /** The port listened on (the redirect's, or the one the system chose for port 0). */
  int port() {
    return servers.get(0).getAddress().getPort();
  }

  /** The address the browser comes back to, without its query. */
  HttpUrl redirect() {
    return redirect;
  }

  /** Stops listening; a page being sent was sent before the outcome was published. */
  @Override
  public void close() {
    for (HttpServer s : servers) {
      s.stop(0);
    }
    executor.shutdown();
  }
}
