package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenResponse;
import dev.tokenbroker.store.TokenStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Regression tests for the defects of issue 13 found by fuzzing from outside (core's part). */
class BadInputRegressionTest {
  private final MockWebServer server = new MockWebServer();
  private final MutableClock clock = new MutableClock();
  private final TokenHttp http = new TokenHttp(new OkHttpClient(), clock, "fake");
  @TempDir Path dir;

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  private TokenResponse answer(int status, String body, boolean mayRotate, String... secrets) {
    server.enqueue(
        new MockResponse()
            .setResponseCode(status)
            .setHeader("Content-Type", "application/json")
            .setBody(body));
    Request request = new Request.Builder().url(server.url("/oauth/token")).get().build();
    return http.send(request, mayRotate, secrets);
  }

  // ---- 1. the secret scrubber overflowed the stack on a long quoted string ----------------------

  @Test
  void scrub_longStringUnderASecretLookingMember_isScrubbedWithoutStackOverflow() {
    String body = "{\"error\":\"invalid_grant\",\"refresh_token\":\"" + "x".repeat(200_000) + "\"}";

    String scrubbed = Secrets.scrub(body, List.of(), 500);

    assertThat(scrubbed).contains("invalid_grant", Secrets.REDACTED).doesNotContain("xxxx");
  }

  @Test
  void errorAnswer_withAHugeSecretMember_isATypedFailure() {
    TokenResponse r =
        answer(
            400, "{\"error\":\"invalid_grant\",\"code\":\"" + "\\\"y".repeat(50_000) + "\"}", true);

    TokenEndpointException e = r.standardError();

    assertThat(e.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(e.body()).doesNotContain("\\\"y\\\"y");
  }

  @Test
  void scrub_cutOffSecretMember_isBlankedToTheEnd() {
    assertThat(Secrets.scrub("{\"refresh_token\":\"RT-cut-off-here", List.of(), 500))
        .doesNotContain("RT-cut-off-here")
        .contains(Secrets.REDACTED);
  }

  /** Found by TokenResponseFuzzTest: a member whose quote was lost hid the next one's value. */
  @Test
  void scrub_secretMemberAfterABrokenOne_isStillBlanked() {
    String body =
        "{\"access_token\":\"x,\"refresh_token\":\"RT-after-broken-1\",\"n\":1}"
            + " {\"refresh_token\":\"refresh_token\":\"RT-after-broken-2\"}";

    assertThat(Secrets.scrub(body, List.of(), 1000))
        .doesNotContain("RT-after-broken-1")
        .doesNotContain("RT-after-broken-2");
  }

  /** Found by StoreRecordsFuzzTest: a sealed record cut shorter than the GCM tag escaped. */
  @Test
  void encryptedRecord_withACiphertextShorterThanTheTag_isCorrupt() {
    TokenCodec codec = TokenCodec.encrypted(EncryptionKeys.of(new byte[32]));
    ConnectionId id = ConnectionId.parse("cafe24:m");
    String record =
        codec.encodeToString(
            id,
            TokenSet.builder()
                .accessToken("AT")
                .issuedAt(clock.instant())
                .expiresAt(clock.instant().plusSeconds(60))
                .build());
    String cut = record.replaceFirst("\"data\":\"[^\"]*\"", "\"data\":\"AAAA\"");

    assertThatThrownBy(() -> codec.decode(id, cut))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("cannot be decrypted");
  }

  // ---- 2. tokens that cannot go in a header
  // ------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"t\\u00f6ken\"", // non-ASCII
        "\"tok\\r\\nX-Injected: 1\"", // CR LF
        "\"tok\\u0000en\"", // NUL
        "\"tok\\ufffden\"", // U+FFFD from invalid UTF-8
        "\"tok en\"", // a space: VSCHAR, but not in an Authorization credential
        "\"\"",
        "\"   \"",
        "12345", // a number, not a string
        "true",
        "{\"a\":1}"
      })
  void accessToken_thatCannotGoInAHeader_isAMalformedAnswer(String json) {
    TokenResponse r = answer(200, "{\"access_token\":" + json + ",\"expires_in\":3600}", true);

    assertThat(r.tokenProblem("access_token", true)).isNotNull();
    TokenEndpointException e =
        catchThrowableOfType(
            TokenEndpointException.class, () -> r.requireToken("access_token", true));
    assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
    assertThat(e.reason()).startsWith("malformed token response: 'access_token'");
  }

  @Test
  void invalidUtf8InTheBody_becomesUfffd_andIsRefused() {
    server.enqueue(
        new MockResponse()
            .setBody(
                new Buffer()
                    .writeUtf8("{\"access_token\":\"ab")
                    .writeByte(0xC3) // a lone lead byte
                    .writeUtf8("cd\",\"expires_in\":3600}")));
    TokenResponse r = http.send(new Request.Builder().url(server.url("/t")).get().build(), false);

    assertThat(r.tokenProblem("access_token", true)).contains("outside printable ASCII");
  }

  @Test
  void refreshToken_mayHoldAnyPrintableAscii_accessTokenOnlyToken68() {
    TokenResponse r =
        answer(200, "{\"access_token\":\"a.b-c_d~e+f/g==\",\"refresh_token\":\"r t!{}\"}", true);

    assertThat(r.tokenProblem("access_token", true)).isNull();
    assertThat(r.tokenProblem("refresh_token", false)).isNull();
    assertThat(r.requireToken("access_token", true)).isEqualTo("a.b-c_d~e+f/g==");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"Bearer\\r\\n\"", "\"Bea rer\"", "\"\"", "7"})
  void tokenType_withCrLfSpaceOrNotAString_isMalformed(String json) {
    TokenResponse r = answer(200, "{\"access_token\":\"ok\",\"token_type\":" + json + "}", false);

    TokenEndpointException e =
        catchThrowableOfType(TokenEndpointException.class, () -> r.tokenType("token_type"));
    assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
  }

  // ---- 4. overflow ------------------------------------------------------------------------------

  @Test
  void expiresIn_beyondLong_isMalformed_notWrappedToAnHour() {
    TokenResponse r =
        answer(200, "{\"access_token\":\"ok\",\"expires_in\":18446744073709555216}", true);

    TokenEndpointException e =
        catchThrowableOfType(
            TokenEndpointException.class,
            () -> r.requireLifetime("expires_in", Duration.ofDays(1)));
    assertThat(e.reason()).contains("'expires_in' is out of range");
    assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"9999999999999999d", "99999999999999999999999s", "3651d", "PT99999999999999H"})
  void durationSetting_outOfRange_isAConfigurationErrorNamingTheSetting(String text) {
    Settings s = new Settings(ConnectionId.parse("fake:a"), Map.of("renew-before", text));

    assertThatThrownBy(() -> s.duration("renew-before", Duration.ofMinutes(5)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("setting 'renew-before'")
        .hasMessageNotContaining(text);
  }

  @Test
  void durationSetting_atTheBound_isAccepted() {
    assertThat(Settings.parseDuration("3650d")).isEqualTo(Settings.MAX_DURATION);
  }

  @Test
  void integerSetting_beyondInt_isOutOfRange() {
    Settings s = new Settings(null, Map.of("pool-size", "99999999999"));

    assertThatThrownBy(() -> s.integer("pool-size", 4))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("out of range");
  }

  // ---- 5. loopback by string prefix ----------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        "127.attacker.example",
        "127.0.0.1.attacker.example",
        "127.0.0.256",
        "localhost.attacker.example",
        "x.localhost",
        "::2",
        "[::ffff:10.0.0.1]"
      })
  void httpUrl_onAHostThatOnlyLooksLikeLoopback_isRefused(String host) {
    Settings s = new Settings(ConnectionId.parse("fake:a"), Map.of());

    assertThat(Settings.isLoopback(host)).isFalse();
    assertThatThrownBy(() -> s.checkedUrl("base-url", "http://" + host.replace("[", "[") + "/x"))
        .isInstanceOf(ConfigurationException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1"})
  void loopbackAddresses_areLoopback(String host) {
    assertThat(Settings.isLoopback(host)).isTrue();
  }

  @Test
  void httpRedirectUri_offLoopback_isRefused_onLoopbackAccepted() {
    Settings s = new Settings(ConnectionId.parse("fake:a"), Map.of());

    assertThatThrownBy(() -> s.redirectUri("redirect-uri", "http://127.attacker.example/cb"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("https");
    assertThat(s.redirectUri("redirect-uri", "http://127.0.0.1:8080/cb").port()).isEqualTo(8080);
  }

  // ---- 6. tokens in body()
  // -----------------------------------------------------------------------

  @Test
  void malformedSuccess_keepsNoBody_soACutOffRefreshTokenCannotSurvive() {
    TokenResponse r =
        answer(200, "{\"access_token\":\"AT-new\",\"refresh_token\":\"RT-new-cut", true);

    TokenEndpointException e = r.malformed("the answer is not a JSON object");

    assertThat(e.body()).isNull();
    assertThat(e.getMessage()).doesNotContain("RT-new", "AT-new");
  }

  // ---- 7. configuration errors quoted secrets
  // ----------------------------------------------------

  @Test
  void yamlSyntaxError_doesNotQuoteTheLineWithALiteralSecret() throws IOException {
    Path config =
        Files.writeString(
            dir.resolve("broker.yaml"),
            "apps:\n"
                + "  my-app:\n"
                + "    provider: fake\n"
                + "    client-secret: S3cr3t-Literal-Value: oops\n"
                + "connections:\n"
                + "  fake:a: { app: my-app }\n");

    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> ConfigFile.load(config, Map.of()));

    assertThat(e.getMessage()).contains("not valid YAML", "line 4").doesNotContain("S3cr3t");
  }

  @Test
  void anyConfigurationError_masksLiteralSecretValues() throws IOException {
    Path config =
        Files.writeString(
            dir.resolve("broker.yaml"),
            "connections:\n  fake:a:\n    client-secret: \"abc${not a var}S3cr3t\"\n");

    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> ConfigFile.load(config, Map.of()));

    assertThat(e.setting()).isEqualTo("client-secret");
    assertThat(e.getMessage()).doesNotContain("S3cr3t", "not a var");
  }

  @Test
  void literalSecrets_areListedForTheStartUpWarning_referencesAreNot() {
    Map<String, Object> tree =
        Map.of(
            "apps", Map.of("my-app", Map.of("client-secret", "literal", "client-id", "id")),
            "connections", Map.of("fake:a", Map.of("client-secret", "${SECRET}", "mall-id", "m")),
            "store", Map.of("password", "hunter2"));

    assertThat(ConfigFile.literalSecretSettings(tree))
        .containsExactlyInAnyOrder("apps.my-app.client-secret", "store.password");
  }

  @Test
  void propertiesFile_withABadUnicodeEscape_isAConfigurationError() throws IOException {
    Path config = Files.writeString(dir.resolve("broker.properties"), "store.type=memory\\u12\n");

    assertThatThrownBy(() -> ConfigFile.load(config, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not a valid properties file");
  }

  // ---- 10. connection ids
  // ------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mall\ud800", // an unpaired high surrogate
        "\udc00mall", // an unpaired low surrogate
        "mall\u202egnp.exe", // right-to-left override
        "mall\u2066x\u2069", // isolates
        "ma\u200bll", // zero-width space
        "ma\u200dll", // zero-width joiner
        "\ufeffmall", // byte order mark
        "mall\u00a0a", // no-break space
        "mall\ue000", // private use
        "mall\u0378" // unassigned
      })
  void accountKeys_withCharactersThatDisplayDeceptively_areRefused(String account) {
    assertThatThrownBy(() -> ConnectionId.of("cafe24", account))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("printable");
  }

  @ParameterizedTest
  @ValueSource(strings = {"mymall", "seller:12345", "상점-1", "a.b_c~d", "emoji\ud83d\ude00"})
  void printableAccountKeys_areAccepted(String account) {
    assertThat(ConnectionId.of("cafe24", account).account()).isEqualTo(account);
  }
}
