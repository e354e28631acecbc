package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import okhttp3.OkHttpClient;

/**
 * Fuzzes Naver Commerce's answers (the token answer, the API's and the gateway's error shapes),
 * mutated: obtaining a token gives a usable set or a {@link TokenEndpointException} within a
 * bounded time, sends at most two signed requests (the second only after a timestamp rejection),
 * and never repeats the secret or the stored token.
 */
class NaverAnswerFuzzTest {
  static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  static final String SALT = "abcdefghijklmnopqrstuv";
  static final String OLD_ACCESS = "ATKNOWNnaver0a1b2c";

  static final List<String> SHAPES =
      List.of(
          "{\"access_token\":\"5wKhj7I2xd3Ig0dVUoNbK5\",\"expires_in\":10800,\"token_type\":\"Bearer\"}",
          "{\"code\":\"BadRequest\",\"message\":\"요청 파라미터 오류\",\"timestamp\":"
              + "\"2026-03-01T12:00:00.000+09:00\",\"invalidInputs\":[{\"name\":\"timestamp\","
              + "\"type\":\"Range\",\"message\":\"timestamp invalid\"}]}",
          "{\"code\":\"BadRequest\",\"message\":\"x\",\"invalidInputs\":[{\"name\":"
              + "\"client_secret_sign\",\"type\":\"x\",\"message\":\"signature mismatch\"}]}",
          "{\"code\":\"GW.IP_NOT_ALLOWED\",\"message\":\"denied\",\"timestamp\":\"t\","
              + "\"traceId\":\"abc\"}",
          "{\"code\":\"GW.RATE_LIMIT\",\"message\":\"slow down\"}",
          "");

  static AnswerServer server;
  static TokenProvider provider;
  static final FakeClock clock = FakeClock.at(Instant.parse("2026-03-01T03:00:00Z"));

  @BeforeContainer
  static void start() {
    server = new AnswerServer();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("client-id", "fuzzClient");
    s.put("client-secret", SECRET);
    s.put("base-url", server.url().toString());
    ConnectionId id = ConnectionId.parse("naver:self");
    provider =
        new NaverProviderFactory()
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

  @Property(tries = 80)
  void anyAnswer_givesAUsableSetOrATypedFailure_withoutSecrets(
      @ForAll("answers") String body, @ForAll("statuses") int status, @ForAll boolean renewing) {
    Instant now = clock.instant();
    TokenSet current =
        renewing
            ? TokenSet.builder()
                .accessToken(OLD_ACCESS)
                .issuedAt(now.minusSeconds(9000))
                .expiresAt(now.plusSeconds(1800))
                .build()
            : null;
    server.answer(status, body);
    Bounded.Outcome<TokenSet> o =
        Bounded.valueOrTyped(TokenEndpointException.class, () -> provider.obtain(current));
    assertThat(server.requests()).isBetween(1, 2);
    List<String> texts = new ArrayList<>();
    if (o.value != null) {
      assertThat(TokenSyntax.accessTokenProblem(o.value.accessToken())).isNull();
      assertThat(TokenSyntax.tokenTypeProblem(o.value.tokenType())).isNull();
      texts.add(o.value.toString());
    }
    if (o.thrown instanceof TokenEndpointException) {
      TokenEndpointException e = (TokenEndpointException) o.thrown;
      texts.add(e.getMessage());
      texts.add(String.valueOf(e.body()));
      texts.add(String.valueOf(e.errorDescription()));
    }
    for (String text : texts) {
      assertThat(text).doesNotContain(SALT, OLD_ACCESS);
    }
  }
}
