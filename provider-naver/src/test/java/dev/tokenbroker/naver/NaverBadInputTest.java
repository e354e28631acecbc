package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Regression tests for issue 13 (bad input from outside), Naver's part. */
class NaverBadInputTest {
  private static final String CLIENT = "myClient";
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";

  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private NaverEmulator naver;

  @BeforeEach
  void start() {
    naver = new NaverEmulator(clock).registerApplication(CLIENT, SECRET).start();
  }

  @AfterEach
  void stop() {
    naver.close();
  }

  private TokenProvider provider(Map<String, Object> extra) {
    Map<String, Object> m = new HashMap<>();
    m.put("client-id", CLIENT);
    m.put("client-secret", SECRET);
    m.put("base-url", naver.baseUrl());
    m.putAll(extra);
    ConnectionId id = ConnectionId.of("naver", "self");
    return new NaverProviderFactory()
        .create(new Settings(id, m), new ProviderContext(id, clock, http, new SecureRandom()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"\"bad\\u00e9\"", "\"bad\\r\\nX: y\"", "\"bad\\ufffd\"", "\"\"", "3", "null"})
  void answerWithAnAccessTokenThatCannotGoInAHeader_isATypedTransientFailure(String bad) {
    TokenProvider p = provider(Map.of());
    naver.inject(
        NaverEmulator.TOKEN_PATH,
        Fault.rewriteAfterProcessing(
            body ->
                body.replaceFirst(
                    "\"access_token\"\\s*:\\s*\"[^\"]*\"",
                    Matcher.quoteReplacement("\"access_token\":" + bad))));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> p.obtain(null));

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("'access_token'");
    assertThat(e.body()).isNull();
    assertThat(EmulatorServer.form(naver.lastRequest(NaverEmulator.TOKEN_PATH)))
        .containsEntry("grant_type", "client_credentials");
  }

  @Test
  void tokenTypeWithCrLf_isATypedFailure() {
    TokenProvider p = provider(Map.of());
    naver.inject(
        NaverEmulator.TOKEN_PATH,
        Fault.rewriteAfterProcessing(
            body ->
                body.replaceFirst(
                    "\"token_type\"\\s*:\\s*\"[^\"]*\"",
                    "\"token_type\":\"Bearer\\\\r\\\\nX: y\"")));

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> p.obtain(null));

    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).contains("'token_type'");
  }

  @Test
  void renewBefore_overflowing_isAConfigurationError() {
    assertThatThrownBy(() -> provider(Map.of("renew-before", "9999999999999999d")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'renew-before'");
  }
}
