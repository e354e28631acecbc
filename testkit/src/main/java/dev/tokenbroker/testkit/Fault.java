package dev.tokenbroker.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Something an emulator does to one request instead of (or on top of) behaving normally. Enqueue
 * with {@link EmulatorServer#inject}.
 */
public final class Fault {
  enum Type {
    RESPOND,
    DELAY,
    DROP_BEFORE,
    DROP_AFTER,
    REPLACE_AFTER,
    REWRITE_AFTER
  }

  final Type type;
  final int status;
  final @Nullable String body;
  final String contentType;
  final Duration delay;
  final @Nullable String retryAfter;
  final @Nullable UnaryOperator<String> rewrite;

  private Fault(
      Type type,
      int status,
      @Nullable String body,
      String contentType,
      Duration delay,
      @Nullable String retryAfter) {
    this(type, status, body, contentType, delay, retryAfter, null);
  }

  private Fault(
      Type type,
      int status,
      @Nullable String body,
      String contentType,
      Duration delay,
      @Nullable String retryAfter,
      @Nullable UnaryOperator<String> rewrite) {
    this.type = type;
    this.rewrite = rewrite;
    this.status = status;
    this.body = body;
    this.contentType = contentType;
    this.delay = delay;
    this.retryAfter = retryAfter;
  }

  /**
   * Answer {@code status} with a JSON {@code body} without processing the request.
   *
   * @param status the HTTP status
   * @param body the response body
   * @return a fault that answers {@code status} with a JSON {@code body} without processing the
   *     request
   */
  public static Fault json(int status, String body) {
    return new Fault(
        Type.RESPOND, status, body, "application/json;charset=UTF-8", Duration.ZERO, null);
  }

  /**
   * Answer {@code status} with an HTML error page, as a proxy or load balancer would.
   *
   * @param status the HTTP status
   * @return a fault that answers {@code status} with an HTML error page, as a proxy or load
   *     balancer would
   */
  public static Fault html(int status) {
    return new Fault(
        Type.RESPOND,
        status,
        "<html><head><title>"
            + status
            + "</title></head><body><h1>Bad Gateway</h1>nginx</body></html>",
        "text/html",
        Duration.ZERO,
        null);
  }

  /**
   * Answer {@code status} with {@code body} of {@code contentType} without processing.
   *
   * @param status the HTTP status
   * @param body the response body
   * @param contentType the {@code Content-Type}
   * @return a fault that answers {@code status} with {@code body} of {@code contentType} without
   *     processing
   */
  public static Fault respond(int status, String body, String contentType) {
    return new Fault(
        Type.RESPOND, status, body, Objects.requireNonNull(contentType), Duration.ZERO, null);
  }

  /**
   * Answer 429 with a {@code Retry-After} of {@code seconds}, without processing.
   *
   * @param seconds the seconds
   * @return a fault that answers 429 with a {@code Retry-After} of {@code seconds}, without
   *     processing
   */
  public static Fault rateLimited(long seconds) {
    return new Fault(
        Type.RESPOND,
        429,
        "{\"error\":\"rate_limited\"}",
        "application/json",
        Duration.ZERO,
        Long.toString(seconds));
  }

  /**
   * Process normally, but hold the answer back for {@code delay} of real time.
   *
   * @param delay the delay
   * @return the fault
   */
  public static Fault delay(Duration delay) {
    return new Fault(Type.DELAY, 0, null, "", delay, null);
  }

  /**
   * Close the connection without processing or answering.
   *
   * @return a fault that closes the connection without processing or answering
   */
  public static Fault dropBeforeProcessing() {
    return new Fault(Type.DROP_BEFORE, 0, null, "", Duration.ZERO, null);
  }

  /**
   * Process the request (rotate the refresh token, issue the code…) and then close the connection
   * without answering: the client cannot know what happened.
   *
   * @return the fault
   */
  public static Fault dropAfterProcessing() {
    return new Fault(Type.DROP_AFTER, 0, null, "", Duration.ZERO, null);
  }

  /**
   * Process the request, then answer {@code status} with {@code body} instead of the real answer.
   *
   * @param status the HTTP status
   * @param body the response body
   * @param contentType the {@code Content-Type}
   * @return the fault
   */
  public static Fault replaceAfterProcessing(int status, String body, String contentType) {
    return new Fault(Type.REPLACE_AFTER, status, body, contentType, Duration.ZERO, null);
  }

  /**
   * Process the request, then answer with the real answer's body passed through {@code rewrite}
   * (status and headers unchanged): a platform answer that is broken in one field, while the
   * platform's own state (a rotated refresh token) is real.
   */
  public static Fault rewriteAfterProcessing(UnaryOperator<String> rewrite) {
    return new Fault(
        Type.REWRITE_AFTER, 0, null, "", Duration.ZERO, null, Objects.requireNonNull(rewrite));
  }

  @Override
  public String toString() {
    return "Fault{" + type + (status > 0 ? " " + status : "") + '}';
  }
}
