package dev.tokenbroker.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import okhttp3.Headers;

/**
 * The answer an emulator gives to one request: status, headers, body, and how long to hold the
 * headers back. A mutable builder, used by one thread at a time (the one handling the request).
 *
 * <p>Named after, and a subset of, OkHttp MockWebServer's {@code MockResponse}, which the emulators
 * were first built on, so that emulator code ports by changing one import. The server writes {@code
 * Content-Length} itself; a {@code Content-Length} or {@code Transfer-Encoding} set here is
 * ignored.
 */
public final class MockResponse {
  private int code = 200;
  private Headers.Builder headers = new Headers.Builder();
  private byte[] body = new byte[0];
  private long headersDelayNanos;
  private boolean disconnect;

  /** A {@code 200} answer without headers or body. */
  public MockResponse() {}

  /**
   * Closes the connection instead of answering: the client sees the connection end without a
   * response, and cannot tell whether the request was processed.
   */
  static MockResponse disconnect() {
    MockResponse r = new MockResponse();
    r.disconnect = true;
    return r;
  }

  boolean isDisconnect() {
    return disconnect;
  }

  /**
   * Sets the status code.
   *
   * @param code the HTTP status
   * @return this
   */
  public MockResponse setResponseCode(int code) {
    if (code < 100 || code > 999) {
      throw new IllegalArgumentException("HTTP status out of range: " + code);
    }
    this.code = code;
    return this;
  }

  /**
   * The status code.
   *
   * @return the HTTP status
   */
  public int getCode() {
    return code;
  }

  /**
   * Replaces every value of a header with one value.
   *
   * @param name the header name
   * @param value its value, written with {@link String#valueOf(Object)}
   * @return this
   */
  public MockResponse setHeader(String name, Object value) {
    headers.removeAll(name);
    return addHeader(name, value);
  }

  /**
   * Adds a value to a header, keeping those it already has.
   *
   * @param name the header name
   * @param value its value, written with {@link String#valueOf(Object)}
   * @return this
   */
  public MockResponse addHeader(String name, Object value) {
    headers.addUnsafeNonAscii(name, String.valueOf(Objects.requireNonNull(value, name)));
    return this;
  }

  /**
   * Removes every value of a header.
   *
   * @param name the header name
   * @return this
   */
  public MockResponse removeHeader(String name) {
    headers.removeAll(name);
    return this;
  }

  /**
   * The headers set so far.
   *
   * @return the headers, in the order they were added
   */
  public Headers getHeaders() {
    return headers.build();
  }

  /**
   * Sets the body, encoded as UTF-8.
   *
   * @param body the body text
   * @return this
   */
  public MockResponse setBody(String body) {
    this.body = body.getBytes(StandardCharsets.UTF_8);
    return this;
  }

  /**
   * The body decoded as UTF-8.
   *
   * @return the body, empty if none was set
   */
  public String getBody() {
    return new String(body, StandardCharsets.UTF_8);
  }

  byte[] bodyBytes() {
    return body;
  }

  /**
   * Holds the answer back for a while of real time after the request was processed: a slow
   * platform, or one the client gives up on.
   *
   * @param delay how long
   * @param unit the unit of {@code delay}
   * @return this
   */
  public MockResponse setHeadersDelay(long delay, TimeUnit unit) {
    if (delay < 0) {
      throw new IllegalArgumentException("negative delay");
    }
    this.headersDelayNanos = unit.toNanos(delay);
    return this;
  }

  /**
   * How long the answer is held back.
   *
   * @param unit the unit wanted
   * @return the delay in {@code unit}
   */
  public long getHeadersDelay(TimeUnit unit) {
    return unit.convert(headersDelayNanos, TimeUnit.NANOSECONDS);
  }

  /** The status only: bodies carry tokens. */
  @Override
  public String toString() {
    return disconnect ? "MockResponse{disconnect}" : "MockResponse{" + code + '}';
  }
}
