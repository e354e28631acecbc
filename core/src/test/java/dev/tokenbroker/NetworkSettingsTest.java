package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** proxy, connect-timeout and read-timeout in the configuration file, per app or connection. */
class NetworkSettingsTest {
  @TempDir Path dir;

  private final MutableClock clock = new MutableClock();
  private final Map<ConnectionId, OkHttpClient> clients = new ConcurrentHashMap<>();
  private final Map<ConnectionId, Settings> seen = new ConcurrentHashMap<>();

  private final TokenProviderFactory factory =
      new TokenProviderFactory() {
        @Override
        public String name() {
          return "fake";
        }

        @Override
        public TokenProvider create(Settings settings, ProviderContext context) {
          settings.rejectUnknown(List.of("client-id")); // the provider never sees the network keys
          clients.put(settings.connection(), context.httpClient());
          seen.put(settings.connection(), settings);
          return FakeProvider.refreshing(clock);
        }
      };

  private TokenBroker build(String yaml) throws Exception {
    Path config = Files.writeString(dir.resolve("tokenbroker.yaml"), yaml);
    return TokenBroker.builder()
        .clock(clock)
        .providerFactory(factory)
        .configFile(config)
        .environment(Map.of())
        .withoutKeepAlive()
        .build();
  }

  @Test
  void proxyAndTimeouts_fromAnApp_applyToItsConnections_only() throws Exception {
    try (MockWebServer proxy = new MockWebServer()) {
      proxy.start();
      proxy.enqueue(new MockResponse().setBody("through the proxy"));
      String yaml =
          "apps:\n"
              + "  behind-proxy:\n"
              + "    provider: fake\n"
              + "    proxy: http://127.0.0.1:"
              + proxy.getPort()
              + "\n"
              + "    connect-timeout: 3s\n"
              + "    read-timeout: 45s\n"
              + "connections:\n"
              + "  fake:a: { app: behind-proxy, client-id: a }\n"
              + "  fake:b: { provider: fake, client-id: b }\n";
      try (TokenBroker broker = build(yaml)) {
        OkHttpClient a = clients.get(ConnectionId.parse("fake:a"));
        OkHttpClient b = clients.get(ConnectionId.parse("fake:b"));

        assertThat(a.proxy()).isNotNull();
        assertThat(a.proxy().type()).isEqualTo(Proxy.Type.HTTP);
        assertThat(((InetSocketAddress) a.proxy().address()).getPort()).isEqualTo(proxy.getPort());
        assertThat(a.connectTimeoutMillis()).isEqualTo(3_000);
        assertThat(a.readTimeoutMillis()).isEqualTo(45_000);
        assertThat(a.retryOnConnectionFailure()).isFalse(); // the broker's rules stay
        assertThat(a.followRedirects()).isFalse();
        assertThat(b.proxy()).isNull();
        assertThat(b.readTimeoutMillis()).isEqualTo(30_000);
        assertThat(seen.get(ConnectionId.parse("fake:a")).has("proxy")).isFalse();

        // A token request of fake:a goes to the proxy, naming the platform's host.
        try (Response r =
            a.newCall(new Request.Builder().url("http://tokens.platform.test/oauth/token").build())
                .execute()) {
          assertThat(r.body().string()).isEqualTo("through the proxy");
        }
        RecordedRequest sent = proxy.takeRequest(5, TimeUnit.SECONDS);
        assertThat(sent.getRequestLine())
            .isEqualTo("GET http://tokens.platform.test/oauth/token HTTP/1.1");
      }
    }
  }

  @Test
  void aProxyThatIsNotHttpHostPort_isAConfigurationError_namingConnectionAndSetting() {
    assertThatThrownBy(
            () ->
                build(
                    "connections:\n"
                        + "  fake:a: { provider: fake, client-id: a, proxy: \"socks5://h:1\" }\n"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fake:a")
        .hasMessageContaining("proxy")
        .hasMessageContaining("http://HOST:PORT");
    assertThatThrownBy(
            () ->
                build(
                    "connections:\n"
                        + "  fake:a: { provider: fake, client-id: a, read-timeout: 0s }\n"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("read-timeout");
  }
}
