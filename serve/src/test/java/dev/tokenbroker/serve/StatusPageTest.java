package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page over HTTP: sign-in, session cookie, CSRF, rate limit, headers, what each client
 * sees. The rendering in a real browser is {@link StatusPageChromiumTest}.
 */
class StatusPageTest {
  static final String REPORTS_SECRET = "reports-secret-0123456789";
  static final String ADMIN_SECRET = "admin-secret-0123456789ab";

  @TempDir Path dir;
  private Fixture fx;
  private InMemoryTokenStore store;
  private TokenService service;
  private final OkHttpClient http = Fixture.HTTP.newBuilder().followRedirects(false).build();

  @BeforeEach
  void start() throws IOException {
    fx = new Fixture(dir);
    store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP); // OTHER is never authorized: it needs a person
    ServeConfig config =
        ServeConfig.builder()
            .tcp("127.0.0.1", 0)
            .socket(dir.resolve("run").resolve("tb.sock"))
            .client(
                "reports", fx.secret("reports.secret", REPORTS_SECRET), List.of("oauth2-test:shop"))
            .client("admin", fx.secret("admin.secret", ADMIN_SECRET), List.of("*"))
            .build();
    service = fx.service(config).start(fx.broker(store));
  }

  @AfterEach
  void stop() {
    http.connectionPool().evictAll(); // idle keep-alive connections would hold up the stop
    service.close();
    fx.close();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + service.tcpPort() + path;
  }

  private Response get(String path, String cookie) throws IOException {
    Request.Builder b = new Request.Builder().url(url(path));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.newCall(b.build()).execute();
  }

  private Response post(String path, String cookie, String... fields) throws IOException {
    FormBody.Builder form = new FormBody.Builder();
    for (int i = 0; i < fields.length; i += 2) {
      form.add(fields[i], fields[i + 1]);
    }
    Request.Builder b = new Request.Builder().url(url(path)).post(form.build());
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.newCall(b.build()).execute();
  }

  /** Signs in; the {@code name=value} of the session cookie. */
  private String signIn(String secret) throws IOException {
    try (Response r = post("/status/sign-in", null, "secret", secret)) {
      assertThat(r.code()).isEqualTo(303);
      assertThat(r.header("Location")).isEqualTo("/status");
      String setCookie = r.header("Set-Cookie");
      assertThat(setCookie)
          .startsWith(StatusSessions.COOKIE + "=")
          .contains("; HttpOnly", "; SameSite=Strict", "; Path=/status")
          .doesNotContain("Secure"); // plain HTTP on loopback; Secure over TLS
      return setCookie.substring(0, setCookie.indexOf(';'));
    }
  }

  private static String csrf(String html) {
    Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
    assertThat(m.find()).as("a CSRF field").isTrue();
    return m.group(1);
  }

  @Test
  void signInPage_hasTheSecurityHeaders_andNoScript() throws IOException {
    try (Response r = get("/status", null)) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.header("Content-Security-Policy"))
          .contains("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'")
          .doesNotContain("script-src", "unsafe-inline");
      assertThat(r.header("X-Frame-Options")).isEqualTo("DENY");
      assertThat(r.header("Referrer-Policy")).isEqualTo("no-referrer");
      assertThat(r.header("Cache-Control")).isEqualTo("no-store");
      String html = r.body().string();
      assertThat(html).contains("name=\"secret\"", "type=\"password\"").doesNotContain("<script");
    }
  }

  @Test
  void signedIn_listsOnlyWhatTheClientMayRead_withHealth_andNoToken() throws IOException {
    String cookie = signIn(REPORTS_SECRET);
    try (Response r = get("/status", cookie)) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.header("Content-Security-Policy")).isEqualTo(StatusHtml.CSP);
      String html = r.body().string();
      assertThat(html)
          .contains("oauth2-test:shop", "ACTIVE", "signed in as")
          .doesNotContain("oauth2-test:other");
      assertThat(html).contains(store.load(SHOP).expiresAt().toString());
      for (String token : fx.tokens) {
        assertThat(html).doesNotContain(token);
      }
      assertThat(html).doesNotContain(REPORTS_SECRET);
    }
    String admin = signIn(ADMIN_SECRET);
    try (Response r = get("/status", admin)) {
      String html = r.body().string();
      assertThat(html)
          .contains(
              "oauth2-test:shop", "oauth2-test:other", "REAUTHORIZATION_REQUIRED", "not-authorized")
          .contains("action=\"/status/authorize\"");
    }
  }

  @Test
  void wrongSecret_clearMessage_noHint_noCookie() throws IOException {
    for (String wrong : List.of("", "nope", REPORTS_SECRET + "x", ADMIN_SECRET.substring(1))) {
      try (Response r = post("/status/sign-in", null, "secret", wrong)) {
        assertThat(r.code()).isEqualTo(401);
        assertThat(r.header("Set-Cookie")).isNull();
        assertThat(r.body().string())
            .contains("Sign-in failed: that is not the secret of a client configured")
            .doesNotContain(wrong.isEmpty() ? "\u0000" : wrong);
      }
    }
  }

  @Test
  void signIn_isRateLimited_perAddress_andTheWindowPasses() throws IOException {
    for (int i = 0; i < StatusSessions.ATTEMPTS_PER_WINDOW; i++) {
      try (Response r = post("/status/sign-in", null, "secret", "wrong-" + i)) {
        assertThat(r.code()).isEqualTo(401);
      }
    }
    // Over the limit even the right secret is refused, with a clear message and Retry-After.
    try (Response r = post("/status/sign-in", null, "secret", ADMIN_SECRET)) {
      assertThat(r.code()).isEqualTo(429);
      assertThat(r.header("Retry-After")).isNotNull();
      assertThat(r.header("Set-Cookie")).isNull();
      assertThat(r.body().string()).contains("Too many sign-in attempts");
    }
    fx.clock.advance(StatusSessions.WINDOW);
    signIn(ADMIN_SECRET);
  }

  @Test
  void postsWithoutTheSessionsCsrfToken_areRefused() throws IOException {
    String cookie = signIn(ADMIN_SECRET);
    String other = signIn(REPORTS_SECRET);
    String otherCsrf;
    try (Response r = get("/status", other)) {
      otherCsrf = csrf(r.body().string());
    }
    for (String[] fields :
        new String[][] {
          {"connection", "oauth2-test:other"},
          {"connection", "oauth2-test:other", "csrf", ""},
          {"connection", "oauth2-test:other", "csrf", otherCsrf}, // another session's token
        }) {
      try (Response r = post("/status/authorize", cookie, fields)) {
        assertThat(r.code()).isEqualTo(403);
        assertThat(r.body().string()).contains("stale or did not come from this page");
      }
    }
    try (Response r = post("/status/sign-out", cookie, "csrf", otherCsrf)) {
      assertThat(r.code()).isEqualTo(403);
    }
    try (Response r = get("/status", cookie)) {
      assertThat(r.body().string()).contains("signed in as"); // still signed in
    }
  }

  @Test
  void authorize_startsTheFlow_andLinksToThePlatform_onlyForWhatTheClientMayRead()
      throws IOException {
    String reports = signIn(REPORTS_SECRET);
    String csrf;
    try (Response r = get("/status", reports)) {
      csrf = csrf(r.body().string());
    }
    try (Response r =
        post("/status/authorize", reports, "csrf", csrf, "connection", "oauth2-test:other")) {
      assertThat(r.code()).isEqualTo(403);
    }
    try (Response r =
        post("/status/authorize", reports, "csrf", csrf, "connection", "oauth2-test:shop")) {
      assertThat(r.code()).isEqualTo(409); // active: nothing to do
    }
    String admin = signIn(ADMIN_SECRET);
    try (Response r = get("/status", admin)) {
      csrf = csrf(r.body().string());
    }
    try (Response r =
        post("/status/authorize", admin, "csrf", csrf, "connection", "oauth2-test:other")) {
      assertThat(r.code()).isEqualTo(200);
      String html = r.body().string();
      assertThat(html).contains("id=\"authorize-link\"", "href=\"" + fx.emulator.baseUrl());
      assertThat(html).contains("state=").contains("&amp;"); // the query is escaped
    }
  }

  @Test
  void callback_completesTheAuthorizationOnce_withoutASession() throws IOException {
    String admin = signIn(ADMIN_SECRET);
    String csrf;
    try (Response r = get("/status", admin)) {
      csrf = csrf(r.body().string());
    }
    String link;
    try (Response r =
        post("/status/authorize", admin, "csrf", csrf, "connection", "oauth2-test:other")) {
      Matcher m =
          Pattern.compile("id=\"authorize-link\"[^>]*href=\"([^\"]+)\"").matcher(r.body().string());
      assertThat(m.find()).isTrue();
      link = m.group(1).replace("&amp;", "&");
    }
    String query;
    try (Response approved =
        http.newCall(new Request.Builder().url(link).build()).execute()) { // the person approves
      assertThat(approved.code()).isEqualTo(302);
      query = okhttp3.HttpUrl.get(approved.header("Location")).encodedQuery();
    }

    try (Response r = get("/status/callback?" + query, null)) { // the platform's redirect
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.body().string()).contains("oauth2-test:other", "is connected");
    }
    assertThat(store.load(ConnectionId.parse("oauth2-test:other"))).isNotNull();
    try (Response again = get("/status/callback?" + query, null)) {
      assertThat(again.code()).as("the state is spent").isEqualTo(400);
      assertThat(again.body().string()).contains("unknown state");
    }
  }

  @Test
  void signOut_endsTheSession_andClearsTheCookie() throws IOException {
    String cookie = signIn(ADMIN_SECRET);
    String csrf;
    try (Response r = get("/status", cookie)) {
      csrf = csrf(r.body().string());
    }
    try (Response r = post("/status/sign-out", cookie, "csrf", csrf)) {
      assertThat(r.code()).isEqualTo(303);
      assertThat(r.header("Set-Cookie")).contains("Max-Age=0");
    }
    try (Response r = get("/status", cookie)) {
      assertThat(r.body().string()).contains("name=\"secret\"").doesNotContain("oauth2-test:shop");
    }
  }

  @Test
  void sessionsExpire_afterIdleTime() throws IOException {
    String cookie = signIn(ADMIN_SECRET);
    fx.clock.advance(StatusSessions.IDLE.minus(Duration.ofSeconds(1)));
    try (Response r = get("/status", cookie)) {
      assertThat(r.body().string()).contains("signed in as");
    }
    fx.clock.advance(StatusSessions.IDLE);
    try (Response r = get("/status", cookie)) {
      assertThat(r.body().string()).contains("name=\"secret\"").doesNotContain("signed in as");
    }
    try (Response r = get("/status", StatusSessions.COOKIE + "=forged-session-id")) {
      assertThat(r.body().string()).contains("name=\"secret\"");
    }
  }

  @Test
  void foreignHost_isRefused_andTheSocketHasNoStatusPage() throws IOException {
    try (Response r =
        http.newCall(
                new Request.Builder().url(url("/status")).header("Host", "evil.example").build())
            .execute()) {
      assertThat(r.code()).isEqualTo(421);
    }
    RawHttp.Reply a = RawHttp.unix(service.socketPath(), "GET", "/status");
    assertThat(a.status()).isEqualTo(404);
  }

  @Test
  void escapesText() {
    assertThat(StatusHtml.esc("<a href=\"x\">'&'</a>"))
        .isEqualTo("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  }
}
