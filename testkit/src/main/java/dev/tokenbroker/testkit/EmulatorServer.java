package dev.tokenbroker.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * The base of every emulator: a local HTTP/1.1 server on 127.0.0.1 (the JDK's sockets, no
 * dependency) that records every request, applies injected {@link Fault}s, can hold requests at a
 * {@link Gate} so a test decides the order of events, and hands everything else to {@link #handle}.
 * Subclasses keep their platform's state and must be thread-safe: requests arrive concurrently,
 * each connection on its own thread.
 *
 * <p>The request and answer types, {@link RecordedRequest} and {@link MockResponse}, are the
 * testkit's own; they keep the names and methods of OkHttp MockWebServer's types, which the
 * emulators were first built on, so no test library reaches an application's run time through the
 * testkit (the CLI's {@code demo} runs the emulators).
 */
public abstract class EmulatorServer implements Closeable {
  /** For subclasses writing JSON answers. */
  protected static final ObjectMapper JSON = new ObjectMapper();

  /** The clock the emulator issues and checks tokens by. */
  protected final Clock clock;

  private volatile @Nullable LoopbackHttpServer server;
  private final List<RecordedRequest> recorded = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Deque<Fault>> faults = new ConcurrentHashMap<>();
  private final Map<String, Gate> gates = new ConcurrentHashMap<>();
  private volatile boolean started;

  /**
   * @param clock the clock every token lifetime and code expiry is measured by
   */
  protected EmulatorServer(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Starts listening on a free loopback port. Returns this, for chaining.
   *
   * @param <T> this emulator's own type, so that chaining keeps it
   * @return this emulator, listening
   */
  @SuppressWarnings("unchecked")
  public <T extends EmulatorServer> T start() {
    if (started) {
      throw new IllegalStateException("emulator already started");
    }
    try {
      server = LoopbackHttpServer.start(getClass().getSimpleName(), this::dispatch);
      started = true;
      return (T) this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start emulator", e);
    }
  }

  /**
   * {@code http://127.0.0.1:PORT}, without a trailing slash.
   *
   * @return {@code http://127.0.0.1:PORT}, without a trailing slash
   */
  public String baseUrl() {
    checkStarted();
    return "http://127.0.0.1:" + port();
  }

  /**
   * The emulator's URL for {@code path}.
   *
   * @param path an absolute path such as {@code /oauth/token}
   * @return http://127.0.0.1:PORT followed by the path
   */
  public HttpUrl url(String path) {
    return Objects.requireNonNull(
        HttpUrl.get(baseUrl() + "/").resolve(path), () -> "not a path: " + path);
  }

  /**
   * The loopback port the emulator listens on.
   *
   * @return the port
   */
  public int port() {
    return checkStarted().port();
  }

  /**
   * Every request received so far, in order of arrival.
   *
   * @return the requests received on {@code path}, oldest first
   */
  public List<RecordedRequest> requests() {
    synchronized (recorded) {
      return List.copyOf(recorded);
    }
  }

  /**
   * Requests received whose path (without query) equals {@code path}.
   *
   * @param path the request path
   * @return the requests received on {@code path}, oldest first
   */
  public List<RecordedRequest> requests(String path) {
    List<RecordedRequest> out = new ArrayList<>();
    synchronized (recorded) {
      for (RecordedRequest r : recorded) {
        if (path.equals(pathOf(r))) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * The last request to {@code path}, or null.
   *
   * @param path the request path
   * @return the last request to {@code path}, or null
   */
  public @Nullable RecordedRequest lastRequest(String path) {
    List<RecordedRequest> r = requests(path);
    return r.isEmpty() ? null : r.get(r.size() - 1);
  }

  /**
   * Applies {@code fault} to the next request to {@code path}; faults queue up in order.
   *
   * @param path the request path
   * @param fault the fault
   */
  public void inject(String path, Fault fault) {
    faults.computeIfAbsent(path, p -> new ConcurrentLinkedDeque<>()).add(fault);
  }

  /** Removes every queued fault. */
  public void clearFaults() {
    faults.clear();
  }

  /**
   * Holds every following request to {@code path} (after it is recorded, before it is processed)
   * until the gate is released.
   *
   * @param path the request path
   * @return the gate; {@link Gate#release() release} it to let them go on
   */
  public Gate hold(String path) {
    Gate gate = new Gate();
    gates.put(path, gate);
    return gate;
  }

  @Override
  public void close() {
    for (Gate g : gates.values()) {
      g.release();
    }
    LoopbackHttpServer s = server;
    if (s != null) {
      s.close();
    }
  }

  /**
   * The platform's behaviour for a request no fault replaced.
   *
   * @param request the request to send
   * @return the platform's behaviour for a request no fault replaced
   */
  protected abstract MockResponse handle(RecordedRequest request);

  private MockResponse dispatch(RecordedRequest request) throws InterruptedException {
    recorded.add(request);
    String path = pathOf(request);
    Gate gate = gates.get(path);
    if (gate != null) {
      gate.pass();
    }
    Deque<Fault> queue = faults.get(path);
    Fault fault = queue == null ? null : queue.poll();
    if (fault == null) {
      return handle(request);
    }
    switch (fault.type) {
      case RESPOND:
        MockResponse r =
            new MockResponse()
                .setResponseCode(fault.status)
                .setHeader("Content-Type", fault.contentType)
                .setBody(Objects.requireNonNull(fault.body));
        if (fault.retryAfter != null) {
          r.setHeader("Retry-After", fault.retryAfter);
        }
        return r;
      case DELAY:
        return handle(request).setHeadersDelay(fault.delay.toMillis(), TimeUnit.MILLISECONDS);
      case DROP_BEFORE:
        return MockResponse.disconnect();
      case DROP_AFTER:
        handle(request);
        return MockResponse.disconnect();
      case REPLACE_AFTER:
        handle(request);
        return new MockResponse()
            .setResponseCode(fault.status)
            .setHeader("Content-Type", fault.contentType)
            .setBody(Objects.requireNonNull(fault.body));
      case REWRITE_AFTER:
        MockResponse real = handle(request);
        return real.setBody(Objects.requireNonNull(fault.rewrite).apply(real.getBody()));
      default:
        throw new AssertionError(fault);
    }
  }

  private LoopbackHttpServer checkStarted() {
    LoopbackHttpServer s = server;
    if (!started || s == null) {
      throw new IllegalStateException("emulator not started: call start()");
    }
    return s;
  }

  // ---- helpers for subclasses ------------------------------------------------------------

  /**
   * Plays the browser once: opens {@code url} without following the redirect and returns where it
   * would be sent ({@code Location}), as the approve helpers of emulators with a consent page do.
   *
   * @param url the authorization URL
   * @param page what answered, for the message (such as {@code "authorize"})
   * @return the redirect's {@code Location}
   * @throws IllegalStateException if the answer is not a redirect; the message holds the answer
   */
  protected static String redirectOf(URI url, String page) {
    OkHttpClient client = new OkHttpClient.Builder().followRedirects(false).build();
    Request request = new Request.Builder().url(url.toString()).get().build();
    try (Response response = client.newCall(request).execute()) {
      String location = response.header("Location");
      if (response.code() != 302 || location == null) {
        String body = response.body() == null ? "" : response.body().string();
        throw new IllegalStateException(
            page + " answered " + response.code() + " without a redirect: " + body);
      }
      return location;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      client.connectionPool().evictAll();
      client.dispatcher().executorService().shutdown();
    }
  }

  /**
   * The request path without the query.
   *
   * @param request the request to send
   * @return the request path without the query
   */
  protected static String pathOf(RecordedRequest request) {
    return request.getRequestUrl().encodedPath();
  }

  /**
   * The form fields of an {@code application/x-www-form-urlencoded} body. A repeated field keeps
   * its first value; {@link #formFieldCount} tells duplicates apart.
   *
   * @param request the request to send
   * @return the form fields of an {@code application/x-www-form-urlencoded} body
   */
  public static Map<String, String> form(RecordedRequest request) {
    return parseUrlEncoded(request.getUtf8Body());
  }

  /**
   * How many times {@code field} appears in the form body.
   *
   * @param request the request to send
   * @param field the JSON field
   * @return how many times {@code field} appears in the form body
   */
  public static int formFieldCount(RecordedRequest request, String field) {
    int n = 0;
    for (String pair : request.getUtf8Body().split("&")) {
      String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
      if (URLDecoder.decode(name, StandardCharsets.UTF_8).equals(field)) {
        n++;
      }
    }
    return n;
  }

  /**
   * The query parameters of the request URL.
   *
   * @param request the request to send
   * @return the query parameters of the request URL
   */
  public static Map<String, String> query(RecordedRequest request) {
    HttpUrl url = request.getRequestUrl();
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : url.queryParameterNames()) {
      String v = url.queryParameter(name);
      out.put(name, v == null ? "" : v);
    }
    return out;
  }

  /**
   * Parses {@code application/x-www-form-urlencoded} text (a form body or a query).
   *
   * @param text the encoded pairs
   * @return name to decoded value, in order; a repeated name keeps its last value
   */
  public static Map<String, String> parseUrlEncoded(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    if (text.isEmpty()) {
      return out;
    }
    for (String pair : text.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.putIfAbsent(
          URLDecoder.decode(name, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return out;
  }

  /**
   * A JSON answer.
   *
   * @param status the HTTP status
   * @param body the response body
   * @return a JSON answer
   */
  protected static MockResponse json(int status, Object body) {
    try {
      return new MockResponse()
          .setResponseCode(status)
          .setHeader("Content-Type", "application/json;charset=UTF-8")
          .setBody(JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A new map for JSON bodies, keeping insertion order.
   *
   * @param keyValues name, value, name, value, …
   * @return a new map for JSON bodies, keeping insertion order
   */
  protected static Map<String, Object> obj(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      if (keyValues[i + 1] != null) {
        m.put((String) keyValues[i], keyValues[i + 1]);
      }
    }
    return m;
  }

  /**
   * Holds requests until released: a test waits until N requests are held, checks what it needs,
   * then lets them go.
   */
  public static final class Gate {
    private final CountDownLatch open = new CountDownLatch(1);
    private final AtomicInteger waiting = new AtomicInteger();
    private final Object lock = new Object();

    void pass() throws InterruptedException {
      synchronized (lock) {
        waiting.incrementAndGet();
        lock.notifyAll();
      }
      if (!open.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("gate never released");
      }
    }

    /**
     * Waits (up to {@code timeout}) until {@code n} requests have reached the gate.
     *
     * @param n how many
     * @param timeout how long to wait
     * @param unit the unit of {@code timeout}
     * @return true if they arrived in time
     * @throws InterruptedException if the waiting thread is interrupted
     */
    public boolean awaitArrivals(int n, long timeout, TimeUnit unit) throws InterruptedException {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      synchronized (lock) {
        while (waiting.get() < n) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
        return true;
      }
    }

    /**
     * How many requests have reached the gate.
     *
     * @return how many requests have reached the gate
     */
    public int arrivals() {
      return waiting.get();
    }

    /** Opens the gate: every held request, and every later one, goes on. */
    public void release() {
      open.countDown();
    }
  }
}
