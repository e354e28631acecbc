package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.StatusHtml.back;
import static dev.tokenbroker.serve.StatusHtml.csrfField;
import static dev.tokenbroker.serve.StatusHtml.csrfRefused;
import static dev.tokenbroker.serve.StatusHtml.esc;
import static dev.tokenbroker.serve.StatusHtml.methodNotAllowed;
import static dev.tokenbroker.serve.StatusHtml.page;
import static dev.tokenbroker.serve.StatusHtml.seeOther;
import static dev.tokenbroker.serve.StatusHtml.signInPage;
import static dev.tokenbroker.serve.StatusHtml.styleSheet;
import static dev.tokenbroker.serve.StatusHtml.time;
import static dev.tokenbroker.serve.StatusSessions.cookie;
import static dev.tokenbroker.serve.StatusSessions.csrfMatches;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * The status page for the people who run the service: the connections a signed-in client may read,
 * their health, expiries and reason, and for a connection needing re-authorization a button that
 * starts it and links to the platform. Never a token.
 *
 * <p>A browser cannot send the bearer header, so a person signs in with one of the TCP clients'
 * secrets (compared in constant time, through {@link AccessControl#clientBySecret}) and gets a
 * session: a random 256-bit id in an {@code HttpOnly; SameSite=Strict} cookie ({@code Secure} over
 * TLS), kept server-side by its SHA-256 hash, ending 30 minutes after its last use or 8 hours after
 * sign-in. Every state-changing action is a POST carrying the session's CSRF token, compared in
 * constant time. Sign-in attempts are limited to {@link StatusSessions#ATTEMPTS_PER_WINDOW} a
 * minute per remote address. Every page is escaped HTML with no script, a strict {@code
 * Content-Security-Policy}, {@code X-Frame-Options: DENY}, {@code Referrer-Policy: no-referrer} and
 * {@code Cache-Control: no-store}. TCP only: on the Unix socket no browser can reach it and there
 * is no client to sign in as.
 *
 * <p>This class routes the requests and reads the broker; {@link StatusSessions} keeps the sessions
 * and the sign-in limit, and {@link StatusHtml} renders the pages.
 */
final class StatusPage {
  static final String PREFIX = "/status";
  private static final int MAX_FORM = 4096;

  private final TokenBroker broker;
  private final Clock clock;
  private final AccessControl access;
  private final StatusSessions sessions;

  StatusPage(TokenBroker broker, Clock clock, AccessControl access) {
    this.broker = broker;
    this.clock = clock;
    this.access = access;
    this.sessions = new StatusSessions(clock);
  }

  static boolean matches(String path) {
    return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
  }

  /** What one request did, for the access log. */
  record Result(int status, @Nullable String client, @Nullable String error) {}

  Result handle(Request request, Response response, Callback callback, String method, String path) {
    if (path.equals(PREFIX + "/style.css")) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        return methodNotAllowed(response, callback, "GET");
      }
      return styleSheet(response, callback);
    }
    if (path.equals(PREFIX + "/callback")) {
      return authorizationCallback(request, response, callback, method);
    }
    if (!access.hasClients()) {
      return page(
          response,
          callback,
          404,
          "Status page unavailable",
          "<p>The status page is served on TCP to a signed-in client: configure "
              + "<code>tcp:</code> and <code>clients:</code> in serve.yaml.</p>",
          null,
          "no-clients");
    }
    StatusSessions.Session session = sessions.find(request);
    switch (path) {
      case PREFIX:
      case PREFIX + "/":
        if (!method.equals("GET") && !method.equals("HEAD")) {
          return methodNotAllowed(response, callback, "GET");
        }
        if (session == null) {
          return signInPage(response, callback, 200, null);
        }
        return list(response, callback, session);
      case PREFIX + "/sign-in":
        if (!method.equals("POST")) {
          return methodNotAllowed(response, callback, "POST");
        }
        return signIn(request, response, callback);
      case PREFIX + "/sign-out":
        if (!method.equals("POST")) {
          return methodNotAllowed(response, callback, "POST");
        }
        if (session == null) {
          return seeOther(response, callback, null);
        }
        Map<String, String> form = form(request);
        if (form == null || !csrfMatches(session, form.get("csrf"))) {
          return csrfRefused(response, callback, session);
        }
        sessions.end(request);
        response
            .getHeaders()
            .add(HttpHeader.SET_COOKIE, cookie(request, "", Duration.ZERO, true).toString());
        return seeOther(response, callback, session.caller.name());
      case PREFIX + "/authorize":
        if (!method.equals("POST")) {
          return methodNotAllowed(response, callback, "POST");
        }
        if (session == null) {
          return signInPage(response, callback, 401, "Your session has ended: sign in again.");
        }
        Map<String, String> fields = form(request);
        if (fields == null || !csrfMatches(session, fields.get("csrf"))) {
          return csrfRefused(response, callback, session);
        }
        return authorize(response, callback, session, fields.get("connection"));
      default:
        return page(
            response,
            callback,
            404,
            "Not found",
            "<p>No such page. <a href=\"/status\">Back to the status page</a>.</p>",
            session,
            "not-found");
    }
  }

  private Result signIn(Request request, Response response, Callback callback) {
    String address = Request.getRemoteAddr(request);
    long wait = sessions.attempt(address == null ? "?" : address);
    if (wait > 0) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(wait));
      return signInPage(
          response,
          callback,
          429,
          "Too many sign-in attempts from this address: try again in " + wait + " seconds.");
    }
    Map<String, String> form = form(request);
    String secret = form == null ? null : form.get("secret");
    AccessControl.Caller caller =
        secret == null || secret.isEmpty() ? null : access.clientBySecret(secret.strip());
    if (caller == null) {
      return signInPage(
          response,
          callback,
          401,
          "Sign-in failed: that is not the secret of a client configured for this service.");
    }
    // A new session id on every sign-in (no fixation); an old session of this browser ends.
    sessions.end(request);
    String id = sessions.start(caller);
    response
        .getHeaders()
        .add(HttpHeader.SET_COOKIE, cookie(request, id, StatusSessions.LIFETIME, false));
    return seeOther(response, callback, caller.name());
  }

  private Result list(Response response, Callback callback, StatusSessions.Session session) {
    StringBuilder b = new StringBuilder();
    b.append("<table><thead><tr><th>connection</th><th>state</th><th>reason</th>")
        .append("<th>access token expires</th><th>refresh token expires</th>")
        .append("<th>last renewal</th><th>next attempt</th><th>failures</th><th>action</th>")
        .append("</tr></thead><tbody>");
    int shown = 0;
    for (ConnectionId id : broker.connections()) {
      if (!session.caller.mayRead(id)) {
        continue;
      }
      shown++;
      Health h;
      try {
        h = broker.health(id);
      } catch (RuntimeException e) {
        b.append("<tr><td>")
            .append(esc(id.toString()))
            .append("</td><td colspan=\"8\" class=\"error\">health unavailable</td></tr>");
        continue;
      }
      String state = h.state().name();
      b.append("<tr data-connection=\"")
          .append(esc(id.toString()))
          .append("\"><td>")
          .append(esc(id.toString()))
          .append("</td><td class=\"")
          .append(esc(state))
          .append("\">")
          .append(esc(state))
          .append("<br><span class=\"muted\">since ")
          .append(esc(time(h.since())))
          .append("</span></td><td>");
      if (h.reasonCode() != null) {
        b.append("<code>").append(esc(h.reasonCode())).append("</code>");
      }
      if (h.reason() != null) {
        b.append("<br>").append(esc(h.reason()));
      }
      if (h.errorCode() != null) {
        b.append("<br><span class=\"muted\">platform error ")
            .append(esc(h.errorCode()))
            .append("</span>");
      }
      b.append("</td><td>")
          .append(esc(time(h.accessTokenExpiresAt())))
          .append("</td><td>")
          .append(esc(time(h.refreshTokenExpiresAt())))
          .append("</td><td>")
          .append(esc(time(h.lastRenewalAt())))
          .append("</td><td>")
          .append(esc(time(h.nextAttemptAt())))
          .append("</td><td>")
          .append(h.consecutiveFailures())
          .append(h.unsaved() ? "<br><span class=\"error\">not saved to the store</span>" : "")
          .append("</td><td>");
      if (h.state() == Health.State.REAUTHORIZATION_REQUIRED) {
        b.append("<form class=\"inline\" method=\"post\" action=\"/status/authorize\">")
            .append(csrfField(session))
            .append("<input type=\"hidden\" name=\"connection\" value=\"")
            .append(esc(id.toString()))
            .append("\"><button type=\"submit\">Start re-authorization</button></form>");
      }
      b.append("</td></tr>");
    }
    b.append("</tbody></table>");
    if (shown == 0) {
      b.append("<p class=\"muted\">This client may read no connection.</p>");
    }
    b.append("<p class=\"muted\">Read at ")
        .append(esc(time(clock.instant())))
        .append(". Reload for fresh health; no token is ever shown here.</p>");
    return page(response, callback, 200, "Connections", b.toString(), session, null);
  }

  private Result authorize(
      Response response,
      Callback callback,
      StatusSessions.Session session,
      @Nullable String connection) {
    ConnectionId id;
    try {
      id = ConnectionId.parse(connection == null ? "" : connection);
    } catch (RuntimeException e) {
      return page(
          response,
          callback,
          400,
          "Re-authorization",
          "<p class=\"error\">Not a connection id.</p>" + back(),
          session,
          "bad-connection-id");
    }
    if (!session.caller.mayRead(id) || !broker.connections().contains(id)) {
      return page(
          response,
          callback,
          403,
          "Re-authorization",
          "<p class=\"error\">This client may not act on " + esc(id.toString()) + ".</p>" + back(),
          session,
          "forbidden");
    }
    AuthorizationRequest started;
    try {
      if (broker.health(id).state() != Health.State.REAUTHORIZATION_REQUIRED) {
        return page(
            response,
            callback,
            409,
            "Re-authorization",
            "<p>" + esc(id.toString()) + " does not need re-authorization.</p>" + back(),
            session,
            "not-needed");
      }
      started = broker.startAuthorization(id);
    } catch (TokenBrokerException | IllegalStateException e) {
      return page(
          response,
          callback,
          409,
          "Re-authorization",
          "<p class=\"error\">Cannot start an authorization for "
              + esc(id.toString())
              + ": "
              + esc(e.getClass().getSimpleName())
              + ".</p>"
              + back(),
          session,
          "cannot-start");
    }
    String url = started.url().toString();
    String body =
        "<p>An authorization for <strong>"
            + esc(id.toString())
            + "</strong> has started. Open the platform's page and sign in there as the shop"
            + " owner; the platform sends you back to the configured redirect URI, which completes"
            + " it (good for one use, for 15 minutes).</p>"
            + "<p><a id=\"authorize-link\" rel=\"noreferrer noopener\" href=\""
            + esc(url)
            + "\">Open "
            + esc(started.url().getHost() == null ? "the platform" : started.url().getHost())
            + " to authorize</a></p>"
            + back();
    return page(response, callback, 200, "Re-authorization", body, session, null);
  }

  /**
   * The platform's redirect after a person approved: completes whichever authorization its {@code
   * state} belongs to (started here, on another instance, or by the application), exactly once. No
   * session: a cross-site redirect carries no SameSite=Strict cookie, and the single-use,
   * unguessable state is the credential. Configure a connection's {@code redirect-uri} as {@code
   * https://HOST:PORT/status/callback} to complete authorizations here.
   */
  private Result authorizationCallback(
      Request request, Response response, Callback callback, String method) {
    if (!method.equals("GET")) {
      return methodNotAllowed(response, callback, "GET");
    }
    String query = request.getHttpURI().getQuery();
    try {
      ConnectionId id = broker.handleCallback("?" + (query == null ? "" : query));
      return page(
          response,
          callback,
          200,
          "Connected",
          "<p id=\"connected\"><strong>"
              + esc(id.toString())
              + "</strong> is connected. You can close this tab.</p>",
          null,
          null);
    } catch (TokenBrokerException e) {
      // AuthorizationException and TokenEndpointException messages carry no code, state or token
      return page(
          response,
          callback,
          400,
          "Not connected",
          "<p class=\"error\">" + esc(e.getMessage()) + "</p>",
          null,
          "authorization-failed");
    }
  }

  /** An {@code application/x-www-form-urlencoded} body of at most 4 KiB, or null. */
  private static @Nullable Map<String, String> form(Request request) {
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null || !type.startsWith("application/x-www-form-urlencoded")) {
      return null;
    }
    if (request.getLength() > MAX_FORM) {
      return null;
    }
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_FORM + 1);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (bytes.length > MAX_FORM) {
      return null;
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String pair : new String(bytes, StandardCharsets.UTF_8).split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        fields.putIfAbsent(name, value);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return fields;
  }
}
