package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real headless Chromium (the distribution's package): the page rendered by
 * {@code --dump-dom}, and a full flow driven over the DevTools protocol — a wrong secret, signing
 * in by typing the secret into the form, the connections listed with no token, the session cookie
 * HttpOnly and SameSite=Strict as the browser stored it, starting a re-authorization by its button,
 * and signing out. A screenshot of the signed-in page is kept in {@code
 * target/status-page-chromium.png}. Skipped only when no Chromium binary is on the PATH.
 */
class StatusPageChromiumTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long WAIT_SECONDS = 60;

  @TempDir Path dir;
  private Fixture fx;
  private InMemoryTokenStore store;
  private TokenService service;
  private @Nullable Process chromium;

  @BeforeEach
  void start() throws IOException {
    fx = new Fixture(dir);
    store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP); // oauth2-test:other is never authorized: it needs a person
    ServeConfig config =
        ServeConfig.builder()
            .tcp("127.0.0.1", 0)
            .client("admin", fx.secret("admin.secret", StatusPageTest.ADMIN_SECRET), List.of("*"))
            .build();
    service = fx.service(config).start(fx.broker(store));
  }

  @AfterEach
  void stop() {
    if (chromium != null) {
      chromium.descendants().forEach(ProcessHandle::destroyForcibly);
      chromium.destroyForcibly();
    }
    service.close();
    fx.close();
  }

  /** The Chromium binary on the PATH, or null. */
  static @Nullable Path chromiumBinary() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String name : List.of("chromium", "chromium-browser")) {
      for (String d : path.split(File.pathSeparator)) {
        Path p = Path.of(d, name);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  private String url(String path) {
    return "http://127.0.0.1:" + service.tcpPort() + path;
  }

  private void assertNoSecretOrToken(String text) {
    assertThat(text).doesNotContain(StatusPageTest.ADMIN_SECRET);
    for (String token : fx.tokens) {
      assertThat(text).doesNotContain(token);
    }
  }

  @Test
  void dumpDom_rendersTheSignInPage() throws Exception {
    Path binary = chromiumBinary();
    assumeTrue(binary != null, "no chromium binary on the PATH (apt-get install chromium)");
    Process p =
        new ProcessBuilder(
                binary.toString(),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--user-data-dir=" + dir.resolve("profile-dump"),
                "--dump-dom",
                url("/status"))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    chromium = p;
    CompletableFuture<String> out =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    assertThat(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    String dom = out.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(dom)
        .contains("<title>tokenbroker · Sign in</title>", "name=\"secret\"", "Sign in</button>");
  }

  @Test
  void fullFlow_overTheDevToolsProtocol() throws Exception {
    Path binary = chromiumBinary();
    assumeTrue(binary != null, "no chromium binary on the PATH (apt-get install chromium)");
    try (Cdp cdp = Cdp.launch(binary, dir.resolve("profile"), p -> chromium = p)) {
      cdp.send("Page.enable", Map.of());
      cdp.send("Network.enable", Map.of());

      // 1. The sign-in page; a wrong secret gets the clear message and no cookie.
      cdp.navigate(url("/status"));
      assertThat(cdp.dom()).contains("name=\"secret\"");
      Map<String, String> headers = cdp.responseHeaders(url("/status"));
      assertThat(headers)
          .containsEntry("content-security-policy", StatusHtml.CSP)
          .containsEntry("x-frame-options", "DENY")
          .containsEntry("referrer-policy", "no-referrer")
          .containsEntry("cache-control", "no-store");
      assertThat(cdp.eval("String(document.scripts.length)")).isEqualTo("0");
      cdp.typeSecretAndSubmit("not-the-secret-at-all");
      assertThat(cdp.dom()).contains("Sign-in failed: that is not the secret of a client");
      assertThat(cdp.cookies(url("/status"))).isEmpty();

      // 2. The right secret, typed into the form like a person would.
      cdp.typeSecretAndSubmit(StatusPageTest.ADMIN_SECRET);
      String list = cdp.dom();
      assertThat(list)
          .contains("Connections", "signed in as", "oauth2-test:shop", "oauth2-test:other")
          .contains("REAUTHORIZATION_REQUIRED", "not-authorized", "Start re-authorization")
          .contains(store.load(SHOP).expiresAt().toString());
      assertNoSecretOrToken(list);
      // The stylesheet loaded under the CSP (computed style of the state cell).
      assertThat(
              cdp.eval(
                  "getComputedStyle(document.querySelector('td.REAUTHORIZATION_REQUIRED')).fontWeight"))
          .isEqualTo("700");

      // The cookie as the browser keeps it: HttpOnly (invisible to scripts), SameSite=Strict.
      JsonNode cookies = cdp.cookies(url("/status"));
      assertThat(cookies).hasSize(1);
      JsonNode cookie = cookies.get(0);
      assertThat(cookie.get("name").asText()).isEqualTo(StatusSessions.COOKIE);
      assertThat(cookie.get("httpOnly").asBoolean()).isTrue();
      assertThat(cookie.get("sameSite").asText()).isEqualTo("Strict");
      assertThat(cdp.eval("document.cookie")).isEmpty();

      byte[] png =
          Base64.getDecoder()
              .decode(
                  cdp.send("Page.captureScreenshot", Map.of("format", "png")).get("data").asText());
      Path shot = Path.of("target", "status-page-chromium.png");
      Files.createDirectories(shot.getParent());
      Files.write(shot, png);
      assertThat(png.length).isGreaterThan(1000);

      // 3. Start the re-authorization of the connection that needs it: a POST with the CSRF
      // token, answered with the platform's link.
      cdp.clickAndWait(
          "document.querySelector('tr[data-connection=\"oauth2-test:other\"] button').click()");
      String started = cdp.dom();
      assertThat(started)
          .contains("An authorization for <strong>oauth2-test:other</strong> has started");
      String href = cdp.eval("document.getElementById('authorize-link').href");
      assertThat(href).startsWith(fx.emulator.baseUrl().toString()).contains("state=");
      assertNoSecretOrToken(started);

      // 4. Sign out: the session ends and the cookie is gone.
      cdp.navigate(url("/status"));
      cdp.clickAndWait("document.getElementById('sign-out').click()");
      assertThat(cdp.dom()).contains("name=\"secret\"").doesNotContain("oauth2-test:shop");
      assertThat(cdp.cookies(url("/status"))).isEmpty();
    }
  }

  /** A minimal DevTools-protocol client for one page, over OkHttp's WebSocket. */
  static final class Cdp implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();

    /** The events read while waiting for the last page to load. */
    private final List<JsonNode> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Cdp(String pageWebSocket) throws Exception {
      CompletableFuture<Void> open = new CompletableFuture<>();
      socket =
          Fixture.HTTP
              .newBuilder()
              .readTimeout(0, TimeUnit.SECONDS)
              .build()
              .newWebSocket(
                  new Request.Builder().url(pageWebSocket).build(),
                  new WebSocketListener() {
                    @Override
                    public void onOpen(WebSocket ws, Response response) {
                      open.complete(null);
                    }

                    @Override
                    public void onMessage(WebSocket ws, String text) {
                      try {
                        JsonNode m = JSON.readTree(text);
                        if (m.has("id")) {
                          CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
                          if (f != null) {
                            f.complete(m);
                          }
                        } else {
                          events.add(m);
                        }
                      } catch (IOException e) {
                        // not JSON: ignore
                      }
                    }

                    @Override
                    public void onFailure(WebSocket ws, Throwable t, @Nullable Response r) {
                      open.completeExceptionally(t);
                      pending.values().forEach(f -> f.completeExceptionally(t));
                    }
                  });
      open.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    static Cdp launch(Path binary, Path profile, java.util.function.Consumer<Process> started)
        throws Exception {
      Process p =
          new ProcessBuilder(
                  binary.toString(),
                  "--headless=new",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--no-first-run",
                  "--remote-debugging-address=127.0.0.1",
                  "--remote-debugging-port=0",
                  "--user-data-dir=" + profile,
                  "--window-size=1280,800",
                  "about:blank")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      started.accept(p);
      CompletableFuture<String> browserWs = new CompletableFuture<>();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                      browserWs.complete(m.group(1));
                    }
                  }
                } catch (IOException e) {
                  // the process ended
                }
                browserWs.completeExceptionally(new IllegalStateException("chromium exited"));
              },
              "chromium-stderr");
      reader.setDaemon(true);
      reader.start();
      String ws = browserWs.get(WAIT_SECONDS, TimeUnit.SECONDS);
      // ws://127.0.0.1:PORT/devtools/browser/ID: the page targets are listed at /json/list.
      String http = "http" + ws.substring(2, ws.indexOf("/devtools/"));
      try (Response r =
          Fixture.HTTP.newCall(new Request.Builder().url(http + "/json/list").build()).execute()) {
        for (JsonNode target : JSON.readTree(r.body().string())) {
          if ("page".equals(target.get("type").asText())) {
            return new Cdp(target.get("webSocketDebuggerUrl").asText());
          }
        }
      }
      throw new IllegalStateException("no page target in chromium");
    }

    JsonNode send(String method, Map<String, ?> params) throws Exception {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> f = new CompletableFuture<>();
      pending.put(id, f);
      ObjectNode m = JSON.createObjectNode();
      m.put("id", id);
      m.put("method", method);
      m.set("params", JSON.valueToTree(params));
      socket.send(JSON.writeValueAsString(m));
      JsonNode answer = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
      if (answer.has("error")) {
        throw new IllegalStateException(method + ": " + answer.get("error"));
      }
      return answer.get("result");
    }

    String eval(String expression) throws Exception {
      JsonNode r =
          send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
      if (r.has("exceptionDetails")) {
        throw new IllegalStateException("evaluation failed: " + r.get("exceptionDetails"));
      }
      JsonNode v = r.get("result").get("value");
      return v == null ? "" : v.asText();
    }

    String dom() throws Exception {
      return eval("document.documentElement.outerHTML");
    }

    void navigate(String url) throws Exception {
      events.clear();
      send("Page.navigate", Map.of("url", url));
      awaitLoad();
    }

    /** Runs a script that submits a form or follows a link, and waits for the next page. */
    void clickAndWait(String script) throws Exception {
      events.clear();
      eval(script);
      awaitLoad();
    }

    /** Focuses the secret field, types into it (real input events), and clicks Sign in. */
    void typeSecretAndSubmit(String secret) throws Exception {
      eval("document.getElementById('secret').focus()");
      send("Input.insertText", Map.of("text", secret));
      clickAndWait("document.querySelector('form[action=\"/status/sign-in\"] button').click()");
    }

    JsonNode cookies(String url) throws Exception {
      return send("Network.getCookies", Map.of("urls", List.of(url))).get("cookies");
    }

    /** The response headers (names in lower case) of the last page loaded from {@code url}. */
    Map<String, String> responseHeaders(String url) {
      Map<String, String> headers = null;
      for (JsonNode e : seen) {
        JsonNode response = e.path("params").path("response");
        if ("Network.responseReceived".equals(e.path("method").asText())
            && url.equals(response.path("url").asText())) {
          headers = new java.util.HashMap<>();
          for (var it = response.path("headers").fields(); it.hasNext(); ) {
            var h = it.next();
            headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue().asText());
          }
        }
      }
      return headers == null ? Map.of() : headers;
    }

    private void awaitLoad() throws Exception {
      seen.clear();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (true) {
        long left = deadline - System.nanoTime();
        JsonNode e = left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
        if (e == null) {
          throw new IllegalStateException("the page did not load within " + WAIT_SECONDS + " s");
        }
        seen.add(e);
        if ("Page.loadEventFired".equals(e.path("method").asText())) {
          return;
        }
      }
    }

    @Override
    public void close() {
      socket.close(1000, "done");
    }
  }
}
