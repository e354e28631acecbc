package dev.tokenbroker.serve;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * The status page's HTML and how it is sent: the page frame (title, signed-in client, sign-out
 * form), the sign-in form, the shared fragments, the style sheet, and every response's security
 * headers. Text goes into HTML only through {@link #esc}.
 */
final class StatusHtml {
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

  private StatusHtml() {}

  static StatusPage.Result styleSheet(Response response, Callback callback) {
    return write(response, callback, 200, "text/css; charset=utf-8", CSS, null, null);
  }

  static StatusPage.Result signInPage(
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

  static StatusPage.Result page(
      Response response,
      Callback callback,
      int status,
      String title,
      String bodyHtml,
      StatusSessions.@Nullable Session session,
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

  private static StatusPage.Result write(
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
    return new StatusPage.Result(status, client, error);
  }

  private static void securityHeaders(Response response) {
    response.getHeaders().put("Content-Security-Policy", CSP);
    response.getHeaders().put("X-Frame-Options", "DENY");
    response.getHeaders().put("Referrer-Policy", "no-referrer");
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  static StatusPage.Result seeOther(Response response, Callback callback, @Nullable String client) {
    securityHeaders(response);
    response.setStatus(303);
    response.getHeaders().put(HttpHeader.LOCATION, StatusPage.PREFIX);
    response.write(true, null, callback);
    return new StatusPage.Result(303, client, null);
  }

  static StatusPage.Result methodNotAllowed(Response response, Callback callback, String allow) {
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

  static StatusPage.Result csrfRefused(
      Response response, Callback callback, StatusSessions.Session session) {
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

  static String csrfField(StatusSessions.Session session) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(session.csrf) + "\">";
  }

  static String back() {
    return "<p><a href=\"/status\">Back to the status page</a></p>";
  }

  static String time(@Nullable Instant instant) {
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
