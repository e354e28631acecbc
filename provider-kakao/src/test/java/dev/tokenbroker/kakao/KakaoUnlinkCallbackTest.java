package dev.tokenbroker.kakao;

import static dev.tokenbroker.kakao.KakaoTokenProviderTest.APP_ID;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.KEY;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.OTHER_APP_ID;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.OTHER_KEY;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.REDIRECT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.kakao.KakaoEmulator.UnlinkNotice;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kakao's unlink callback, sent by the emulator over HTTP to a small service on a loopback port
 * that verifies it with {@link KakaoUnlinkCallback} the way a web framework would.
 */
class KakaoUnlinkCallbackTest {
  private static final String ADMIN_KEY = "adminKey0123456789abcdef01234567";
  private static final long USER = 3_141_592_653L;

  private final FakeClock clock = FakeClock.create();
  private KakaoEmulator kakao;
  private HttpServer service;
  private final List<KakaoUnlinkCallback.Unlink> removed =
      Collections.synchronizedList(new ArrayList<>());
  private final List<KakaoUnlinkException.Reason> refused =
      Collections.synchronizedList(new ArrayList<>());
  private final KakaoUnlinkCallback callback = KakaoUnlinkCallback.of(ADMIN_KEY, APP_ID);

  @BeforeEach
  void start() throws IOException {
    kakao =
        new KakaoEmulator(clock)
            .registerApp(KEY, APP_ID, REDIRECT)
            .adminKey(KEY, ADMIN_KEY)
            .registerApp(OTHER_KEY, OTHER_APP_ID, REDIRECT)
            .adminKey(OTHER_KEY, "otherAdminKey-0000000000000000000")
            .start();
    service = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    service.createContext("/kakao/unlink", this::handle);
    service.start();
  }

  @AfterEach
  void stop() {
    service.stop(0);
    kakao.close();
  }

  /** What an application's endpoint does: verify, remove the connection, answer 200. */
  private void handle(HttpExchange exchange) throws IOException {
    String encoded =
        exchange.getRequestMethod().equals("GET")
            ? exchange.getRequestURI().getRawQuery()
            : new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    int status;
    try {
      removed.add(
          callback.verifyEncoded(
              exchange.getRequestHeaders().getFirst("Authorization"),
              encoded == null ? "" : encoded));
      status = 200;
    } catch (KakaoUnlinkException e) {
      refused.add(e.reason());
      status = e.reason() == KakaoUnlinkException.Reason.NOT_FROM_KAKAO ? 401 : 400;
    }
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  private String url() {
    return "http://127.0.0.1:" + service.getAddress().getPort() + "/kakao/unlink";
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET", "POST"})
  void unlinkOutsideTheService_callbackIsVerified_andNamesTheUserToRemove(String method) {
    kakao.loginAs(USER);
    TokenSet tokens = kakao.issueTokens(KEY);

    UnlinkNotice notice = kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS");
    assertThat(notice.send(url(), method)).isEqualTo(200);

    assertThat(removed).hasSize(1);
    KakaoUnlinkCallback.Unlink unlink = removed.get(0);
    assertThat(unlink.userId()).isEqualTo(Long.toString(USER));
    assertThat(ConnectionId.of("kakao", unlink.userId())).hasToString("kakao:" + USER);
    assertThat(unlink.appId()).isEqualTo(APP_ID);
    assertThat(unlink.referrerType()).isEqualTo("UNLINK_FROM_APPS");
    // The user's tokens died at Kakao before the callback: nothing left to revoke.
    assertThat(kakao.isAccessTokenLive(tokens.accessToken())).isFalse();
    assertThat(kakao.isLinked(KEY, USER)).isFalse();
  }

  @Test
  void callbackWithAnotherAppsAdminKey_isRefusedAsNotFromKakao() {
    UnlinkNotice other = kakao.unlinkOutside(OTHER_KEY, USER, "ACCOUNT_DELETE");
    assertThat(other.send(url(), "POST")).isEqualTo(401);
    assertThat(refused).containsExactly(KakaoUnlinkException.Reason.NOT_FROM_KAKAO);
    assertThat(removed).isEmpty();
  }

  @Test
  void callbackWithoutAuthorization_isRefusedAsNotFromKakao() {
    UnlinkNotice notice = kakao.unlinkOutside(KEY, USER, "ACCOUNT_DELETE");
    KakaoUnlinkException e =
        catchThrowableOfType(
            () -> callback.verify(Map.of(), notice.parameters()), KakaoUnlinkException.class);
    assertThat(e.reason()).isEqualTo(KakaoUnlinkException.Reason.NOT_FROM_KAKAO);
  }

  @Test
  void adminKeyOfAnotherScheme_orWithATrailingCharacter_isRefused() {
    Map<String, String> p = kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters();
    for (String header :
        List.of("Bearer " + ADMIN_KEY, "KakaoAK " + ADMIN_KEY + "x", "KakaoAK" + ADMIN_KEY, "")) {
      KakaoUnlinkException e =
          catchThrowableOfType(() -> callback.verify(header, p), KakaoUnlinkException.class);
      assertThat(e.reason()).as(header).isEqualTo(KakaoUnlinkException.Reason.NOT_FROM_KAKAO);
      assertThat(e.getMessage()).doesNotContain(ADMIN_KEY);
    }
  }

  @Test
  void headerNamesAreCaseInsensitive_andTheSchemeToo() {
    UnlinkNotice notice = kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_ADMIN");
    Map<String, String> headers = new HashMap<>();
    headers.put("authorization", "kakaoak " + ADMIN_KEY);
    assertThat(callback.verify(headers, notice.parameters()).userId())
        .isEqualTo(Long.toString(USER));
  }

  @Test
  void callbackForAnotherApp_withThisAppsKey_isRefusedAsWrongApp() {
    Map<String, String> p =
        new HashMap<>(kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters());
    p.put("app_id", Long.toString(OTHER_APP_ID));
    KakaoUnlinkException e =
        catchThrowableOfType(
            () -> callback.verify("KakaoAK " + ADMIN_KEY, p), KakaoUnlinkException.class);
    assertThat(e.reason()).isEqualTo(KakaoUnlinkException.Reason.WRONG_APP);
  }

  @Test
  void withoutAConfiguredAppId_anyAppIdIsAccepted() {
    Map<String, String> p =
        new HashMap<>(kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters());
    p.put("app_id", Long.toString(OTHER_APP_ID));
    assertThat(KakaoUnlinkCallback.of(ADMIN_KEY, null).verify("KakaoAK " + ADMIN_KEY, p).appId())
        .isEqualTo(OTHER_APP_ID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"user_id", "app_id"})
  void missingUserOrApp_isRefusedAsMissingField(String parameter) {
    Map<String, String> p =
        new HashMap<>(kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters());
    p.remove(parameter);
    KakaoUnlinkException e =
        catchThrowableOfType(
            () -> callback.verify("KakaoAK " + ADMIN_KEY, p), KakaoUnlinkException.class);
    assertThat(e.reason()).isEqualTo(KakaoUnlinkException.Reason.MISSING_FIELD);
    assertThat(e.getMessage()).contains(parameter);
  }

  @Test
  void userIdThatIsNoNumber_orGivenTwice_isRefusedAsMalformed() {
    Map<String, String> p =
        new HashMap<>(kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters());
    p.put("user_id", "12ab");
    assertThat(
            catchThrowableOfType(
                    () -> callback.verify("KakaoAK " + ADMIN_KEY, p), KakaoUnlinkException.class)
                .reason())
        .isEqualTo(KakaoUnlinkException.Reason.MALFORMED);
    String twice = "app_id=" + APP_ID + "&user_id=1&user_id=2";
    assertThat(
            catchThrowableOfType(
                    () -> callback.verifyEncoded("KakaoAK " + ADMIN_KEY, twice),
                    KakaoUnlinkException.class)
                .reason())
        .isEqualTo(KakaoUnlinkException.Reason.MALFORMED);
  }

  @Test
  void missingReferrerType_stillRemovesTheUser_theUnlinkHappenedAnyway() {
    Map<String, String> p =
        new HashMap<>(kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS").parameters());
    p.remove("referrer_type");
    KakaoUnlinkCallback.Unlink unlink = callback.verify("KakaoAK " + ADMIN_KEY, p);
    assertThat(unlink.userId()).isEqualTo(Long.toString(USER));
    assertThat(unlink.referrerType()).isNull();
  }

  @Test
  void from_settings_readsAdminKeyAndAppId_andNeverShowsTheKey() {
    Map<String, Object> s = new HashMap<>();
    s.put("admin-key", ADMIN_KEY);
    s.put("app-id", APP_ID);
    KakaoUnlinkCallback fromSettings = KakaoUnlinkCallback.from(new Settings(null, s));
    UnlinkNotice notice = kakao.unlinkOutside(KEY, USER, "ACCOUNT_DELETE");
    assertThat(fromSettings.verify(notice.headers(), notice.parameters()).userId())
        .isEqualTo(Long.toString(USER));
    assertThat(fromSettings.toString()).doesNotContain(ADMIN_KEY);
    assertThat(notice.toString()).doesNotContain(ADMIN_KEY);
  }

  @Test
  void from_settingsWithoutAdminKey_failsNamingIt() {
    ConfigurationException e =
        catchThrowableOfType(
            () -> KakaoUnlinkCallback.from(new Settings(null, Map.of("app-id", APP_ID))),
            ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("admin-key");
  }
}
