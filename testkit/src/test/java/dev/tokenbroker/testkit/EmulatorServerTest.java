package dev.tokenbroker.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.FormBody;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The emulators' own HTTP server: recording, faults, gates, framing. */
class EmulatorServerTest {
  /** Counts what it processed; answers the form's {@code echo} field with the emulator's Date. */
  static final class Echo extends EmulatorServer {
    final AtomicInteger processed = new AtomicInteger();

    Echo() {
      super(FakeClock.create());
    }

    @Override
    protected MockResponse handle(RecordedRequest request) {
      if (pathOf(request).equals("/boom")) {
        throw new IllegalStateException("secret-in-message");
      }
      processed.incrementAndGet();
      return json(200, obj("echo", form(request).get("echo"), "query", query(request).get("q")))
          .setHeader("Date", "Mon, 01 Jan 2001 00:00:00 GMT");
    }
  }

  private final Echo echo = new Echo().start();
  private final OkHttpClient http =
      new OkHttpClient.Builder().retryOnConnectionFailure(false).build();

  @AfterEach
  void tearDown() {
    echo.close();
  }

  private Response post(String path, String value) throws IOException {
    return http.newCall(
            new Request.Builder()
                .url(echo.url(path))
                .header("X-Test", "yes")
                .post(new FormBody.Builder().add("echo", value).build())
                .build())
        .execute();
  }

  @Test
  void recordsMethodPathQueryHeadersAndBody_andAnswersWithTheEmulatorsOwnDate() throws Exception {
    try (Response r = post("/a?q=1", "hello world")) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.header("Date")).isEqualTo("Mon, 01 Jan 2001 00:00:00 GMT");
      assertThat(r.body().string()).isEqualTo("{\"echo\":\"hello world\",\"query\":\"1\"}");
    }
    RecordedRequest sent = echo.lastRequest("/a");
    assertThat(sent.getMethod()).isEqualTo("POST");
    assertThat(sent.getPath()).isEqualTo("/a?q=1");
    assertThat(sent.getRequestLine()).isEqualTo("POST /a?q=1 HTTP/1.1");
    assertThat(sent.getHeader("x-test")).isEqualTo("yes");
    assertThat(sent.getBody().readUtf8()).isEqualTo("echo=hello%20world");
    assertThat(sent.getBody().readUtf8()).as("reading does not consume").isNotEmpty();
    assertThat(EmulatorServer.query(sent)).containsEntry("q", "1");
    assertThat(sent.toString()).isEqualTo("POST /a");
  }

  @Test
  void chunkedBodies_andKeepAlive() throws Exception {
    RequestBody chunked =
        new RequestBody() {
          @Override
          public MediaType contentType() {
            return MediaType.get("application/x-www-form-urlencoded");
          }

          @Override
          public long contentLength() {
            return -1; // unknown: OkHttp sends it chunked
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8("echo=").flush();
            sink.writeUtf8("chunks");
          }
        };
    for (int i = 0; i < 3; i++) {
      try (Response r =
          http.newCall(new Request.Builder().url(echo.url("/c")).post(chunked).build()).execute()) {
        assertThat(r.body().string()).contains("\"echo\":\"chunks\"");
      }
    }
    assertThat(echo.requests("/c")).hasSize(3);
    assertThat(http.connectionPool().connectionCount()).isEqualTo(1);
  }

  @Test
  void dropAfterProcessing_processesThenClosesWithoutAnAnswer() {
    echo.inject("/x", Fault.dropAfterProcessing());
    assertThatThrownBy(() -> post("/x", "v").close()).isInstanceOf(IOException.class);
    assertThat(echo.processed).hasValue(1);
    assertThat(echo.requests("/x")).hasSize(1);
  }

  @Test
  void dropBeforeProcessing_closesWithoutProcessing() {
    echo.inject("/x", Fault.dropBeforeProcessing());
    assertThatThrownBy(() -> post("/x", "v").close()).isInstanceOf(IOException.class);
    assertThat(echo.processed).hasValue(0);
    assertThat(echo.requests("/x")).hasSize(1);
  }

  @Test
  void respondFaults_replaceTheAnswer_rateLimitedCarriesRetryAfter() throws Exception {
    echo.inject("/x", Fault.rateLimited(7));
    echo.inject("/x", Fault.html(502));
    try (Response r = post("/x", "v")) {
      assertThat(r.code()).isEqualTo(429);
      assertThat(r.header("Retry-After")).isEqualTo("7");
    }
    try (Response r = post("/x", "v")) {
      assertThat(r.code()).isEqualTo(502);
      assertThat(r.header("Content-Type")).isEqualTo("text/html");
      assertThat(r.body().string()).contains("<html>");
    }
    assertThat(echo.processed).hasValue(0);
  }

  @Test
  void rewriteAndReplaceAfterProcessing_keepThePlatformsState() throws Exception {
    echo.inject("/x", Fault.rewriteAfterProcessing(body -> body.replace("v", "w")));
    echo.inject("/x", Fault.replaceAfterProcessing(503, "{}", "application/json"));
    try (Response r = post("/x", "v")) {
      assertThat(r.body().string()).contains("\"echo\":\"w\"");
    }
    try (Response r = post("/x", "v")) {
      assertThat(r.code()).isEqualTo(503);
    }
    assertThat(echo.processed).hasValue(2);
  }

  @Test
  void delay_holdsTheAnswerBack_pastTheClientsTimeout() {
    echo.inject("/x", Fault.delay(Duration.ofSeconds(5)));
    OkHttpClient impatient = http.newBuilder().readTimeout(Duration.ofMillis(200)).build();
    assertThatThrownBy(
            () ->
                impatient
                    .newCall(
                        new Request.Builder()
                            .url(echo.url("/x"))
                            .post(new FormBody.Builder().add("echo", "v").build())
                            .build())
                    .execute()
                    .close())
        .isInstanceOf(IOException.class);
    assertThat(echo.processed).hasValue(1);
  }

  @Test
  void gate_holdsRequestsUntilReleased() throws Exception {
    EmulatorServer.Gate gate = echo.hold("/g");
    CompletableFuture<Integer> call =
        CompletableFuture.supplyAsync(
            () -> {
              try (Response r = post("/g", "v")) {
                return r.code();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    assertThat(gate.awaitArrivals(1, 10, TimeUnit.SECONDS)).isTrue();
    assertThat(echo.processed).hasValue(0);
    gate.release();
    assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(echo.processed).hasValue(1);
  }

  @Test
  void aBugInAnEmulator_isA500NamingTheExceptionTypeOnly() throws Exception {
    try (Response r = post("/boom", "v")) {
      assertThat(r.code()).isEqualTo(500);
      assertThat(r.body().string())
          .contains("IllegalStateException")
          .doesNotContain("secret-in-message");
    }
  }

  @Test
  void listensOnLoopbackOnly() {
    assertThat(echo.baseUrl()).startsWith("http://127.0.0.1:");
    assertThat(echo.url("/p").toString()).isEqualTo(echo.baseUrl() + "/p");
  }
}
