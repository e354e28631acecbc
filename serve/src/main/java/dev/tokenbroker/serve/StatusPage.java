package dev.tokenbroker.serve;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
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
 * constant time. Sign-in attempts are limited to {@link #ATTEMPTS_PER_WINDOW} a minute per remote
 * address. Every page is escaped HTML with no script, a strict {@code Content-Security-Policy},
 * {@code X-Frame-Options: DENY}, {@code Referrer-Policy: no-referrer} and {@code Cache-Control:
 * no-store}. TCP only: on the Unix socket no browser can reach it and there is no client to sign in
 * as.
 */
final class StatusPage {
  static final String PREFIX = "/status";
  static final String COOKIE = "tokenbroker_session";
  static final Duration IDLE = Duration.ofMinutes(30);
  static final Duration LIFETIME = Duration.ofHours(8);
  static final int ATTEMPTS_PER_WINDOW = 10;
  static final Duration WINDOW = Duration.ofMinutes(1);
  static final int MAX_SESSIONS = 1000;
  private static final int MAX_FORM = 4096;

  static final String CSP =
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
          + "frame-ancestors 'none'; base-uri 'none'";

  private static final String CSS =
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
          + "table{border-collapse:collapse;margin-top:1em}"
          + "th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}"
          + "th{background:#f3f3f3}.ACTIVE{color:#176b21}.DEGRADED{color:#9a6700}"
          + ".REAUTHORIZATION_REQUIRED{color:#b42318;font-weight:bold}"
          + ".error{color:#b42318}.muted{color:#666}form.inline{display:inline}"
          + "header{display:flex;gap:1em;align-items:baseline}";

  /** A signed-in browser: which client, its CSRF token, and when it ends. */
  private static final class Session {
    final AccessControl.Caller caller;
    final String csrf;
    final Instant signedIn;
    Instant lastUsed;

    Session(AccessControl.Caller caller, String csrf, Instant now) {
      this.caller = caller;
      this.csrf = csrf;
      this.signedIn = now;
      this.lastUsed = now;
    }
  }

  private static final class Attempts {
    Instant windowStart;
    int count;

    Attempts(Instant windowStart) {
      this.windowStart = windowStart;
    }
  }

  private final TokenBroker broker;
  private final Clock clock;
  private final AccessControl access;
  private final SecureRandom random = new SecureRandom();
  // Keyed by the hex SHA-256 of the session id: the id itself is never kept.
  private final Map<String, Session> sessions = new HashMap<>();
  private final Map<String, Attempts> attempts = new HashMap<>();

  StatusPage(TokenBroker broker, Clock clock, AccessControl access) {
    this.broker = broker;
    this.clock = clock;
    this.access = access;
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
      return write(response, callback, 200, "text/css; charset=utf-8", CSS, null, null);
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
    Session session = session(request);
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
        end(request);
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
    long wait = attempt(address == null ? "?" : address);
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
    end(request);
    String id = randomToken();
    Instant now = clock.instant();
    synchronized (sessions) {
      prune(now);
      if (sessions.size() >= MAX_SESSIONS) {
        // Drop the least recently used: a flood of sign-ins cannot grow the map without bound.
        String oldest = null;
        Instant oldestUse = null;
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
          if (oldestUse == null || e.getValue().lastUsed.isBefore(oldestUse)) {
            oldest = e.getKey();
            oldestUse = e.getValue().lastUsed;
          }
        }
        sessions.remove(oldest);
      }
      sessions.put(hash(id), new Session(caller, randomToken(), now));
    }
    response.getHeaders().add(HttpHeader.SET_COOKIE, cookie(request, id, LIFETIME, false));
    return seeOther(response, callback, caller.name());
  }

  /** Counts an attempt; the seconds to wait when over the limit, else 0. */
  private long attempt(String address) {
    Instant now = clock.instant();
    synchronized (attempts) {
      if (attempts.size() > 10_000) {
        attempts.values().removeIf(a -> !now.isBefore(a.windowStart.plus(WINDOW)));
      }
      Attempts a = attempts.computeIfAbsent(address, k -> new Attempts(now));
      if (!now.isBefore(a.windowStart.plus(WINDOW))) {
        a.windowStart = now;
        a.count = 0;
      }
      if (a.count >= ATTEMPTS_PER_WINDOW) {
        return Math.max(1, Duration.between(now, a.windowStart.plus(WINDOW)).toSeconds());
      }
      a.count++;
      return 0;
    }
  }

  private Result list(Response response, Callback callback, Session session) {
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
      Response response, Callback callback, Session session, @Nullable String connection) {
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

  private static String back() {
    return "<p><a href=\"/status\">Back to the status page</a></p>";
  }

  // Sessions and cookies

  private @Nullable Session session(Request request) {
    String id = cookieValue(request);
    if (id == null) {
      return null;
    }
    String key = hash(id);
    Instant now = clock.instant();
    synchronized (sessions) {
      Session s = sessions.get(key);
      if (s == null) {
        return null;
      }
      if (expired(s, now)) {
        sessions.remove(key);
        return null;
      }
      s.lastUsed = now;
      return s;
    }
  }

  private static boolean expired(Session s, Instant now) {
    return !now.isBefore(s.lastUsed.plus(IDLE)) || !now.isBefore(s.signedIn.plus(LIFETIME));
  }

  private void prune(Instant now) {
    for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
      if (expired(it.next(), now)) {
        it.remove();
      }
    }
  }

  private void end(Request request) {
    String id = cookieValue(request);
    if (id != null) {
      synchronized (sessions) {
        sessions.remove(hash(id));
      }
    }
  }

  int sessionCount() {
    synchronized (sessions) {
      return sessions.size();
    }
  }

  private static @Nullable String cookieValue(Request request) {
    for (String header : request.getHeaders().getValuesList(HttpHeader.COOKIE)) {
      for (String part : header.split(";")) {
        String p = part.strip();
        if (p.startsWith(COOKIE + "=")) {
          String v = p.substring(COOKIE.length() + 1);
          return v.isEmpty() || v.length() > 100 ? null : v;
        }
      }
    }
    return null;
  }

  private static String cookie(Request request, String value, Duration maxAge, boolean clear) {
    return COOKIE
        + "="
        + value
        + "; Path=/status; Max-Age="
        + (clear ? 0 : maxAge.toSeconds())
        + "; HttpOnly; SameSite=Strict"
        + (request.isSecure() ? "; Secure" : "");
  }

  private static boolean csrfMatches(Session session, @Nullable String presented) {
    return presented != null
        && MessageDigest.isEqual(
            session.csrf.getBytes(StandardCharsets.US_ASCII),
            presented.getBytes(StandardCharsets.UTF_8));
  }

  private static String csrfField(Session session) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(session.csrf) + "\">";
  }

  private Result csrfRefused(Response response, Callback callback, Session session) {
    return page(
        response,
        callback,
        403,
        "Refused",
        "<p class=\"error\">This form is stale or did not come from this page: "
            + "reload the status page and try again.</p>"
            + back(),
        session,
        "csrf");
  }

  private String randomToken() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String hash(String value) {
    byte[] h = AccessControl.sha256(value.getBytes(StandardCharsets.UTF_8));
    StringBuilder b = new StringBuilder();
    for (byte x : h) {
      b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return b.toString();
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

  // HTML

  private Result signInPage(
      Response response, Callback callback, int status, @Nullable String message) {
    StringBuilder b = new StringBuilder();
    if (message != null) {
      b.append("<p class=\"error\" id=\"message\">").append(esc(message)).append("</p>");
    }
    b.append("<form method=\"post\" action=\"/status/sign-in\">")
        .append("<p><label for=\"secret\">Client secret</label><br>")
        .append("<input type=\"password\" id=\"secret\" name=\"secret\" required")
        .append(" autocomplete=\"current-password\" size=\"40\"></p>")
        .append("<p><button type=\"submit\">Sign in</button></p></form>")
        .append("<p class=\"muted\">Sign in with the secret of one of this service's clients")
        .append(" (serve.yaml <code>clients:</code>); you see the connections it may read.</p>");
    String error = status == 401 ? "unauthorized" : status == 429 ? "rate-limited" : null;
    return page(response, callback, status, "Sign in", b.toString(), null, error);
  }

  private Result page(
      Response response,
      Callback callback,
      int status,
      String title,
      String bodyHtml,
      @Nullable Session session,
      @Nullable String error) {
    String client = session == null ? null : session.caller.name();
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width\">")
        .append("<title>tokenbroker · ")
        .append(esc(title))
        .append("</title><link rel=\"stylesheet\" href=\"/status/style.css\"></head><body>")
        .append("<header><h1>tokenbroker · ")
        .append(esc(title))
        .append("</h1>");
    if (session != null) {
      b.append("<span class=\"muted\">signed in as <span id=\"client\">")
          .append(esc(session.caller.name()))
          .append("</span></span>")
          .append("<form class=\"inline\" method=\"post\" action=\"/status/sign-out\">")
          .append(csrfField(session))
          .append("<button type=\"submit\" id=\"sign-out\">Sign out</button></form>");
    }
    b.append("</header>").append(bodyHtml).append("</body></html>");
    return write(
        response, callback, status, "text/html; charset=utf-8", b.toString(), client, error);
  }

  private static Result write(
      Response response,
      Callback callback,
      int status,
      String type,
      String body,
      @Nullable String client,
      @Nullable String error) {
    securityHeaders(response);
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    return new Result(status, client, error);
  }

  private static void securityHeaders(Response response) {
    response.getHeaders().put("Content-Security-Policy", CSP);
    response.getHeaders().put("X-Frame-Options", "DENY");
    response.getHeaders().put("Referrer-Policy", "no-referrer");
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  private static Result seeOther(Response response, Callback callback, @Nullable String client) {
    securityHeaders(response);
    response.setStatus(303);
    response.getHeaders().put(HttpHeader.LOCATION, PREFIX);
    response.write(true, null, callback);
    return new Result(303, client, null);
  }

  private static Result methodNotAllowed(Response response, Callback callback, String allow) {
    response.getHeaders().put(HttpHeader.ALLOW, allow);
    return write(
        response,
        callback,
        405,
        "text/plain; charset=utf-8",
        "method not allowed: use " + allow + "\n",
        null,
        "method-not-allowed");
  }

  private static String time(@Nullable Instant instant) {
    return instant == null ? "—" : instant.toString();
  }

  /** HTML-escapes text for element content and double-quoted attribute values. */
  static String esc(@Nullable String text) {
    if (text == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
