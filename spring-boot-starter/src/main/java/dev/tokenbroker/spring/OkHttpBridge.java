package dev.tokenbroker.spring;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.TokenProvider;
import java.net.URI;
import java.util.List;
import java.util.Map;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;

/**
 * The provider SPI speaks OkHttp ({@link TokenProvider#classifyApiResponse}, {@link
 * TokenProvider#decorateApiRequest}); Spring's clients do not. This shows a Spring request or
 * response to the provider as an OkHttp one, so every provider quirk (Cafe24's uninstalled-app 403,
 * Kakao's -401 in a 400 body, Naver's IP allow-list) is judged by the same code as with OkHttp.
 */
final class OkHttpBridge {
  /**
   * A URL that stands in when the request's is not http(s) (the provider only reads the status).
   */
  private static final HttpUrl PLACEHOLDER = HttpUrl.get("http://localhost/");

  private OkHttpBridge() {}

  /**
   * The {@code Authorization} value and the provider's own headers for a request carrying {@code
   * tokens}.
   */
  static void authorize(TokenProvider provider, TokenSet tokens, URI uri, HttpHeaders headers) {
    headers.set(HttpHeaders.AUTHORIZATION, tokens.tokenType() + " " + tokens.accessToken());
    Request.Builder b = new Request.Builder().url(url(uri));
    for (Map.Entry<String, List<String>> e : headers.headerSet()) {
      for (String v : e.getValue()) {
        b.addHeader(e.getKey(), v);
      }
    }
    Headers before = b.build().headers();
    provider.decorateApiRequest(b, tokens);
    Headers after = b.build().headers();
    if (!after.equals(before)) {
      for (String name : after.names()) {
        if (!after.values(name).equals(before.values(name))) {
          headers.put(name, after.values(name));
        }
      }
    }
  }

  /** What the provider makes of an API answer whose body has been read into {@code body}. */
  static ApiVerdict classify(
      TokenProvider provider, URI uri, int status, HttpHeaders headers, byte[] body) {
    Headers.Builder h = new Headers.Builder();
    for (Map.Entry<String, List<String>> e : headers.headerSet()) {
      for (String v : e.getValue()) {
        h.addUnsafeNonAscii(e.getKey(), v);
      }
    }
    String type = headers.getFirst(HttpHeaders.CONTENT_TYPE);
    MediaType mediaType = type == null ? null : MediaType.parse(type);
    try (Response response =
        new Response.Builder()
            .request(new Request.Builder().url(url(uri)).build())
            .protocol(Protocol.HTTP_1_1)
            .code(status)
            .message("")
            .headers(h.build())
            .body(ResponseBody.create(body, mediaType))
            .build()) {
      return provider.classifyApiResponse(response);
    }
  }

  private static HttpUrl url(URI uri) {
    @Nullable HttpUrl url = HttpUrl.parse(uri.toString());
    return url != null ? url : PLACEHOLDER;
  }
}
