package dev.tokenbroker.cafe24;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import java.time.Duration;
import java.util.Map;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Regression tests for issue 13 (bad input from outside): Cafe24 answers with tokens that cannot go
 * in a header, blank tokens, tokens for another mall, and settings that overflow or point off
 * loopback over plain http. The emulator processes each request for real (the refresh token
 * rotates); only one field of its answer is broken.
 */
class Cafe24BadInputTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();
  private final Cafe24Emulator cafe24 = fixture.cafe24;
  private final TokenProvider provider = fixture.provider("mall-a");
  private final String tokenPath = cafe24.tokenPath("mall-a");

  @AfterEach
  void close() {
    fixture.close();
  }

  /** The real answer with {@code field}'s value replaced by the JSON text {@code json}. */
  private static Fault breaking(String field, String json) {
    return Fault.rewriteAfterProcessing(
        body -> {
          String out =
              body.replaceFirst(
                  "\"" + field + "\"\\s*:\\s*\"[^\"]*\"",
                  java.util.regex.Matcher.quoteReplacement("\"" + field + "\":" + json));
          assertThat(out).as("the emulator's answer has a %s", field).isNotEqualTo(body);
          return out;
        });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"bad\\u00e9token\"",
        "\"bad\\r\\ntoken\"",
        "\"bad\\ufffdtoken\"",
        "\"bad token\"",
        "\"\"",
        "\"   \"",
        "1234567",
        "false"
      })
  void refresh_goodRefreshTokenBadAccessToken_keepsTheNewRefreshToken(String badAccessToken) {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, breaking("access_token", badAccessToken));

    TokenSet kept = provider.refresh(current);

    // Cafe24 rotated: the stored refresh token is dead, the new one is the mall's only live one.
    assertThat(cafe24.isRefreshTokenValid(current.refreshToken())).isFalse();
    assertThat(kept.refreshToken()).isNotEqualTo(current.refreshToken());
    assertThat(cafe24.isRefreshTokenValid(kept.refreshToken())).isTrue();
    // No unusable access token is kept: the one renewed from stays, with its own expiry.
    assertThat(kept.accessToken()).isEqualTo(current.accessToken());
    assertThat(kept.expiresAt()).isEqualTo(current.expiresAt());
    assertThat(cafe24.refreshes()).isEqualTo(1);
    RecordedRequest sent = cafe24.lastRequest(tokenPath);
    assertThat(sent.getBody().readUtf8())
        .isEqualTo("grant_type=refresh_token&refresh_token=" + current.refreshToken());

    // The chain goes on: the next refresh, with the kept token, gives a usable set.
    TokenSet next = provider.refresh(kept);
    assertThat(cafe24.isAccessTokenValid(next.accessToken())).isTrue();
  }

  @Test
  void broker_badAccessTokenInARefreshAnswer_savesTheNewRefreshToken_andRecovers() {
    InMemoryTokenStore store = new InMemoryTokenStore(fixture.clock);
    ConnectionId mallA = ConnectionId.parse("cafe24:mall-a");
    TokenSet seeded = store.put(mallA, fixture.connected("mall-a"));
    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(fixture.clock)
            .store(store)
            .httpClient(fixture.http)
            .connection(mallA, fixture.settings("mall-a"))
            .build()) {
      fixture.clock.advance(Duration.ofHours(2));
      cafe24.inject(tokenPath, breaking("access_token", "\"tok\\r\\nX-Evil: 1\""));

      catchThrowableOfType(RuntimeException.class, () -> broker.accessToken(mallA));

      TokenSet saved = store.load(mallA);
      assertThat(saved.refreshToken()).isNotEqualTo(seeded.refreshToken());
      assertThat(cafe24.isRefreshTokenValid(saved.refreshToken())).isTrue();
      assertThat(saved.accessToken()).doesNotContain("\r", "\n");

      fixture.clock.advance(Duration.ofMinutes(1));
      String token = broker.accessToken(mallA);
      assertThat(cafe24.isAccessTokenValid(token)).isTrue();
    }
  }

  @Test
  void refresh_bothTokensBad_isOutcomeUnknown_neverASavedSet() {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(
        tokenPath,
        Fault.rewriteAfterProcessing(
            body ->
                body.replaceAll(
                    "\"(access_token|refresh_token)\"\\s*:\\s*\"[^\"]*\"",
                    "\"$1\":\"x\\\\u0000y\"")));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> provider.refresh(current));

    assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(e.body()).isNull();
  }

  /** Issue 13 item 3: a blank access token made completeAuthorization throw a raw IAE. */
  @ParameterizedTest
  @ValueSource(strings = {"\"\"", "\" \"", "\"\\t\""})
  void exchangeCode_blankAccessToken_isATypedFailure(String blank) {
    String code =
        HttpUrl.get(cafe24.approve(provider.authorizationUrl("st", null))).queryParameter("code");
    cafe24.inject(tokenPath, breaking("access_token", blank));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> provider.exchangeCode(code, null));

    assertThat(e).isNotNull();
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("'access_token'");
  }

  /** Issue 13 item 11: a token for another mall was accepted. */
  @Test
  void exchangeCode_answerForAnotherMall_isRefusedPermanently() {
    String code =
        HttpUrl.get(cafe24.approve(provider.authorizationUrl("st", null))).queryParameter("code");
    cafe24.inject(tokenPath, breaking("mall_id", "\"mall-b\""));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> provider.exchangeCode(code, null));

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.reason()).contains("mall 'mall-b'", "mall 'mall-a'");
    assertThat(e.body()).isNull();
  }

  @Test
  void refresh_answerForAnotherMall_isRefused() {
    TokenSet current = fixture.connected("mall-a");
    cafe24.inject(tokenPath, breaking("mall_id", "\"mall-b\""));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> provider.refresh(current));

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
  }

  // ---- settings ---------------------------------------------------------------------------

  /** Issue 13 item 4: this threw ArithmeticException from build(). */
  @ParameterizedTest
  @ValueSource(strings = {"9999999999999999d", "106751991167301d", "PT2562047788015216H"})
  void renewBefore_overflowing_isAConfigurationErrorNamingTheSetting(String value) {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("renew-before", value);

    assertThatThrownBy(() -> fixture.provider(settings))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'renew-before'");
  }

  /** Issue 13 item 5: an http redirect URI off loopback was accepted. */
  @ParameterizedTest
  @ValueSource(
      strings = {"http://127.attacker.example/cb", "http://app.example.com/cb", "not a url"})
  void redirectUri_plainHttpOffLoopback_isRefused(String uri) {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("redirect-uri", uri);

    assertThatThrownBy(() -> fixture.provider(settings))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'redirect-uri'");
  }

  @Test
  void redirectUri_plainHttpOnLoopback_isAccepted() {
    Map<String, Object> settings = fixture.settings("mall-a");
    settings.put("redirect-uri", "http://127.0.0.1:8765/callback");

    assertThat(fixture.provider(settings).authorizationUrl("s", null).toString())
        .contains("127.0.0.1%3A8765");
  }
}
