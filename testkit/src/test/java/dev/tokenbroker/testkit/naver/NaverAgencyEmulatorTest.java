package dev.tokenbroker.testkit.naver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.testkit.FakeClock;
import java.io.IOException;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NaverAgencyEmulatorTest {
  private static final String SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  private final FakeClock clock = FakeClock.create();
  private final OkHttpClient http = new OkHttpClient();
  private NaverEmulator naver;

  @BeforeEach
  void start() {
    naver =
        new NaverEmulator(clock)
            .registerAgencyApplication("agency", SECRET)
            .linkSeller("agency", "s1")
            .registerApplication("plain", SECRET)
            .start();
  }

  @AfterEach
  void stop() {
    naver.close();
  }

  private Response token(String path, String client, String type, String account)
      throws IOException {
    String ts = Long.toString(clock.millis());
    FormBody.Builder form =
        new FormBody.Builder()
            .add("client_id", client)
            .add("timestamp", ts)
            .add("grant_type", "client_credentials")
            .add("client_secret_sign", NaverEmulator.signature(client, ts, SECRET))
            .add("type", type);
    if (account != null) {
      form.add("account_id", account);
    }
    return http.newCall(new Request.Builder().url(naver.url(path)).post(form.build()).build())
        .execute();
  }

  @Test
  void agency_atPartner_getsASellerToken() throws IOException {
    try (Response r = token(NaverEmulator.PARTNER_TOKEN_PATH, "agency", "SELLER", "s1")) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(naver.currentToken("agency", "SELLER", "s1")).isNotNull();
  }

  @Test
  void agency_selfType_isAnInvalidInput() throws IOException {
    try (Response r = token(NaverEmulator.PARTNER_TOKEN_PATH, "agency", "SELF", null)) {
      assertThat(r.code()).isEqualTo(400);
      assertThat(r.body().string()).contains("\"name\":\"type\"");
    }
  }

  @Test
  void strictPaths_refuseEachKindAtTheOthersPrefix_lenientAcceptsBoth() throws IOException {
    try (Response r = token(NaverEmulator.TOKEN_PATH, "agency", "SELLER", "s1")) {
      assertThat(r.code()).isEqualTo(403);
    }
    try (Response r = token(NaverEmulator.PARTNER_TOKEN_PATH, "plain", "SELF", null)) {
      assertThat(r.code()).isEqualTo(403);
    }
    naver.enforceAgencyPaths(false);
    try (Response r = token(NaverEmulator.TOKEN_PATH, "agency", "SELLER", "s1")) {
      assertThat(r.code()).isEqualTo(200);
    }
    try (Response r = token(NaverEmulator.PARTNER_TOKEN_PATH, "plain", "SELF", null)) {
      assertThat(r.code()).isEqualTo(200);
    }
  }
}
