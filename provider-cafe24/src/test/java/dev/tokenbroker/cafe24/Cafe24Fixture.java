package dev.tokenbroker.cafe24;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.Credentials;
import okhttp3.OkHttpClient;

/** A started emulator with one app and two malls, and providers configured against it. */
final class Cafe24Fixture implements AutoCloseable {
  static final String CLIENT_ID = "AbCdEfGhIjKlMnOpQrStUv";
  static final String SECRET = "s3cr3t-Client-Secret-0123";
  static final String REDIRECT = "https://app.example.com/cafe24/callback/";
  static final String BASIC = Credentials.basic(CLIENT_ID, SECRET, StandardCharsets.UTF_8);
  static final List<String> SCOPES = List.of("mall.read_product", "mall.read_order");
  // 12:00 in Seoul: local-time mistakes show up as 9-hour errors.
  static final Instant START = Instant.parse("2026-03-01T03:00:00Z");

  final FakeClock clock = FakeClock.at(START);
  final OkHttpClient http = new OkHttpClient();
  final Cafe24Emulator cafe24 =
      new Cafe24Emulator(clock)
          .registerApp(CLIENT_ID, SECRET, REDIRECT)
          .addMall("mall-a", "mall-b")
          .start();

  /** The flat settings a connection of {@code mall} gets once core merged its {@code app:}. */
  Map<String, Object> settings(String mall) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "cafe24");
    s.put("mall-id", mall);
    s.put("client-id", CLIENT_ID);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", REDIRECT);
    s.put("scopes", SCOPES);
    s.put("base-url", cafe24.baseUrlTemplate());
    return s;
  }

  TokenProvider provider(String mall) {
    return provider(settings(mall));
  }

  TokenProvider provider(Map<String, Object> settings) {
    ConnectionId id = ConnectionId.of("cafe24", String.valueOf(settings.get("mall-id")));
    return new Cafe24ProviderFactory()
        .create(
            new Settings(id, settings), new ProviderContext(id, clock, http, new SecureRandom()));
  }

  /** A token set as a store would hold it right after {@code mall} was connected. */
  TokenSet connected(String mall) {
    Cafe24Emulator.Issued issued = cafe24.connect(mall);
    return TokenSet.builder()
        .accessToken(issued.accessToken())
        .refreshToken(issued.refreshToken())
        .issuedAt(issued.issuedAt())
        .expiresAt(issued.expiresAt())
        .refreshExpiresAt(issued.refreshExpiresAt())
        .scopes(issued.scopes())
        .extra("mall_id", mall)
        .version(1)
        .build();
  }

  @Override
  public void close() {
    cafe24.close();
    http.connectionPool().evictAll();
  }
}
