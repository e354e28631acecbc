package dev.tokenbroker;

import dev.tokenbroker.spi.Settings;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * A connection's network settings, read by the broker before its provider sees the rest:
 *
 * <ul>
 *   <li>{@code proxy: http://HOST:PORT} sends the connection's token requests through an HTTP proxy
 *       (HTTPS is tunnelled with CONNECT) — for instance one fixed outbound address that Naver's IP
 *       allow-list names; {@code proxy: direct} ignores a JVM-wide proxy selector;
 *   <li>{@code connect-timeout} and {@code read-timeout}: durations such as {@code 5s} or {@code
 *       2m}; the defaults are those of the broker's HTTP client (10 s and 30 s).
 * </ul>
 *
 * Set in an app (every connection of it) or a connection. The client keeps the broker's rules: no
 * automatic retry, no redirects.
 */
final class NetworkSettings {
  static final List<String> KEYS = List.of("proxy", "connect-timeout", "read-timeout");

  private NetworkSettings() {}

  /** The settings a provider sees: everything but {@link #KEYS}. */
  static Map<String, Object> withoutNetwork(Map<String, Object> values) {
    Map<String, Object> rest = new LinkedHashMap<>(values);
    KEYS.forEach(rest::remove);
    return rest;
  }

  /** {@code base}, or a client derived from it with the connection's proxy and timeouts. */
  static OkHttpClient client(OkHttpClient base, Settings settings) {
    if (KEYS.stream().noneMatch(settings::has)) {
      return base;
    }
    OkHttpClient.Builder b = base.newBuilder();
    String proxy = settings.optional("proxy");
    if (proxy != null) {
      b.proxy(proxy(settings, proxy.trim()));
    }
    Duration connect =
        settings.duration("connect-timeout", Duration.ofMillis(base.connectTimeoutMillis()));
    Duration read = settings.duration("read-timeout", Duration.ofMillis(base.readTimeoutMillis()));
    for (Map.Entry<String, Duration> e :
        Map.of("connect-timeout", connect, "read-timeout", read).entrySet()) {
      if (e.getValue().isZero() || e.getValue().compareTo(Duration.ofMinutes(10)) > 0) {
        throw settings.invalid(e.getKey(), "must be more than 0 and at most 10m");
      }
    }
    b.connectTimeout(connect.toMillis(), TimeUnit.MILLISECONDS);
    b.readTimeout(read.toMillis(), TimeUnit.MILLISECONDS);
    if (base.callTimeoutMillis() > 0
        && base.callTimeoutMillis() < connect.toMillis() + 2 * read.toMillis()) {
      // The whole call must have room for a connect and a slow answer.
      b.callTimeout(connect.toMillis() + 2 * read.toMillis(), TimeUnit.MILLISECONDS);
    }
    return b.build();
  }

  private static Proxy proxy(Settings settings, String value) {
    if (value.toLowerCase(Locale.ROOT).equals("direct")) {
      return Proxy.NO_PROXY;
    }
    HttpUrl url = HttpUrl.parse(value);
    if (url == null || !url.scheme().equals("http") || !url.encodedPath().equals("/")) {
      throw settings.invalid(
          "proxy", "must be http://HOST:PORT (an HTTP proxy; HTTPS is tunnelled) or direct");
    }
    if (!url.username().isEmpty()) {
      throw settings.invalid(
          "proxy", "must not carry credentials; an authenticating proxy is not supported yet");
    }
    return new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(url.host(), url.port()));
  }
}
