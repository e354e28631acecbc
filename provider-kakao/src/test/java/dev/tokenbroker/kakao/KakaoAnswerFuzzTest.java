package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.fuzz.AnswerServer;
import dev.tokenbroker.fuzz.Bounded;
import dev.tokenbroker.fuzz.Mutations;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenSyntax;
import dev.tokenbroker.testkit.FakeClock;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import okhttp3.OkHttpClient;

/**
 * Fuzzes Kakao's answers (kauth token answers and errors, kapi token info and errors), mutated, as
 * the answer to a code exchange, a refresh, a token-info check and a logout: a usable token set or
 * a {@link TokenEndpointException} within a bounded time, each request sent once, no secret in what
 * a failure says.
 */
class KakaoAnswerFuzzTest {
  static final String KEY = "0123456789abcdef0123456789abcdef";
  static final String SECRET = "CSknownKakaoSecret77";
  static final String OLD_REFRESH = "RTKNOWNkakao0a1b2c";
  static final String OLD_ACCESS = "ATKNOWNkakao3d4e5f";
  static final String CODE = "CODEKNOWNkakao6a7b";
  static final String VERIFIER = "VERIFIERknown-0123456789abcdef0123456789abcdef";

  static final List<String> SHAPES =
      List.of(
          "{\"token_type\":\"bearer\",\"access_token\":\"a-Bc_9\",\"expires_in\":21599,"
              + "\"refresh_token\":\"r-Xy_1\",\"refresh_token_expires_in\":5183999,"
              + "\"scope\":\"profile_nickname talk_message\",\"id_token\":\"eyJ.x.y\"}",
          "{\"token_type\":\"bearer\",\"access_token\":\"a-Bc_9\",\"expires_in\":\"21599\"}",
          "{\"error\":\"invalid_grant\",\"error_description\":\"authorization code not found\","
              + "\"error_code\":\"KOE320\"}",
          "{\"error\":\"invalid_grant\",\"error_description\":\"invalid refresh token\","
              + "\"error_code\":\"KOE322\"}",
          "{\"id\":123456789,\"expires_in\":7199,\"app_id\":987654}",
          "{\"id\":123456789,\"expiresInMillis\":7199000,\"appId\":987654}",
          "{\"msg\":\"this access token does not exist\",\"code\":-401}",
          "{\"msg\":\"insufficient scopes\",\"code\":-402,\"required_scopes\":[\"talk_message\"]}",
          "{\"msg\":\"NotRegisteredUserException\",\"code\":-101}",
          "");

  static AnswerServer server;
  static TokenProvider provider;
  static final FakeClock clock = FakeClock.at(Instant.parse("2026-03-01T03:00:00Z"));

  @BeforeContainer
  static void start() {
    server = new AnswerServer();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("client-id", KEY);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", "http://127.0.0.1:9/cb");
    s.put("app-id", "987654");
    s.put("validate-on-load", "true");
    s.put("auth-base-url", server.url().toString());
    s.put("api-base-url", server.url().toString());
    ConnectionId id = ConnectionId.parse("kakao:fuzz");
    provider =
        new KakaoProviderFactory()
            .create(
                new Settings(id, s),
                new ProviderContext(id, clock, new OkHttpClient(), new SecureRandom()));
  }

  @AfterContainer
  static void stop() {
    server.close();
  }

  @Provide
  Arbitrary<String> answers() {
    return Mutations.seedsAndMutations(SHAPES);
  }

  @Provide
  Arbitrary<Integer> statuses() {
    return Arbitraries.of(200, 200, 200, 400, 401, 403, 429, 500, 503);
  }

  @Property(tries = 50)
  void anyAnswer_givesAUsableSetOrATypedFailure_sentOnce_withoutSecrets(
      @ForAll("answers") String body, @ForAll("statuses") int status) {
    Instant now = clock.instant();
    TokenSet current =
        TokenSet.builder()
            .accessToken(OLD_ACCESS)
            .refreshToken(OLD_REFRESH)
            .issuedAt(now.minusSeconds(3600))
            .expiresAt(now.plusSeconds(60))
            .refreshExpiresAt(now.plus(Duration.ofDays(20)))
            .version(5)
            .build();
    List<String> texts = new ArrayList<>();
    call(texts, body, status, () -> provider.refresh(current));
    call(texts, body, status, () -> provider.exchangeCode(CODE, VERIFIER));
    call(texts, body, status, () -> provider.validate(current));
    call(
        texts,
        body,
        status,
        () -> {
          provider.revoke(current, Revocation.UNLINK);
          return null;
        });
    for (String text : texts) {
      assertThat(text).doesNotContain(SECRET, OLD_REFRESH, OLD_ACCESS, CODE, VERIFIER);
    }
  }

  private static void call(List<String> texts, String body, int status, Callable<TokenSet> c) {
    server.answer(status, body);
    Bounded.Outcome<TokenSet> o = Bounded.valueOrTyped(TokenEndpointException.class, c);
    assertThat(server.requests()).isEqualTo(1);
    if (o.value != null) {
      TokenSet t = o.value;
      assertThat(TokenSyntax.accessTokenProblem(t.accessToken())).isNull();
      assertThat(t.refreshToken()).isNotNull();
      assertThat(TokenSyntax.vscharProblem(t.refreshToken())).isNull();
      texts.add(t.toString());
    }
    if (o.thrown instanceof TokenEndpointException) {
      TokenEndpointException e = (TokenEndpointException) o.thrown;
      texts.add(e.getMessage());
      texts.add(String.valueOf(e.body()));
      texts.add(String.valueOf(e.errorDescription()));
      texts.add(String.valueOf(e.platformCode()));
    }
  }
}
