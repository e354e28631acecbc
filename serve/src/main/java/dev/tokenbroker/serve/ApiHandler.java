package dev.tokenbroker.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenUnavailableException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP API, on Jetty's core handler API (no servlet). Blocking: a token request that must wait
 * for a renewal holds a server thread for at most the broker's renewal timeout.
 *
 * <p>Every answer is JSON except the plain-text token ({@code ?format=text} or {@code Accept:
 * text/plain}); every answer carries {@code Cache-Control: no-store}. Errors are {@code {"error":
 * code, "message": text}} and never carry a token or a secret.
 */
final class ApiHandler extends Handler.Abstract {
  private static final String PREFIX = "/v1/connections";
  private static final long MAX_BODY = 1024;

  private final TokenBroker broker;
  private final Clock clock;
  private final AccessControl access;
  private final JsonLog accessLog;
  private final BooleanSupplier ready;
  private final StatusPage statusPage;
  private final java.util.function.Supplier<String> metrics;

  ApiHandler(
      TokenBroker broker,
      Clock clock,
      AccessControl access,
      JsonLog accessLog,
      BooleanSupplier ready,
      java.util.function.Supplier<String> metrics) {
    this.metrics = metrics;
    this.statusPage = new StatusPage(broker, clock, access);
    this.broker = broker;
    this.clock = clock;
    this.access = access;
    this.accessLog = accessLog;
    this.ready = ready;
  }

  /** What one request turned into, for the access log. */
  private static final class Outcome {
    int status;
    @Nullable String client;
    @Nullable String connection;
    @Nullable String error;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    Outcome o = new Outcome();
    Connector connector = request.getConnectionMetaData().getConnector();
    String method = request.getMethod();
    String path = request.getHttpURI().getPath();
    try {
      route(request, response, callback, connector, method, path == null ? "" : path, o);
    } catch (RuntimeException e) {
      // Last resort: a clear 500 without the exception's text (it might name a value).
      send(response, callback, o, 500, error("internal", "internal error"));
      o.error = e.getClass().getSimpleName();
    }
    accessLog
        .line("request")
        .with("transport", access.transport(connector))
        .with("method", method)
        // The path only: ids, never a token (the query string is not logged).
        .with("path", printable(path))
        .with("status", o.status)
        .with("client", o.client)
        .with("error", o.error)
        .with("ms", Duration.ofNanos(System.nanoTime() - start).toMillis())
        .info();
    return true;
  }

  private void route(
      Request request,
      Response response,
      Callback callback,
      Connector connector,
      String method,
      String path,
      Outcome o) {
    AccessControl.Verdict hostCheck = access.checkHost(connector, request);
    if (hostCheck != null) {
      send(response, callback, o, hostCheck.status(), error(hostCheck.code(), hostCheck.message()));
      return;
    }
    // Liveness and readiness answer without credentials: they say nothing about any connection.
    if (path.equals("/healthz")) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        methodNotAllowed(response, callback, o, "GET");
        return;
      }
      send(response, callback, o, 200, Map.of("status", "ok"));
      return;
    }
    if (path.equals("/readyz")) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        methodNotAllowed(response, callback, o, "GET");
        return;
      }
      boolean isReady = ready.getAsBoolean();
      send(
          response,
          callback,
          o,
          isReady ? 200 : 503,
          Map.of("status", isReady ? "ready" : "not-ready"));
      return;
    }
    if (StatusPage.matches(path)) {
      if (access.transport(connector).equals("socket")) {
        send(
            response,
            callback,
            o,
            404,
            error("not-found", "the status page is served on TCP, to a signed-in client"));
        return;
      }
      StatusPage.Result r = statusPage.handle(request, response, callback, method, path);
      o.status = r.status();
      o.client = r.client();
      o.error = r.error();
      return;
    }
    boolean metricsPath = path.equals("/metrics");
    if (!metricsPath && !path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) {
      send(response, callback, o, 404, error("not-found", "no such endpoint; see /v1/connections"));
      return;
    }
    AccessControl.Caller caller;
    try {
      caller = access.authenticate(connector, request);
    } catch (AccessControl.Refused r) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"tokenbroker\"");
      send(response, callback, o, 401, error("unauthorized", r.getMessage()));
      return;
    }
    o.client = caller.name();
    if (metricsPath) {
      // Prometheus's text format: names and tags of the Micrometer module, never a token (a
      // client's bearer secret on TCP, as for the API; Prometheus has bearer_token_file).
      if (!method.equals("GET") && !method.equals("HEAD")) {
        methodNotAllowed(response, callback, o, "GET");
        return;
      }
      o.status = 200;
      response.setStatus(200);
      response
          .getHeaders()
          .put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
      response.write(
          true, java.nio.ByteBuffer.wrap(metrics.get().getBytes(StandardCharsets.UTF_8)), callback);
      return;
    }
    long length = request.getLength();
    if (length > MAX_BODY) {
      send(response, callback, o, 413, error("too-large", "request bodies are not accepted"));
      return;
    }
    if (path.equals(PREFIX) || path.equals(PREFIX + "/")) {
      if (!method.equals("GET")) {
        methodNotAllowed(response, callback, o, "GET");
        return;
      }
      List<Object> list = new ArrayList<>();
      for (ConnectionId id : broker.connections()) {
        if (caller.mayRead(id)) {
          list.add(healthJson(id, broker.health(id)));
        }
      }
      send(response, callback, o, 200, Map.of("connections", list));
      return;
    }
    String rest = path.substring(PREFIX.length() + 1);
    String action = "";
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      action = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }
    ConnectionId id;
    try {
      id = ConnectionId.parse(URLDecoder.decode(rest, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      send(
          response,
          callback,
          o,
          400,
          error("bad-connection-id", "not a connection id like cafe24:mymall"));
      return;
    }
    o.connection = id.toString();
    if (!caller.mayRead(id)) {
      send(
          response,
          callback,
          o,
          403,
          error("forbidden", "client " + caller.name() + " may not read connection " + id));
      return;
    }
    try {
      switch (action) {
        case "":
          if (!method.equals("GET")) {
            methodNotAllowed(response, callback, o, "GET");
            return;
          }
          send(response, callback, o, 200, healthJson(id, broker.health(id)));
          return;
        case "token":
          if (!method.equals("GET")) {
            methodNotAllowed(response, callback, o, "GET");
            return;
          }
          token(request, response, callback, o, id);
          return;
        case "refresh":
          if (!method.equals("POST")) {
            methodNotAllowed(response, callback, o, "POST");
            return;
          }
          TokenSet renewed = broker.refresh(id);
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("connection", id.toString());
          body.put("refreshed", true);
          body.put("expires_at", renewed.expiresAt().toString());
          body.put("version", renewed.version());
          send(response, callback, o, 200, body);
          return;
        default:
          send(response, callback, o, 404, error("not-found", "no such endpoint"));
      }
    } catch (TokenBrokerException e) {
      failure(response, callback, o, id, e);
    }
  }

  private void token(
      Request request, Response response, Callback callback, Outcome o, ConnectionId id) {
    TokenSet set = broker.tokenSet(id);
    Instant now = clock.instant();
    long expiresIn = Math.max(0, Duration.between(now, set.expiresAt()).getSeconds());
    if (wantsText(request)) {
      o.status = 200;
      response.setStatus(200);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
      response.write(
          true,
          ByteBuffer.wrap((set.accessToken() + "\n").getBytes(StandardCharsets.UTF_8)),
          callback);
      return;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("connection", id.toString());
    body.put("access_token", set.accessToken());
    body.put("token_type", set.tokenType());
    body.put("expires_at", set.expiresAt().toString());
    body.put("expires_in", expiresIn);
    body.put("scopes", set.scopes());
    send(response, callback, o, 200, body);
  }

  private static boolean wantsText(Request request) {
    String query = request.getHttpURI().getQuery();
    if (query != null) {
      for (String p : query.split("&")) {
        if (p.equals("format=text")) {
          return true;
        }
      }
    }
    String accept = request.getHeaders().get(HttpHeader.ACCEPT);
    return accept != null
        && accept.toLowerCase(Locale.ROOT).contains("text/plain")
        && !accept.toLowerCase(Locale.ROOT).contains("application/json");
  }

  private void failure(
      Response response, Callback callback, Outcome o, ConnectionId id, TokenBrokerException e) {
    if (e instanceof ConfigurationException) {
      send(response, callback, o, 404, error("unknown-connection", "no connection " + id));
      return;
    }
    Map<String, Object> body;
    int status;
    if (e instanceof ReauthorizationRequiredException) {
      Health h = ((ReauthorizationRequiredException) e).health();
      status = 409;
      body = error("reauthorization-required", e.getMessage());
      body.put("health", healthJson(id, h));
      body.put("action", "tokenbroker connect " + id);
    } else if (e instanceof TokenUnavailableException) {
      Health h = ((TokenUnavailableException) e).health();
      status = 503;
      body = error("unavailable", e.getMessage());
      body.put("health", healthJson(id, h));
      Instant next = h.nextAttemptAt();
      long retry =
          next == null ? 1 : Math.max(1, Duration.between(clock.instant(), next).getSeconds());
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(retry));
    } else {
      status = 500;
      body = error("failed", e.getMessage());
    }
    o.error = (String) body.get("error");
    send(response, callback, o, status, body);
  }

  static Map<String, Object> healthJson(ConnectionId id, Health h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("connection", id.toString());
    m.put("provider", id.provider());
    m.put("state", h.state().name());
    m.put("reason", h.reasonCode());
    m.put("detail", h.reason());
    m.put("error_code", h.errorCode());
    m.put("since", str(h.since()));
    m.put("next_attempt_at", str(h.nextAttemptAt()));
    m.put("consecutive_failures", h.consecutiveFailures());
    m.put("last_renewal_at", str(h.lastRenewalAt()));
    m.put("access_token_expires_at", str(h.accessTokenExpiresAt()));
    m.put("refresh_token_expires_at", str(h.refreshTokenExpiresAt()));
    m.put("unsaved", h.unsaved());
    return m;
  }

  private static @Nullable String str(@Nullable Instant i) {
    return i == null ? null : i.toString();
  }

  private static Map<String, Object> error(String code, @Nullable String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", code);
    m.put("message", message == null ? code : message);
    return m;
  }

  private void methodNotAllowed(Response response, Callback callback, Outcome o, String allow) {
    response.getHeaders().put(HttpHeader.ALLOW, allow);
    send(response, callback, o, 405, error("method-not-allowed", "use " + allow));
  }

  private static void send(
      Response response, Callback callback, Outcome o, int status, Map<String, ?> body) {
    o.status = status;
    if (status >= 400 && o.error == null) {
      Object code = body.get("error");
      o.error = code == null ? null : code.toString();
    }
    byte[] bytes;
    try {
      bytes = JsonLog.JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      bytes = "{\"error\":\"internal\"}".getBytes(StandardCharsets.UTF_8);
      status = 500;
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }

  /** A path for the log: at most 200 printable ASCII characters. */
  private static @Nullable String printable(@Nullable String path) {
    if (path == null) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < path.length() && b.length() < 200; i++) {
      char c = path.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}
