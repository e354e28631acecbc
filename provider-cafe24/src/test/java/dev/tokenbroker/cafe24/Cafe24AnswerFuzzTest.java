package dev.tokenbroker.cafe24;

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
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
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
 * Fuzzes Cafe24's answers: the documented token answer and error shapes, mutated, as the answer to
 * a code exchange, a refresh and a revocation. Each call gives a usable token set or a {@link
 * TokenEndpointException} within a bounded time — never another exception or an {@link Error} — is
 * sent once, and no secret (client secret, Basic credentials, the stored tokens, the code) ends up
 * in what the failure says.
 */
class Cafe24AnswerFuzzTest {
  static final String SECRET = "CS-known-client-secret-1";
  static final String CLIENT_ID = "fuzzClient";
  static final String OLD_REFRESH = "RTKNOWNold0a1b2c3d";
  static final String OLD_ACCESS = "ATKNOWNold4e5f6a7b";
  static final String CODE = "CODEKNOWN8c9d0e1f";
  static final String BASIC =
      Base64.getEncoder()
          .encodeToString((CLIENT_ID + ":" + SECRET).getBytes(StandardCharsets.UTF_8));

  static final List<String> SHAPES =
      List.of(
          "{\"access_token\":\"0iqR5nM5EJIq0yOZUvTGyA\",\"expires_at\":\"2026-03-01T14:00:00.000\","
              + "\"refresh_token\":\"JeTJ7XpnFC0P2YxGT3zhtA\","
              + "\"refresh_token_expires_at\":\"2026-03-15T12:00:00.000\",\"client_id\":\"fuzzClient\","
              + "\"mall_id\":\"mall-a\",\"user_id\":\"test\",\"scopes\":[\"mall.read_order\","
              + "\"mall.read_product\"],\"issued_at\":\"2026-03-01T12:00:00.000\",\"shop_no\":\"1\"}",
          "{\"error\":\"invalid_request\",\"error_description\":\"Invalid refresh_token\"}",
          "{\"error\":\"invalid_client\",\"error_description\":\"Invalid client_secret\"}",
          "{\"error\":{\"code\":\"403\",\"message\":\"The app was uninstalled\",\"more_info\":{}}}",
          "");

  static AnswerServer server;
  static TokenProvider provider;
  static final FakeClock clock = FakeClock.at(Instant.parse("2026-03-01T03:00:00Z"));

  @BeforeContainer
  static void start() {
    server = new AnswerServer();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("mall-id", "mall-a");
    s.put("client-id", CLIENT_ID);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", "https://app.example.com/cb");
    s.put("scopes", List.of("mall.read_product"));
    s.put("base-url", server.url().toString());
    ConnectionId id = ConnectionId.parse("cafe24:mall-a");
    provider =
        new Cafe24ProviderFactory()
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
    return Arbitraries.of(200, 200, 200, 201, 400, 401, 403, 422, 429, 500, 503);
  }

  @Property(tries = 80)
  void anyAnswer_givesAUsableSetOrATypedFailure_sentOnce_withoutSecrets(
      @ForAll("answers") String body, @ForAll("statuses") int status) {
    Instant now = clock.instant();
    TokenSet current =
        TokenSet.builder()
            .accessToken(OLD_ACCESS)
            .refreshToken(OLD_REFRESH)
            .issuedAt(now.minusSeconds(7200))
            .expiresAt(now.plusSeconds(60))
            .refreshExpiresAt(now.plus(Duration.ofDays(10)))
            .extra("mall_id", "mall-a")
            .version(3)
            .build();
    List<String> texts = new ArrayList<>();
    server.answer(status, body);
    usable(
        texts, Bounded.valueOrTyped(TokenEndpointException.class, () -> provider.refresh(current)));
    assertThat(server.requests()).isEqualTo(1);
    server.answer(status, body);
    usable(
        texts,
        Bounded.valueOrTyped(
            TokenEndpointException.class, () -> provider.exchangeCode(CODE, null)));
    assertThat(server.requests()).isEqualTo(1);
    server.answer(status, body);
    Bounded.Outcome<Object> revoked =
        Bounded.valueOrTyped(
            TokenEndpointException.class,
            () -> {
              provider.revoke(current, Revocation.TOKENS);
              return null;
            });
    record(texts, revoked.thrown);
    for (String text : texts) {
      assertThat(text).doesNotContain(SECRET, BASIC, OLD_REFRESH, OLD_ACCESS, CODE);
    }
  }

  private static void usable(List<String> texts, Bounded.Outcome<TokenSet> o) {
    if (o.value != null) {
      TokenSet t = o.value;
      assertThat(TokenSyntax.accessTokenProblem(t.accessToken())).isNull();
      assertThat(t.refreshToken()).isNotNull();
      assertThat(TokenSyntax.vscharProblem(t.refreshToken())).isNull();
      assertThat(TokenSyntax.tokenTypeProblem(t.tokenType())).isNull();
      assertThat(t.extra("mall_id")).isEqualTo("mall-a");
      texts.add(t.toString());
    }
    record(texts, o.thrown);
  }

  private static void record(List<String> texts, Throwable t) {
    if (t instanceof TokenEndpointException) {
      TokenEndpointException e = (TokenEndpointException) t;
      texts.add(e.getMessage());
      texts.add(String.valueOf(e.body()));
      texts.add(String.valueOf(e.errorDescription()));
      texts.add(String.valueOf(e.platformCode()));
    }
  }
}
