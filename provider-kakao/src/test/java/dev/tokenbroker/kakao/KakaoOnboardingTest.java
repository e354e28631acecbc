package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Kakao login app as a template ({@code kakao:{user}}) in two instances sharing a store: the user
 * is known only after the code exchange, so the connection is named on completion; Kakao's unlink
 * callback, verified, removes it everywhere.
 */
class KakaoOnboardingTest {
  private static final String KEY = KakaoTokenProviderTest.KEY;
  private static final long APP_ID = KakaoTokenProviderTest.APP_ID;
  private static final String REDIRECT = KakaoTokenProviderTest.REDIRECT;
  private static final String ADMIN_KEY = "admin-key-0123456789abcdef";
  private static final long USER = KakaoEmulator.DEFAULT_USER_ID;

  private final FakeClock clock = FakeClock.create();
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final List<TokenBroker> brokers = new ArrayList<>();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao = new KakaoEmulator(clock).registerApp(KEY, APP_ID, REDIRECT).start();
    kakao.adminKey(KEY, ADMIN_KEY);
  }

  @AfterEach
  void stop() {
    brokers.forEach(TokenBroker::close);
    kakao.close();
  }

  private TokenBroker instance() {
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("provider", "kakao");
    app.put("client-id", KEY);
    app.put("redirect-uri", REDIRECT);
    app.put("app-id", Long.toString(APP_ID));
    app.put("auth-base-url", kakao.baseUrl());
    app.put("api-base-url", kakao.baseUrl());
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .template("login-app", "kakao:{user}", app)
            .withoutKeepAlive()
            .withoutDiscovery()
            .build();
    brokers.add(b);
    return b;
  }

  @Test
  void aUserLoggingIn_isNamedAfterTheExchange_andUnlinkingRemovesThemEverywhere() {
    TokenBroker a = instance();
    TokenBroker b = instance();

    AuthorizationRequest request = a.startAuthorization("login-app");
    ConnectionId user = b.handleCallback(kakao.followAuthorization(request.url()));

    assertThat(user).isEqualTo(ConnectionId.of("kakao", Long.toString(USER)));
    assertThat(a.accessToken(user)).isEqualTo(b.accessToken(user));

    // Kakao calls the app's unlink callback; the application verifies it and removes the user.
    KakaoEmulator.UnlinkNotice notice = kakao.unlinkOutside(KEY, USER, "UNLINK_FROM_APPS");
    KakaoUnlinkCallback callback = KakaoUnlinkCallback.of(ADMIN_KEY, APP_ID);
    KakaoUnlinkCallback.Unlink unlink = callback.verify(notice.headers(), notice.parameters());
    b.removeEnded(ConnectionId.of("kakao", unlink.userId()), "unlinked");

    assertThat(a.discover()).isEqualTo(1);
    for (TokenBroker any : List.of(a, b)) {
      assertThatThrownBy(() -> any.accessToken(user))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("removed (unlinked");
    }
  }
}
