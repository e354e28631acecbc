package dev.tokenbroker.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * One request an {@link EmulatorServer} received, as it arrived: method, request target, headers
 * and body. Immutable and thread-safe.
 *
 * <p>Named after, and a subset of, OkHttp MockWebServer's {@code RecordedRequest}, which the
 * emulators were first built on: code written against the old type ports by changing one import.
 * Unlike MockWebServer's, {@link #getBody()} returns a fresh copy each time, so reading it never
 * consumes the recorded body.
 */
public final class RecordedRequest {
  private final String method;
  private final String target;
  private final String protocol;
  private final Headers headers;
  private final byte[] body;
  private final HttpUrl requestUrl;
  private final int sequenceNumber;

  RecordedRequest(
      String method,
      String target,
      String protocol,
      Headers headers,
      byte[] body,
      HttpUrl requestUrl,
      int sequenceNumber) {
    this.method = Objects.requireNonNull(method);
    this.target = Objects.requireNonNull(target);
    this.protocol = Objects.requireNonNull(protocol);
    this.headers = Objects.requireNonNull(headers);
    this.body = body.clone();
    this.requestUrl = Objects.requireNonNull(requestUrl);
    this.sequenceNumber = sequenceNumber;
  }

  /**
   * The HTTP method.
   *
   * @return {@code GET}, {@code POST}, …
   */
  public String getMethod() {
    return method;
  }

  /**
   * The request target as sent: the path and, if any, the query.
   *
   * @return for example {@code /oauth/token} or {@code /oauth/authorize?client_id=c}
   */
  public String getPath() {
    return target;
  }

  /**
   * The request line.
   *
   * @return for example {@code POST /oauth/token HTTP/1.1}
   */
  public String getRequestLine() {
    return method + ' ' + target + ' ' + protocol;
  }

  /**
   * The full URL the request was sent to, on the emulator's loopback address.
   *
   * @return the URL, with the query
   */
  public HttpUrl getRequestUrl() {
    return requestUrl;
  }

  /**
   * The last value of a header, as OkHttp's {@link Headers#get} answers.
   *
   * @param name the header name, in any case
   * @return its last value, or null if the request did not carry it
   */
  public @Nullable String getHeader(String name) {
    return headers.get(name);
  }

  /**
   * Every header, in the order received.
   *
   * @return the headers
   */
  public Headers getHeaders() {
    return headers;
  }

  /**
   * The body: a new buffer on every call, so reading it does not consume the record.
   *
   * @return a copy of the body, empty if there was none
   */
  public Buffer getBody() {
    return new Buffer().write(body);
  }

  /**
   * The body decoded as UTF-8.
   *
   * @return the body text, empty if there was none
   */
  public String getUtf8Body() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /**
   * The body's length in bytes.
   *
   * @return the number of body bytes received
   */
  public long getBodySize() {
    return body.length;
  }

  /**
   * The position of this request among all the emulator received, from 0.
   *
   * @return the sequence number
   */
  public int getSequenceNumber() {
    return sequenceNumber;
  }

  /** Method and path only: the query and body may carry codes, tokens or secrets. */
  @Override
  public String toString() {
    return method + ' ' + requestUrl.encodedPath();
  }
}
