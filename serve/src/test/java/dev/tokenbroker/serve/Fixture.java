package dev.tokenbroker.serve;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.OkHttpClient;

/** An OAuth2 emulator on a fake clock, brokers for it, and owner-only secret files. */
final class Fixture implements AutoCloseable {
  static final ConnectionId SHOP = ConnectionId.of("oauth2-test", "shop");
  static final ConnectionId OTHER = ConnectionId.of("oauth2-test", "other");
  static final String CLIENT = "app";
  static final String CLIENT_SECRET = "s3cret-value";
  static final OkHttpClient HTTP = new OkHttpClient();

  final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  final OAuth2Emulator emulator;
  final Path dir;

  /** Every token this fixture saw, to prove none reached a log line. */
  final Set<String> tokens = ConcurrentHashMap.newKeySet();

  Fixture(Path dir) {
    this.dir = dir;
    this.emulator = new OAuth2Emulator(clock).registerClient(CLIENT, CLIENT_SECRET).start();
  }

  OAuth2TestProvider provider() {
    return OAuth2TestProvider.builder()
        .baseUrl(emulator.baseUrl())
        .client(CLIENT, CLIENT_SECRET)
        .redirectUri("http://127.0.0.1:9/callback")
        .clock(clock)
        .httpClient(HTTP)
        .build();
  }

  /** A broker builder: the two connections, {@code store}, the fake clock, no keep-alive timer. */
  TokenBrokerBuilder broker(TokenStore store) {
    return TokenBroker.builder()
        .clock(clock)
        .store(store)
        .connection(SHOP, provider())
        .connection(OTHER, provider())
        .withoutKeepAlive();
  }

  void seed(TokenStore store, ConnectionId id) {
    var set = emulator.seed(store, id, CLIENT);
    tokens.add(set.accessToken());
    tokens.add(set.refreshToken());
  }

  /** A secret file readable by its owner only (mode 0600). */
  Path secret(String name, String value) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, value + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  TokenService.Builder service(ServeConfig config) {
    return TokenService.builder(config).clock(clock).instanceId("test");
  }

  @Override
  public void close() {
    emulator.close();
  }
}
