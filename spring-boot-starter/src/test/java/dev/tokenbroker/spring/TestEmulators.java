package dev.tokenbroker.spring;

import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.time.Instant;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * A Cafe24 emulator with two malls and a Naver emulator on random loopback ports, sharing one fake
 * clock with the broker; and the tokenbroker.* properties that point at them.
 */
final class TestEmulators implements AutoCloseable {
  static final String CAFE24_CLIENT = "cafe24-client";
  static final String CAFE24_SECRET = "cafe24-secret-value-42";
  static final String NAVER_CLIENT = "naver-client";
  static final String NAVER_SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  static final String REDIRECT = "http://localhost:8080/tokenbroker/callback";

  final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  final Cafe24Emulator cafe24 = new Cafe24Emulator(clock);
  final NaverEmulator naver = new NaverEmulator(clock);

  TestEmulators() {
    cafe24.registerApp(CAFE24_CLIENT, CAFE24_SECRET, REDIRECT).addMall("mall-a", "mall-b");
    cafe24.start();
    naver.registerApplication(NAVER_CLIENT, NAVER_SECRET).start();
  }

  /** The application.yml of a service with two malls and Naver, as properties. */
  void register(DynamicPropertyRegistry r) {
    r.add("tokenbroker.apps.shop-app.provider", () -> "cafe24");
    r.add("tokenbroker.apps.shop-app.client-id", () -> CAFE24_CLIENT);
    r.add("tokenbroker.apps.shop-app.client-secret", () -> "${TEST_CAFE24_SECRET}");
    r.add("TEST_CAFE24_SECRET", () -> CAFE24_SECRET); // a secret from another property source
    r.add("tokenbroker.apps.shop-app.redirect-uri", () -> REDIRECT);
    r.add("tokenbroker.apps.shop-app.scopes[0]", () -> "mall.read_product");
    r.add("tokenbroker.apps.shop-app.base-url", cafe24::baseUrlTemplate);
    r.add("tokenbroker.connections.[cafe24:mall-a].app", () -> "shop-app");
    r.add("tokenbroker.connections.[cafe24:mall-a].mall-id", () -> "mall-a");
    r.add("tokenbroker.connections.[cafe24:mall-b].app", () -> "shop-app");
    r.add("tokenbroker.connections.[cafe24:mall-b].mall-id", () -> "mall-b");
    r.add("tokenbroker.connections.[naver:self].client-id", () -> NAVER_CLIENT);
    r.add("tokenbroker.connections.[naver:self].client-secret", () -> NAVER_SECRET);
    r.add("tokenbroker.connections.[naver:self].base-url", naver::baseUrl);
  }

  @Override
  public void close() {
    cafe24.close();
    naver.close();
  }
}
