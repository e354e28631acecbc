package dev.tokenbroker.testkit.cafe24;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.testkit.FakeClock;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The App URL launches the emulator signs, checked against Cafe24's published test vector. */
class Cafe24LaunchEmulatorTest {
  private static final Instant START = Instant.parse("2021-06-01T02:09:20Z"); // 1622513360
  private final FakeClock clock = FakeClock.at(START);
  private Cafe24Emulator cafe24;

  @BeforeEach
  void start() {
    cafe24 =
        new Cafe24Emulator(clock)
            .registerApp("app", "zoQxSUptApmiFLRl2ChaxB", "https://app.example.com/cb")
            .addMall("jhbaek02")
            .start();
  }

  @AfterEach
  void stop() {
    cafe24.close();
  }

  @Test
  void launchSignature_matchesTheTestVectorInCafe24sSampleApp() {
    // cafe24-app/cafe24_app_discount_sample, AppService.validationCheckHmac (commented test data)
    assertThat(
            Cafe24Emulator.launchSignature(
                "is_multi_shop=T&lang=ko_KR&mall_id=jhbaek02&nation=KR&shop_no=1"
                    + "&timestamp=1622513360&user_id=jhbaek02&user_name=jhbaek02&user_type=P",
                "zoQxSUptApmiFLRl2ChaxB"))
        .isEqualTo("8+hYywQW5fBMpfbTlA1puAMpM91N0FYtrpzHYrdodDM=");
  }

  @Test
  void launchQuery_isSortedByName_stampedByTheClock_withTheHmacLastAndEncoded() {
    String query = cafe24.launchQuery("app", "jhbaek02");
    assertThat(query)
        .startsWith("is_multi_shop=T&lang=ko_KR&mall_id=jhbaek02&nation=KR&shop_no=1")
        .contains("&timestamp=1622513360&user_id=jhbaek02&user_name=%EB%8C%80%ED%91%9C%20")
        .contains("&user_type=P&hmac=");
    String hmac = query.substring(query.indexOf("&hmac=") + 6);
    assertThat(hmac).doesNotContain("+").doesNotContain("/").doesNotContain("=");
    String signed = query.substring(0, query.indexOf("&hmac="));
    assertThat(java.net.URLDecoder.decode(hmac, java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(Cafe24Emulator.launchSignature(signed, "zoQxSUptApmiFLRl2ChaxB"));
  }

  @Test
  void tamperAndWithoutParameter_changeOnlyWhatTheySay() {
    String query = "a=1&b=2&hmac=x";
    assertThat(Cafe24Emulator.tamper(query, "b", "3")).isEqualTo("a=1&b=3&hmac=x");
    assertThat(Cafe24Emulator.tamper(query, "c", "4")).isEqualTo("a=1&b=2&hmac=x&c=4");
    assertThat(Cafe24Emulator.withoutParameter(query, "hmac")).isEqualTo("a=1&b=2");
  }

  @Test
  void launchQuery_forAnUnknownAppOrMall_isAProgrammingError() {
    assertThatThrownBy(() -> cafe24.launchQuery("nope", "jhbaek02"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> cafe24.launchQuery("app", "nomall"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
