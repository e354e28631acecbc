package dev.tokenbroker.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * A loopback HTTP server that answers every request with the answer a fuzz case set: the status and
 * body of a platform's answer, mutated. Counts the requests, so a property can check that a request
 * was sent once. One per test class; {@link #close} when done.
 */
public final class AnswerServer implements AutoCloseable {
  private final MockWebServer server = new MockWebServer();
  private final AtomicReference<String> body = new AtomicReference<>("");
  private final AtomicInteger status = new AtomicInteger(500);
  private final AtomicInteger requests = new AtomicInteger();

  public AnswerServer() {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            requests.incrementAndGet();
            MockResponse r =
                new MockResponse()
                    .setResponseCode(status.get())
                    .setHeader("Content-Type", "application/json;charset=UTF-8")
                    .setBody(body.get());
            // Each answer on its own connection: a mutated answer must not leave a pooled
            // connection in a state the next case trips over (the client would wait for its read
            // timeout). HTTP framing is OkHttp's business; these cases are about the bodies.
            r.setHeader("Connection", "close");
            return r;
          }
        });
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Answers every following request with {@code status} and {@code body} (JSON content type). */
  public void answer(int status, String body) {
    requests.set(0);
    this.status.set(status);
    this.body.set(body);
  }

  /** Requests since the last {@link #answer}. */
  public int requests() {
    return requests.get();
  }

  /** The server's root URL ({@code http://127.0.0.1:port/}). */
  public HttpUrl url() {
    return server.url("/");
  }

  @Override
  public void close() {
    try {
      server.shutdown();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
