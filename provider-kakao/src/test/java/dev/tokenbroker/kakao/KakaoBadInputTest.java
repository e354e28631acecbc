package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Regression tests for issue 13 (bad input from outside), Kakao's part: unusable tokens in real
 * answers, the legacy token-info shape, and renewal margins that overflow.
 */
class KakaoBadInputTest {
  static final String KEY = KakaoTokenProviderTest.KEY;
  static final long APP_ID = KakaoTokenProviderTest.APP_ID;
  static final String REDIRECT = KakaoTokenProviderTest.REDIRECT;
  static final ConnectionId ID = KakaoTokenProviderTest.ID;

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private KakaoEmulator kakao;

  @BeforeEach
  void start() {
    kakao = new KakaoEmulator(clock).registerApp(KEY, APP_ID, REDIRECT).start();
  }

  @AfterEach
  void stop() {
    kakao.close();
  }

  private Map<String, Object> settings(Map<String, ?> extra) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "kakao");
    s.put("client-id", KEY);
    s.put("redirect-uri", REDIRECT);
    s.put("auth-base-url", kakao.baseUrl());
    s.put("api-base-url", kakao.baseUrl());
    s.putAll(extra);
    return s;
  }

  private TokenProvider provider(Map<String, ?> extra) {
    return new KakaoProviderFactory()
        .create(
            new Settings(ID, settings(extra)),
            new ProviderContext(ID, clock, http, new SecureRandom()));
  }

  private TokenSet connect(TokenProvider p) {
    String verifier = KakaoTokenProviderTest.verifier();
    URI url = p.authorizationUrl("s", KakaoTokenProviderTest.challenge(verifier));
    String code = HttpUrl.get(kakao.followAuthorization(url)).queryParameter("code");
    return p.exchangeCode(code, verifier);
  }

  private static Fault breaking(String field, String json) {
    return Fault.rewriteAfterProcessing(
        body -> {
          String out =
              body.replaceFirst(
                  "\"" + field + "\"\\s*:\\s*\"[^\"]*\"",
                  Matcher.quoteReplacement("\"" + field + "\":" + json));
          assertThat(out).as("the emulator's answer has a %s", field).isNotEqualTo(body);
          return out;
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"bad\\u00e9\"", "\"bad\\r\\nX: y\"", "\"\"", "42", "true"})
  void refreshThatRotates_withABadAccessToken_keepsTheNewRefreshToken(String bad) {
    TokenProvider p = provider(Map.of());
    TokenSet first = connect(p);
    clock.advance(Duration.ofDays(31)); // inside the last month: Kakao rotates
    kakao.inject(KakaoEmulator.TOKEN_PATH, breaking("access_token", bad));

    TokenSet kept = p.refresh(first);

    assertThat(kakao.rotations()).isEqualTo(1);
    assertThat(kept.refreshToken()).isNotEqualTo(first.refreshToken());
    assertThat(kept.accessToken()).isEqualTo(first.accessToken());
    RecordedRequest sent = kakao.lastRequest(KakaoEmulator.TOKEN_PATH);
    assertThat(EmulatorServer.form(sent)).containsEntry("refresh_token", first.refreshToken());

    // The kept refresh token is the live one: the next refresh works.
    TokenSet next = p.refresh(kept);
    assertThat(kakao.isAccessTokenLive(next.accessToken())).isTrue();
  }

  @Test
  void refreshWithoutANewRefreshToken_andABadAccessToken_isOutcomeUnknown_theStoredTokenKept() {
    TokenProvider p = provider(Map.of());
    TokenSet first = connect(p);
    kakao.inject(KakaoEmulator.TOKEN_PATH, breaking("access_token", "\"bad token\""));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> p.refresh(first));

    // Unusable as a whole: reported, never saved; the stored refresh token (not rotated here)
    // still works for the deliberate retry.
    assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(e.body()).isNull();
    assertThat(kakao.isAccessTokenLive(p.refresh(first).accessToken())).isTrue();
  }

  @Test
  void codeExchange_withAnAccessTokenThatIsANumber_isATypedFailure() {
    TokenProvider p = provider(Map.of());
    kakao.inject(KakaoEmulator.TOKEN_PATH, breaking("access_token", "12345"));

    TokenEndpointException e = catchThrowableOfType(TokenEndpointException.class, () -> connect(p));

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("'access_token' is not a JSON string");
  }

  /** Issue 13 item 11: the legacy token-info shape was a TRANSIENT error. */
  @Test
  void validate_legacyTokenInfoShape_isRead() {
    TokenProvider p = provider(Map.of("app-id", APP_ID, "validate-on-load", true));
    TokenSet tokens = connect(p);
    kakao.inject(
        KakaoEmulator.TOKEN_INFO_PATH,
        Fault.rewriteAfterProcessing(
            body -> {
              Matcher m =
                  java.util.regex.Pattern.compile("\"expires_in\"\\s*:\\s*(\\d+)").matcher(body);
              assertThat(m.find()).isTrue();
              long millis = Long.parseLong(m.group(1)) * 1000;
              return body.replace("\"app_id\"", "\"appId\"")
                  .replace(m.group(), "\"expiresInMillis\":" + millis);
            }));

    TokenSet validated = p.validate(tokens);

    assertThat(validated.extra(KakaoProviderFactory.APP_ID)).isEqualTo(Long.toString(APP_ID));
    assertThat(validated.extra(KakaoProviderFactory.USER_ID)).isNotNull();
  }

  /** Issue 13 item 4: Kakao's renew-before had no upper bound and could overflow. */
  @ParameterizedTest
  @ValueSource(strings = {"9999999999999999d", "106751991167301d", "2h", "3650d"})
  void renewBefore_beyondAnHour_isAConfigurationErrorNamingTheSetting(String value) {
    assertThatThrownBy(() -> provider(Map.of("renew-before", value)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'renew-before'");
  }

  @Test
  void redirectUri_plainHttpOffLoopback_isRefused() {
    assertThatThrownBy(() -> provider(Map.of("redirect-uri", "http://127.attacker.example/cb")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'redirect-uri'");
  }
}
