package dev.tokenbroker.oauth2;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.RecordedRequest;
import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * An {@link OAuth2Emulator} on a {@link FakeClock}, and providers configured against it. The only
 * place that reads the emulator's recorded requests ({@link #sent}), so a change of the emulator's
 * HTTP types touches this class alone.
 */
final class Emulated implements AutoCloseable {
  static final ConnectionId ID = ConnectionId.of("oauth2", "shop");
  static final String CLIENT = "app";
  static final String SECRET = "s3cret:with+odd&chars";
  static final String REDIRECT = "http://127.0.0.1:9/callback";
  static final OkHttpClient HTTP = new OkHttpClient.Builder().followRedirects(false).build();

  final FakeClock clock = FakeClock.create();
  final OAuth2Emulator emulator =
      new OAuth2Emulator(clock).registerClient(CLIENT, SECRET, REDIRECT).start();

  /** What we sent: method, headers and form body of one recorded request. */
  record Sent(String method, Map<String, String> headers, Map<String, String> form, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** The settings of an authorization-code connection with Basic auth, plus {@code more}. */
  Map<String, Object> settings(Object... more) {
    Map<String, Object> s = new HashMap<>();
    s.put("token-url", emulator.url(OAuth2Emulator.TOKEN_PATH).toString());
    s.put("authorize-url", emulator.url(OAuth2Emulator.AUTHORIZE_PATH).toString());
    s.put("revocation-url", emulator.url(OAuth2Emulator.REVOKE_PATH).toString());
    s.put("client-id", CLIENT);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", REDIRECT);
    for (int i = 0; i < more.length; i += 2) {
      if (more[i + 1] == null) {
        s.remove((String) more[i]);
      } else {
        s.put((String) more[i], more[i + 1]);
      }
    }
    return s;
  }

  TokenProvider provider(Map<String, ?> settings) {
    return new OAuth2ProviderFactory()
        .create(
            new Settings(ID, settings, name -> null),
            new ProviderContext(ID, clock, HTTP, new SecureRandom()));
  }

  /** Opens the authorization URL as a browser would and returns where it redirects. */
  static String approve(URI url) {
    try (Response r = HTTP.newCall(new Request.Builder().url(url.toString()).build()).execute()) {
      return Objects.requireNonNull(r.header("Location"), "no redirect: " + r.code());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  Sent sent(String path) {
    RecordedRequest r = Objects.requireNonNull(emulator.lastRequest(path), "nothing sent");
    Map<String, String> headers = new HashMap<>();
    r.getHeaders()
        .forEach(p -> headers.put(p.getFirst().toLowerCase(java.util.Locale.ROOT), p.getSecond()));
    return new Sent(r.getMethod(), headers, EmulatorServer.form(r), r.getBody().clone().readUtf8());
  }

  List<String> paths() {
    return emulator.requests().stream().map(r -> r.getRequestUrl().encodedPath()).toList();
  }

  @Override
  public void close() {
    emulator.close();
  }
}
