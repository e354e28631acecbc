package dev.tokenbroker.testkit.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.FakeClock;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KakaoUnlinkEmulatorTest {
  private final FakeClock clock = FakeClock.create();
  private KakaoEmulator kakao;
  private final MockWebServer service = new MockWebServer();

  @BeforeEach
  void start() throws Exception {
    kakao =
        new KakaoEmulator(clock)
            .registerApp("rest-key", 42, "http://127.0.0.1:9/cb")
            .adminKey("rest-key", "the-admin-key")
            .start();
    service.start(java.net.InetAddress.getLoopbackAddress(), 0);
  }

  @AfterEach
  void stop() throws Exception {
    kakao.close();
    service.shutdown();
  }

  @Test
  void unlinkOutside_killsTheTokens_andProducesKakaosCallback() {
    kakao.loginAs(7);
    TokenSet tokens = kakao.issueTokens("rest-key");
    KakaoEmulator.UnlinkNotice notice = kakao.unlinkOutside("rest-key", 7, "ACCOUNT_DELETE");

    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isFalse();
    assertThat(kakao.isLinked("rest-key", 7)).isFalse();
    assertThat(notice.authorization()).isEqualTo("KakaoAK the-admin-key");
    assertThat(notice.parameters())
        .containsExactly(
            java.util.Map.entry("app_id", "42"),
            java.util.Map.entry("user_id", "7"),
            java.util.Map.entry("referrer_type", "ACCOUNT_DELETE"));
    assertThat(notice.toString()).doesNotContain("the-admin-key");
  }

  @Test
  void send_get_putsTheParametersInTheQuery_post_inAFormBody() throws Exception {
    KakaoEmulator.UnlinkNotice notice = kakao.unlinkOutside("rest-key", 7, "UNLINK_FROM_APPS");
    service.enqueue(new MockResponse().setResponseCode(200));
    service.enqueue(new MockResponse().setResponseCode(401));

    assertThat(notice.send(service.url("/unlink").toString(), "GET")).isEqualTo(200);
    assertThat(notice.send(service.url("/unlink").toString(), "POST")).isEqualTo(401);

    RecordedRequest get = service.takeRequest(1, TimeUnit.SECONDS);
    assertThat(get.getMethod()).isEqualTo("GET");
    assertThat(get.getHeader("Authorization")).isEqualTo("KakaoAK the-admin-key");
    assertThat(get.getRequestUrl().queryParameter("user_id")).isEqualTo("7");
    assertThat(get.getRequestUrl().queryParameter("app_id")).isEqualTo("42");
    RecordedRequest post = service.takeRequest(1, TimeUnit.SECONDS);
    assertThat(post.getMethod()).isEqualTo("POST");
    assertThat(post.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(post.getBody().readUtf8())
        .isEqualTo("app_id=42&user_id=7&referrer_type=UNLINK_FROM_APPS");
  }

  @Test
  void send_toARemoteHost_orWithAnotherMethod_isRefused() {
    KakaoEmulator.UnlinkNotice notice = kakao.unlinkOutside("rest-key", 7, "UNLINK_FROM_APPS");
    assertThatThrownBy(() -> notice.send("https://example.com/unlink", "POST"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> notice.send(service.url("/u").toString(), "PUT"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unlinkOutside_withoutAnAdminKey_isAProgrammingError() {
    kakao.registerApp("other", 43, "http://127.0.0.1:9/cb");
    assertThatThrownBy(() -> kakao.unlinkOutside("other", 7, "UNLINK_FROM_APPS"))
        .isInstanceOf(IllegalStateException.class);
  }
}
