package dev.tokenbroker.kakao;

import static dev.tokenbroker.kakao.KakaoTokenProviderTest.APP_ID;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.KEY;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.OTHER_APP_ID;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.OTHER_KEY;
import static dev.tokenbroker.kakao.KakaoTokenProviderTest.REDIRECT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code kakao:{user}}: the user is known only after the code exchange. */
class KakaoTemplateTest {
  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao =
        new KakaoEmulator(clock)
            .registerApp(KEY, APP_ID, REDIRECT)
            .registerApp(OTHER_KEY, OTHER_APP_ID, REDIRECT)
            .start();
  }

  @AfterEach
  void stop() {
    kakao.close();
  }

  private Map<String, Object> settings() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "kakao");
    s.put("client-id", KEY);
    s.put("redirect-uri", REDIRECT);
    s.put("auth-base-url", kakao.baseUrl());
    s.put("api-base-url", kakao.baseUrl());
    return s;
  }

  private TokenProvider provider(Map<String, Object> settings, @Nullable String subject) {
    ConnectionId id = ConnectionId.of("kakao", subject == null ? "pending" : subject);
    return new KakaoProviderFactory()
        .create(
            new Settings(id, settings),
            new ProviderContext(id, clock, http, new SecureRandom(), subject));
  }

  private TokenSet loginAndExchange(TokenProvider p) {
    String verifier = KakaoTokenProviderTest.verifier();
    String redirected =
        kakao.followAuthorization(
            p.authorizationUrl("s", KakaoTokenProviderTest.challenge(verifier)));
    return p.exchangeCode(HttpUrl.get(redirected).queryParameter("code"), verifier);
  }

  @Test
  void subjectOf_afterTheExchange_isTheUserIdTokenInfoReports() {
    kakao.loginAs(4_242_424_242L);
    TokenProvider pending = provider(settings(), null);
    TokenSet issued = loginAndExchange(pending);
    int before = kakao.tokenInfoRequests();

    assertThat(pending.subjectOf(issued)).isEqualTo("4242424242");

    // Asked once, with the new access token, at the documented endpoint.
    assertThat(kakao.tokenInfoRequests()).isEqualTo(before + 1);
    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.TOKEN_INFO_PATH);
    assertThat(sent.getMethod()).isEqualTo("GET");
    assertThat(sent.getHeader("Authorization")).isEqualTo("Bearer " + issued.accessToken());
  }

  @Test
  void subjectOf_aSetThatAlreadyNamesItsUser_asksNothing() {
    TokenProvider pending = provider(settings(), null);
    TokenSet validated = pending.validate(kakao.issueTokens(KEY));
    int before = kakao.tokenInfoRequests();

    assertThat(pending.subjectOf(validated))
        .isEqualTo(Long.toString(KakaoEmulator.DEFAULT_USER_ID));
    assertThat(kakao.tokenInfoRequests()).isEqualTo(before);
  }

  @Test
  void subjectOf_aTokenOfAnotherApp_isRefused_soNoConnectionIsNamedWithIt() {
    Map<String, Object> s = settings();
    s.put("app-id", APP_ID);
    TokenProvider pending = provider(s, null);
    TokenSet foreign = kakao.issueTokens(OTHER_KEY);

    TokenEndpointException e =
        catchThrowableOfType(() -> pending.subjectOf(foreign), TokenEndpointException.class);
    assertThat(e.kind()).isEqualTo(TokenEndpointException.Kind.PERMANENT);
    assertThat(e.getMessage()).doesNotContain(foreign.accessToken());
  }

  @Test
  void subjectOf_tokenInfoDown_throwsATransientFailure() {
    TokenProvider pending = provider(settings(), null);
    TokenSet issued = kakao.issueTokens(KEY);
    kakao.inject(KakaoEmulator.TOKEN_INFO_PATH, Fault.html(503));

    TokenEndpointException e =
        catchThrowableOfType(() -> pending.subjectOf(issued), TokenEndpointException.class);
    assertThat(e.kind()).isEqualTo(TokenEndpointException.Kind.TRANSIENT);
  }

  @Test
  void validate_aConnectionForOneUserHoldingAnothersToken_isRejectedPermanently() {
    kakao.loginAs(1001);
    TokenSet users = kakao.issueTokens(KEY);
    TokenProvider forUser1001 = provider(settings(), "1001");
    TokenProvider forUser1002 = provider(settings(), "1002");

    assertThat(forUser1001.validate(users).extra(KakaoProviderFactory.USER_ID)).isEqualTo("1001");
    TokenEndpointException e =
        catchThrowableOfType(() -> forUser1002.validate(users), TokenEndpointException.class);
    assertThat(e.kind()).isEqualTo(TokenEndpointException.Kind.PERMANENT);
    assertThat(e.reason()).contains("another Kakao user");
  }

  @Test
  void create_subjectThatIsNoUserId_failsNamingThePlaceholder() {
    ConfigurationException e =
        catchThrowableOfType(
            () -> provider(settings(), "not-a-number"), ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("{user}");
  }

  @Test
  void create_adminKeyWithWhiteSpace_failsNamingItWithoutEchoingIt() {
    Map<String, Object> s = settings();
    s.put("admin-key", "abc def-SECRETPART");
    ConfigurationException e =
        catchThrowableOfType(() -> provider(s, null), ConfigurationException.class);
    assertThat(e.setting()).isEqualTo("admin-key");
    assertThat(e.getMessage()).doesNotContain("SECRETPART");
  }
}
