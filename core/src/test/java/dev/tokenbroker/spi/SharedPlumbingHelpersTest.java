package dev.tokenbroker.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.OAuthErrors.Verdict;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import okhttp3.Headers;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The helpers platform modules share: verdict tables, send-or-throw, callback pairs, settings. */
class SharedPlumbingHelpersTest {
  private static final ConnectionId ID = ConnectionId.of("acme", "one");
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final Pattern LOWER = Pattern.compile("[a-z]+");

  private final MockWebServer server = new MockWebServer();

  @AfterEach
  void stop() throws Exception {
    server.shutdown();
  }

  @Test
  void verdict_looksCodesUpInItsTable_andFillsTheFailure() {
    Map<String, Verdict> table = Map.of("E1", Verdict.permanent("dead"));
    assertThat(Verdict.of(table, "E1")).isEqualTo(new Verdict(Kind.PERMANENT, "dead"));
    assertThat(Verdict.of(table, "E2")).isNull();
    assertThat(Verdict.of(table, null)).isNull();

    TokenResponse r = new TokenResponse("acme", 400, Headers.of(), "{}", NOW, false, List.of());
    TokenEndpointException e = Verdict.temporary("later").apply(r.failure());
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(e.reason()).isEqualTo("later");
    assertThat(e.httpStatus()).isEqualTo(400);
  }

  @Test
  void sendOrThrow_returnsA2xx_andClassifiesAnythingElseWithTheRequestsSecrets() {
    TokenHttp http = new TokenHttp(new OkHttpClient(), Clock.fixed(NOW, ZoneOffset.UTC), "acme");
    OAuthClient client =
        OAuthClient.builder(OAuthEndpoint.of(server.url("/token"), ClientAuth.FORM), "id", http)
            .clientSecret("sec")
            .build();
    server.enqueue(new MockResponse().setBody("{\"access_token\":\"a\"}"));
    assertThat(
            client.tokenRequest("client_credentials").sendOrThrow(false, (r, s) -> null).status())
        .isEqualTo(200);

    server.enqueue(
        new MockResponse().setResponseCode(400).setBody("{\"error\":\"invalid_grant\"}"));
    List<List<String>> seen = new java.util.ArrayList<>();
    assertThatThrownBy(
            () ->
                client
                    .tokenRequest("refresh_token")
                    .param("refresh_token", "r1")
                    .secret("r1")
                    .sendOrThrow(
                        true,
                        (r, secrets) -> {
                          seen.add(secrets);
                          return OAuthErrors.classify(r, OAuthErrors.Call.REFRESH);
                        }))
        .isInstanceOf(TokenEndpointException.class)
        .satisfies(e -> assertThat(((TokenEndpointException) e).kind()).isEqualTo(Kind.PERMANENT));
    assertThat(seen).containsExactly(List.of("sec", "r1"));
  }

  @Test
  void pairs_keepOrderAndDecode_refuseANameGivenTwice() {
    assertThat(CallbackParams.pairs("b=2&&a=%41&c", v -> v, n -> new IllegalStateException(n)))
        .containsExactly(Map.entry("b", "2"), Map.entry("a", "%41"), Map.entry("c", ""));
    assertThat(
            CallbackParams.pairs(
                "a=%41+b",
                v -> URLDecoder.decode(v, StandardCharsets.UTF_8), IllegalStateException::new))
        .containsExactly(Map.entry("a", "A b"));
    assertThatThrownBy(
            () -> CallbackParams.pairs("a=1&b=2&a=3", v -> v, IllegalStateException::new))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("a");
    // Decoded names are compared: %61 is a.
    assertThatThrownBy(
            () ->
                CallbackParams.pairs(
                    "a=1&%61=2",
                    v -> URLDecoder.decode(v, StandardCharsets.UTF_8), IllegalStateException::new))
        .hasMessage("%61");
  }

  @Test
  void sha256_isTheStandardDigest() {
    assertThat(java.util.HexFormat.of().formatHex(CallbackParams.sha256("abc")))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void settingRules_optional_checksOnlyAGivenValue() {
    Settings s = new Settings(ID, Map.of("k", "abc", "bad", "ab1"));
    assertThat(SettingRules.optional(s, "k", LOWER, "letters")).isEqualTo("abc");
    assertThat(SettingRules.optional(s, "absent", LOWER, "letters")).isNull();
    assertThatThrownBy(() -> SettingRules.optional(s, "bad", LOWER, "must be letters"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'bad'")
        .hasMessageContaining("must be letters")
        .hasMessageNotContaining("ab1");
  }

  @Test
  void settingRules_orSubject_saysWhenTheTemplateSubjectIsWrong() {
    Settings empty = new Settings(ID, Map.of());
    assertThat(SettingRules.orSubject(empty, "k", "abc", "acme:{k}", LOWER, "letters"))
        .isEqualTo("abc");
    assertThat(SettingRules.orSubject(empty, "k", null, "acme:{k}", LOWER, "letters")).isNull();
    assertThatThrownBy(() -> SettingRules.orSubject(empty, "k", "AB", "acme:{k}", LOWER, "letters"))
        .hasMessageContaining("(the template subject) letters");
    Settings set = new Settings(ID, Map.of("k", "AB"));
    assertThatThrownBy(() -> SettingRules.orSubject(set, "k", null, "acme:{k}", LOWER, "letters"))
        .hasMessageContaining("setting 'k'")
        .hasMessageNotContaining("template subject");
    assertThatThrownBy(() -> SettingRules.orSubject(set, "k", "cd", "acme:{k}", LOWER, "letters"))
        .hasMessageContaining("differs from the value");
  }
}
