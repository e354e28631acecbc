package dev.tokenbroker.testkit.naver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverEmulator.SameTokenExpiresIn;
import dev.tokenbroker.testkit.naver.NaverEmulator.TimestampRejection;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.FormBody;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NaverEmulatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT = "emuClient";
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

  /** An answer, read in full. */
  private static final class Answer {
    final int status;
    final Headers headers;
    final JsonNode json;

    Answer(int status, Headers headers, JsonNode json) {
      this.status = status;
      this.headers = headers;
      this.json = json;
    }

    String text(String field) {
      return json.path(field).asText(null);
    }

    List<String> invalidNames() {
      List<String> names = new ArrayList<>();
      json.path("invalidInputs").forEach(i -> names.add(i.path("name").asText()));
      return names;
    }
  }

  private Map<String, String> signedFields(long timestamp) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("client_id", CLIENT);
    f.put("timestamp", Long.toString(timestamp));
    f.put("grant_type", "client_credentials");
    f.put("client_secret_sign", NaverEmulator.signature(CLIENT, Long.toString(timestamp), SECRET));
    f.put("type", "SELF");
    return f;
  }

  private Map<String, String> signedFields() {
    return signedFields(clock.millis() - 3000);
  }

  private Answer post(Map<String, String> fields) throws IOException {
    FormBody.Builder form = new FormBody.Builder();
    fields.forEach(form::add);
    return call(
        new Request.Builder().url(naver.url(NaverEmulator.TOKEN_PATH)).post(form.build()).build());
  }

  private Answer account(String token) throws IOException {
    return call(
        new Request.Builder()
            .url(naver.url(NaverEmulator.ACCOUNT_PATH))
            .header("Authorization", "Bearer " + token)
            .build());
  }

  private Answer call(Request request) throws IOException {
    try (Response r = http.newCall(request).execute()) {
      return new Answer(r.code(), r.headers(), JSON.readTree(r.body().string()));
    }
  }

  private String token() throws IOException {
    Answer a = post(signedFields());
    assertThat(a.status).as("token answer %s", a.json).isEqualTo(200);
    return a.text("access_token");
  }

  @Test
  void signedRequest_getsThreeHourBearerToken_withDateAndTraceHeaders() throws IOException {
    Answer a = post(signedFields());

    assertThat(a.status).isEqualTo(200);
    assertThat(a.text("access_token")).isNotBlank();
    assertThat(a.json.path("expires_in").asLong()).isEqualTo(10800);
    assertThat(a.text("token_type")).isEqualTo("Bearer");
    assertThat(a.headers.getDate("Date").toInstant()).isEqualTo(clock.instant());
    assertThat(a.headers.get(NaverEmulator.TRACE_HEADER)).isNotBlank();
    assertThat(naver.tokenRequests()).isEqualTo(1);
    assertThat(naver.issuedTokens()).isEqualTo(1);
    assertThat(naver.isValid(a.text("access_token"))).isTrue();
  }

  @Test
  void documentedTestVector_isAccepted() throws IOException {
    // PROTOCOLS.md's vector: the emulator must agree with the platform on the signature.
    naver.registerApplication("aaaabbbbcccc", "$2a$10$abcdefghijklmnopqrstuv");
    clock.set(Instant.ofEpochMilli(1643956077762L));
    Map<String, String> f = new LinkedHashMap<>();
    f.put("client_id", "aaaabbbbcccc");
    f.put("timestamp", "1643956077762");
    f.put("grant_type", "client_credentials");
    f.put(
        "client_secret_sign",
        "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVLOTA1cGVVSGZCaUhFaE5aMWJ6WHhCS25VbHhDYjlt");
    f.put("type", "SELF");

    assertThat(post(f).status).isEqualTo(200);
    assertThat(naver.badSignatures()).isZero();
  }

  @Test
  void wrongSignature_isRefusedWithInvalidInput_andCounted() throws IOException {
    Map<String, String> f = signedFields();
    f.put("client_secret_sign", NaverEmulator.signature(CLIENT, "1", SECRET));

    Answer a = post(f);

    assertThat(a.status).isEqualTo(400);
    assertThat(a.text("code")).isEqualTo("BadRequest");
    assertThat(a.invalidNames()).containsExactly("client_secret_sign");
    assertThat(a.text("timestamp")).isNotBlank();
    assertThat(naver.badSignatures()).isEqualTo(1);
    assertThat(naver.issuedTokens()).isZero();
  }

  @Test
  void reissuedSecret_breaksSignaturesMadeWithTheOldOne() throws IOException {
    naver.registerApplication(CLIENT, "$2a$04$zyxwvutsrqponmlkjihgfe");

    assertThat(post(signedFields()).invalidNames()).containsExactly("client_secret_sign");
  }

  @Test
  void timestampExactlyFiveMinutesOld_isAccepted_oneMillisecondOlder_isRefused()
      throws IOException {
    long now = clock.millis();

    assertThat(post(signedFields(now - Duration.ofMinutes(5).toMillis())).status).isEqualTo(200);
    Answer late = post(signedFields(now - Duration.ofMinutes(5).toMillis() - 1));

    assertThat(late.status).isEqualTo(400);
    assertThat(late.invalidNames()).containsExactly("timestamp");
    assertThat(naver.timestampRejections()).isEqualTo(1);
  }

  @Test
  void futureTimestamp_isRefusedBeyondTheTolerance_unlessSwitchedOff() throws IOException {
    long now = clock.millis();

    assertThat(post(signedFields(now + 1000)).status).isEqualTo(200);
    assertThat(post(signedFields(now + 1001)).status).isEqualTo(400);

    naver.rejectFutureTimestamps(false);
    assertThat(post(signedFields(now + Duration.ofHours(1).toMillis())).status).isEqualTo(200);
  }

  @Test
  void forbiddenMessageShape_namesTheTimestampInTheMessageOnly() throws IOException {
    naver.timestampRejection(TimestampRejection.FORBIDDEN_MESSAGE);

    Answer a = post(signedFields(clock.millis() - Duration.ofMinutes(6).toMillis()));

    assertThat(a.status).isEqualTo(403);
    assertThat(a.text("code")).isEqualTo("Forbidden");
    assertThat(a.text("message")).contains("timestamp");
    assertThat(a.json.has("invalidInputs")).isFalse();
  }

  @Test
  void serverClockSkew_movesTheDateHeaderAndTheWindow() throws IOException {
    naver.serverClockSkew(Duration.ofMinutes(6));

    Answer a = post(signedFields());

    assertThat(a.status).isEqualTo(400);
    assertThat(a.invalidNames()).containsExactly("timestamp");
    assertThat(a.headers.getDate("Date").toInstant())
        .isEqualTo(clock.instant().plus(Duration.ofMinutes(6)));
    assertThat(post(signedFields(naver.serverTime().toEpochMilli() - 3000)).status).isEqualTo(200);
  }

  @Test
  void sameTokenWhileThirtyMinutesRemain_newOneOneMillisecondLater() throws IOException {
    String first = token();
    clock.advance(Duration.ofHours(2).plusMinutes(30)); // exactly 30 minutes left

    Answer same = post(signedFields());
    assertThat(same.text("access_token")).isEqualTo(first);
    assertThat(same.json.path("expires_in").asLong()).isEqualTo(10800);

    clock.advance(Duration.ofMillis(1));
    String second = token();
    assertThat(second).isNotEqualTo(first);
    assertThat(naver.issuedTokens()).isEqualTo(2);
    assertThat(naver.currentToken(CLIENT, "SELF", null)).isEqualTo(second);
  }

  @Test
  void remainingTimeMode_reportsTheSecondsLeft() throws IOException {
    naver.sameTokenExpiresIn(SameTokenExpiresIn.REMAINING_TIME);
    String first = token();
    clock.advance(Duration.ofHours(1));

    Answer a = post(signedFields());

    assertThat(a.text("access_token")).isEqualTo(first);
    assertThat(a.json.path("expires_in").asLong()).isEqualTo(7200);
  }

  @Test
  void oldTokenKeepsWorkingUntilItExpires() throws IOException {
    String first = token();
    clock.advance(Duration.ofHours(2).plusMinutes(45));
    String second = token();

    assertThat(account(first).status).isEqualTo(200);
    assertThat(account(second).status).isEqualTo(200);

    clock.advance(Duration.ofMinutes(15)); // first is exactly 3 hours old
    Answer expired = account(first);
    assertThat(expired.status).isEqualTo(401);
    assertThat(expired.text("code")).isEqualTo("GW.AUTHN");
    assertThat(account(second).status).isEqualTo(200);
    assertThat(naver.rejectedApiRequests()).isEqualTo(1);
  }

  @Test
  void apiWithoutValidToken_answersGatewayAuthnShape() throws IOException {
    Answer a = account("not-a-token");

    assertThat(a.status).isEqualTo(401);
    assertThat(a.text("code")).isEqualTo("GW.AUTHN");
    assertThat(a.text("message")).isNotBlank();
    assertThat(a.text("timestamp")).isNotBlank();
    assertThat(a.text("traceId")).isEqualTo(a.headers.get(NaverEmulator.TRACE_HEADER));
  }

  @Test
  void ipNotAllowed_refusesTokenAndApiCallsAlike() throws IOException {
    String token = token();
    naver.ipAllowed(false);

    Answer t = post(signedFields());
    Answer api = account(token);

    for (Answer a : List.of(t, api)) {
      assertThat(a.status).isEqualTo(403);
      assertThat(a.text("code")).isEqualTo("GW.IP_NOT_ALLOWED");
      assertThat(a.text("traceId")).isEqualTo(a.headers.get(NaverEmulator.TRACE_HEADER));
    }
  }

  @Test
  void missingAndWrongFields_areListedByName() throws IOException {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("client_id", CLIENT);
    f.put("grant_type", "password");
    f.put("type", "ALL");

    Answer a = post(f);

    assertThat(a.status).isEqualTo(400);
    assertThat(a.invalidNames())
        .containsExactly("timestamp", "client_secret_sign", "grant_type", "type");
  }

  @Test
  void unknownClient_isRefused() throws IOException {
    Map<String, String> f = signedFields();
    f.put("client_id", "someoneElse");

    assertThat(post(f).invalidNames()).containsExactly("client_id");
  }

  @Test
  void seller_needsAccountId_andALink_andHasItsOwnToken() throws IOException {
    long ts = clock.millis() - 3000;
    Map<String, String> f = signedFields(ts);
    f.put("type", "SELLER");
    assertThat(post(f).invalidNames()).containsExactly("account_id");

    f.put("account_id", "seller-1");
    Answer unlinked = post(f);
    assertThat(unlinked.status).isEqualTo(403);
    assertThat(unlinked.text("code")).isEqualTo("Forbidden");

    naver.linkSeller(CLIENT, "seller-1");
    Answer seller = post(f);
    assertThat(seller.status).isEqualTo(200);
    String self = token();
    assertThat(seller.text("access_token")).isNotEqualTo(self);
    assertThat(account(seller.text("access_token")).text("accountId")).isEqualTo("seller-1");
    assertThat(naver.currentToken(CLIENT, "SELLER", "seller-1"))
        .isEqualTo(seller.text("access_token"));
  }

  @Test
  void queryStringFields_workLikeTheRealEndpoint_unlessSwitchedOff() throws IOException {
    HttpUrl.Builder url = naver.url(NaverEmulator.TOKEN_PATH).newBuilder();
    signedFields().forEach(url::addQueryParameter);
    Request request =
        new Request.Builder()
            .url(url.build())
            .post(
                RequestBody.create(new byte[0], MediaType.get("application/x-www-form-urlencoded")))
            .build();

    assertThat(call(request).status).isEqualTo(200);
    naver.acceptQueryParameters(false);
    assertThat(call(request).status).isEqualTo(400);
  }

  @Test
  void gatewayErrorFault_hasTheGatewayShape() throws IOException {
    naver.inject(NaverEmulator.TOKEN_PATH, naver.gatewayError(429, "GW.RATE_LIMIT"));

    Answer a = post(signedFields());

    assertThat(a.status).isEqualTo(429);
    assertThat(a.text("code")).isEqualTo("GW.RATE_LIMIT");
    assertThat(a.text("traceId")).isNotBlank();
    assertThat(naver.tokenRequests()).as("a fault bypasses the logic").isZero();
    assertThat(post(signedFields()).status).isEqualTo(200);
  }

  @Test
  void invalidateAllTokens_makesTheApiRefuseThem() throws IOException {
    String token = token();
    naver.invalidateAllTokens();

    assertThat(account(token).status).isEqualTo(401);
    assertThat(token()).isNotEqualTo(token);
  }

  @Test
  void registerApplication_rejectsSecretsThatAreNotA2aSalt() {
    assertThatThrownBy(() -> naver.registerApplication("x", "$2b$04$abcdefghijklmnopqrstuv"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> naver.registerApplication("x", "$2a$04$abc"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void concurrentRequestsForOneResource_getOneToken() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<String>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(this::token);
      }
      Set<String> tokens = new java.util.HashSet<>();
      for (Future<String> f : pool.invokeAll(calls)) {
        tokens.add(f.get());
      }
      assertThat(tokens).hasSize(1);
      assertThat(naver.issuedTokens()).isEqualTo(1);
      assertThat(naver.tokenRequests()).isEqualTo(8);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void recordsTheRequestsItReceives() throws IOException {
    token();

    RecordedRequest r = naver.lastRequest(NaverEmulator.TOKEN_PATH);
    assertThat(r).isNotNull();
    assertThat(r.getMethod()).isEqualTo("POST");
    assertThat(NaverEmulator.form(r)).containsEntry("client_id", CLIENT);
  }
}
