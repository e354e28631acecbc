package dev.tokenbroker.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.fuzz.Bounded;
import dev.tokenbroker.fuzz.Mutations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import okhttp3.Headers;

/**
 * Fuzzes the reading of token-endpoint answers: the platforms' published success and error shapes
 * (PROTOCOLS.md), mutated. Whatever the body and status, every accessor gives a value or a {@link
 * TokenEndpointException} within a bounded time — never another exception or an {@link Error} — a
 * token it hands out fits its syntax, and no known secret ends up in a message or kept body.
 */
class TokenResponseFuzzTest {
  static final String OLD_REFRESH = "RT-KNOWN-old-7f3a9c";
  static final String CLIENT_SECRET = "CS-KNOWN-9b8c7d6e";
  static final String NEW_REFRESH = "RTNEWPLANTED5d4c";
  static final String NEW_ACCESS = "ATNEWPLANTED3e2f";

  static final List<String> SHAPES =
      List.of(
          // Cafe24
          "{\"access_token\":\""
              + NEW_ACCESS
              + "\",\"expires_at\":\"2021-03-01T14:00:00.000\",\"refresh_token\":\""
              + NEW_REFRESH
              + "\",\"refresh_token_expires_at\":\"2021-03-15T12:00:00.000\",\"client_id\":\"cid\","
              + "\"mall_id\":\"yourmall\",\"user_id\":\"test\",\"scopes\":[\"mall.read_order\"],"
              + "\"issued_at\":\"2021-03-01T12:00:00.000\",\"shop_no\":\"1\",\"token_type\":\"Bearer\"}",
          "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid refresh_token: "
              + OLD_REFRESH
              + "\"}",
          "{\"error\":{\"code\":\"401\",\"message\":\"Invalid client_secret "
              + CLIENT_SECRET
              + "\",\"more_info\":{}}}",
          // Naver
          "{\"access_token\":\""
              + NEW_ACCESS
              + "\",\"expires_in\":10800,\"token_type\":\"Bearer\"}",
          "{\"code\":\"BadRequest\",\"message\":\"timestamp invalid\",\"timestamp\":"
              + "\"2024-01-01T00:00:00.000+09:00\",\"invalidInputs\":[{\"name\":\"client_secret_sign\","
              + "\"type\":\"x\",\"message\":\"sign "
              + CLIENT_SECRET
              + "\"}],\"data\":null}",
          "{\"code\":\"GW.IP_NOT_ALLOWED\",\"message\":\"denied\",\"timestamp\":\"t\",\"traceId\":\"x\"}",
          // Kakao
          "{\"token_type\":\"bearer\",\"access_token\":\""
              + NEW_ACCESS
              + "\",\"expires_in\":21599,\"refresh_token\":\""
              + NEW_REFRESH
              + "\",\"refresh_token_expires_in\":5183999,\"scope\":\"profile talk_message\"}",
          "{\"error\":\"invalid_grant\",\"error_description\":\"expired "
              + OLD_REFRESH
              + "\",\"error_code\":\"KOE322\"}",
          "{\"msg\":\"this access token does not exist\",\"code\":-401}",
          "{\"id\":123,\"expires_in\":7199,\"app_id\":987}",
          "{\"id\":123,\"expiresInMillis\":7199000,\"appId\":987}",
          // what proxies send
          "<html><body>502 Bad Gateway</body></html>",
          "");

  @Provide
  Arbitrary<String> answers() {
    return Mutations.seedsAndMutations(SHAPES);
  }

  @Provide
  Arbitrary<Integer> statuses() {
    return Arbitraries.of(200, 201, 204, 400, 401, 403, 408, 429, 500, 502, 503, 302, 0, 999);
  }

  @Property(tries = 400)
  void anyAnswer_givesValuesOrTypedFailures_neverLeaksAKnownSecret(
      @ForAll("answers") String body, @ForAll("statuses") int status, @ForAll boolean mayRotate) {
    // One bounded run per case: a hang anywhere in it fails the property with this input.
    Bounded.Outcome<List<String>> o = Bounded.run(() -> readEverything(body, status, mayRotate));
    if (o.thrown != null) {
      throw new AssertionError("untyped failure: " + o.thrown, o.thrown);
    }
    for (String text : o.value) {
      assertThat(text).doesNotContain(OLD_REFRESH).doesNotContain(CLIENT_SECRET);
    }
  }

  /** Calls every accessor; returns every text a person could see. */
  private static List<String> readEverything(String body, int status, boolean mayRotate) {
    List<String> texts = new ArrayList<>();
    TokenResponse r =
        new TokenResponse(
            "fuzz",
            status,
            Headers.of("Retry-After", "12"),
            body,
            Instant.parse("2026-01-01T00:00:00Z"),
            mayRotate,
            List.of(OLD_REFRESH, CLIENT_SECRET));
    for (String field :
        List.of("access_token", "refresh_token", "token_type", "expires_in", "scope", "mall_id")) {
      check(texts, () -> r.text(field));
      check(texts, () -> r.number(field));
      check(texts, () -> r.has(field));
      check(texts, () -> r.tokenType(field));
      check(texts, () -> r.requireLifetime(field, Duration.ofDays(366)));
      String problem = r.tokenProblem(field, true);
      try {
        String token = r.requireToken(field, true);
        assertThat(problem).isNull();
        assertThat(TokenSyntax.accessTokenProblem(token)).isNull();
      } catch (TokenEndpointException e) {
        assertThat(problem).isNotNull();
        texts.add(problem);
        record(texts, e);
      }
    }
    check(texts, r::standardError);
    check(texts, () -> r.malformed("fuzz"));
    check(texts, r::retryAfter);
    check(texts, () -> r.failure().kind(TokenEndpointException.Kind.TRANSIENT).reason("x").build());
    texts.add(r.scrubbedBody());
    texts.add(r.toString());
    return texts;
  }

  /** Runs an accessor: a value or a typed failure; what either says is kept for the leak check. */
  private static void check(List<String> texts, Supplier<?> call) {
    try {
      Object value = call.get();
      if (value instanceof TokenEndpointException) {
        record(texts, (TokenEndpointException) value);
      } else if (value != null) {
        texts.add(String.valueOf(value));
      }
    } catch (TokenEndpointException e) {
      record(texts, e);
    }
  }

  private static void record(List<String> texts, TokenEndpointException e) {
    texts.add(e.getMessage());
    texts.add(String.valueOf(e.body()));
    texts.add(String.valueOf(e.errorDescription()));
    texts.add(e.reason());
    texts.add(String.valueOf(e.error()));
    texts.add(String.valueOf(e.platformCode()));
  }

  @Property(tries = 400)
  void scrub_isLinearAndRemovesKnownSecrets(@ForAll("answers") String text) {
    String out =
        Bounded.run(() -> Secrets.scrub(text + text, List.of(OLD_REFRESH, CLIENT_SECRET), 400))
            .value;
    assertThat(out).doesNotContain(OLD_REFRESH).doesNotContain(CLIENT_SECRET);
    assertThat(out.length()).isLessThanOrEqualTo(400 + 40);
    // an intact secret-named member never keeps its value, whatever surrounds it
    if (text.contains("\"refresh_token\":\"" + NEW_REFRESH + "\"")
        && count(text, NEW_REFRESH) == count(text, "\"refresh_token\":\"" + NEW_REFRESH + "\"")) {
      assertThat(Secrets.scrub(text, List.of(), 1_000_000)).doesNotContain(NEW_REFRESH);
    }
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
