package dev.tokenbroker.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * Sends token-endpoint requests for one provider and turns every way they can fail into a {@link
 * TokenEndpointException}.
 *
 * <p>The client never re-sends a request on its own: with OkHttp's default {@code
 * retryOnConnectionFailure(true)}, a POST whose connection drops after the server processed it is
 * silently sent again — for a rotating refresh token that second POST carries a token the first one
 * already spent. A failure after the request may have been processed is reported as {@link
 * Kind#OUTCOME_UNKNOWN} when the caller says the request may rotate a token, so the broker reports
 * it instead of retrying blindly.
 */
public final class TokenHttp {
  /** Bodies larger than this are not read: no token response is anywhere near it. */
  static final int MAX_BODY_BYTES = 256 * 1024;

  static final ObjectMapper JSON = new ObjectMapper();

  private final OkHttpClient client;
  private final Clock clock;
  private final String provider;

  /**
   * @param client the HTTP client; made safe (no automatic retries, no redirects)
   * @param clock stamps responses with their arrival time
   * @param provider the provider's name, for exceptions
   */
  public TokenHttp(OkHttpClient client, Clock clock, String provider) {
    this.client = safeClient(client);
    this.clock = Objects.requireNonNull(clock);
    this.provider = Objects.requireNonNull(provider);
  }

  /**
   * {@code client} reconfigured for token endpoints: no automatic retry, no redirects, and pooled
   * connections dropped after 30 s idle so that a refresh rarely lands on a half-closed one.
   *
   * @param client the client to make safe
   * @return {@code client} reconfigured for token endpoints: no automatic retry, no redirects, and
   *     pooled connections dropped after 30 s idle so that a refresh rarely lands on a half-closed
   *     one.
   */
  public static OkHttpClient safeClient(OkHttpClient client) {
    if (!client.retryOnConnectionFailure() && !client.followRedirects()) {
      return client;
    }
    return client
        .newBuilder()
        .retryOnConnectionFailure(false)
        .followRedirects(false)
        .followSslRedirects(false)
        .connectionPool(new ConnectionPool(5, 30, TimeUnit.SECONDS))
        .build();
  }

  /**
   * A client with sensible timeouts for token endpoints (10 s connect, 30 s read and call).
   *
   * @return a client with sensible timeouts for token endpoints (10 s connect, 30 s read and call)
   */
  public static OkHttpClient defaultClient() {
    return safeClient(
        new OkHttpClient.Builder()
            .connectTimeout(10, TimeUnit.SECONDS)
            .readTimeout(30, TimeUnit.SECONDS)
            .writeTimeout(30, TimeUnit.SECONDS)
            .callTimeout(60, TimeUnit.SECONDS)
            .build());
  }

  /**
   * The provider's name.
   *
   * @return the name
   */
  public String provider() {
    return provider;
  }

  /**
   * The clock responses are stamped with.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock;
  }

  /**
   * Sends {@code request} once and returns the response, whatever its status.
   *
   * @param request the request to send
   * @return the response, whatever its status
   * @param mayRotate true when the platform may have spent a refresh token by processing this
   *     request (a refresh on Cafe24 or Kakao): a lost answer is then {@link Kind#OUTCOME_UNKNOWN}
   * @param secrets values to scrub from anything kept of the response (the refresh token, client
   *     secret, code…)
   * @throws TokenEndpointException if no response could be read: TRANSIENT when nothing was sent
   *     (connection refused, unknown host), else TRANSIENT or OUTCOME_UNKNOWN per {@code mayRotate}
   */
  public TokenResponse send(Request request, boolean mayRotate, @Nullable String... secrets) {
    List<String> known = secrets == null ? List.of() : Arrays.asList(secrets);
    try (Response response = client.newCall(request).execute()) {
      Instant receivedAt = clock.instant();
      String body = readBody(response.body());
      return new TokenResponse(
          provider, response.code(), response.headers(), body, receivedAt, mayRotate, known);
    } catch (IOException e) {
      throw ioFailure(request, e, mayRotate);
    }
  }

  private static String readBody(@Nullable ResponseBody body) throws IOException {
    if (body == null) {
      return "";
    }
    BufferedSource source = body.source();
    if (source.request(MAX_BODY_BYTES + 1L)) {
      throw new IOException("response body larger than " + MAX_BODY_BYTES + " bytes");
    }
    return source.getBuffer().readString(StandardCharsets.UTF_8);
  }

  private TokenEndpointException ioFailure(Request request, IOException e, boolean mayRotate) {
    boolean notSent =
        e instanceof ConnectException
            || e instanceof UnknownHostException
            || e instanceof NoRouteToHostException
            || e instanceof SSLHandshakeException;
    Kind kind = notSent || !mayRotate ? Kind.TRANSIENT : Kind.OUTCOME_UNKNOWN;
    String what =
        notSent
            ? "could not reach " + request.url().host()
            : (e instanceof InterruptedIOException
                    ? "timed out waiting for "
                    : "lost the answer of ")
                + request.url().host()
                + (kind == Kind.OUTCOME_UNKNOWN
                    ? "; the request may have been processed (refresh token possibly rotated)"
                    : "");
    return TokenEndpointException.builder(provider)
        .kind(kind)
        .reason(what + ": " + e.getClass().getSimpleName())
        .cause(null)
        .build();
  }

  /**
   * The body of an API response as a JSON object, peeked (not consumed, at most 16 KiB), or null
   * when it is not one (an HTML page, empty, cut off): for {@link
   * TokenProvider#classifyApiResponse}.
   *
   * @param response an API response
   * @return the JSON object, or null
   */
  public static @Nullable JsonNode peekJson(okhttp3.Response response) {
    try {
      return parseObject(response.peekBody(16 * 1024).string());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Parses JSON, or returns null when {@code text} is not a JSON object. */
  static @Nullable JsonNode parseObject(String text) {
    String t = text.trim();
    if (!t.startsWith("{")) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(t);
      return node != null && node.isObject() ? node : null;
    } catch (IOException | RuntimeException | StackOverflowError e) {
      // Jackson bounds nesting and number lengths itself; whatever still goes wrong while reading
      // an answer makes it "not JSON", never an Error out of the provider.
      return null;
    }
  }
}
