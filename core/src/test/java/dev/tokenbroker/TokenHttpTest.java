package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenResponse;
import java.io.IOException;
import java.time.Duration;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TokenHttpTest {
  private final MockWebServer server = new MockWebServer();
  private final MutableClock clock = new MutableClock();
  // The OkHttp default: retryOnConnectionFailure(true). TokenHttp must override it.
  private final TokenHttp http = new TokenHttp(new OkHttpClient(), clock, "fake");

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  private Request refreshRequest() {
    return new Request.Builder()
        .url(server.url("/oauth/token"))
        .post(
            new FormBody.Builder()
                .add("grant_type", "refresh_token")
                .add("refresh_token", "RT-secret-1")
                .build())
        .build();
  }

  @Test
  void refreshWhoseAnswerIsLost_isSentOnce_andReportedAsOutcomeUnknown() throws Exception {
    // Warm a pooled connection, then process a POST and drop the connection without answering:
    // OkHttp's default client would silently send the same POST again on the pooled connection.
    server.enqueue(new MockResponse().setBody("{}"));
    server.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST));
    server.enqueue(
        new MockResponse().setBody("{\"error\":\"invalid_grant\"}").setResponseCode(400));
    http.send(refreshRequest(), true);
    assertThatThrownBy(() -> http.send(refreshRequest(), true, "RT-secret-1"))
        .isInstanceOfSatisfying(
            TokenEndpointException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.OUTCOME_UNKNOWN);
              assertThat(e.getMessage())
                  .contains("may have been processed")
                  .doesNotContain("RT-secret-1");
            });
    assertThat(server.getRequestCount()).isEqualTo(2); // not 3: nothing was re-sent
  }

  @Test
  void lostAnswerOfANonRotatingRequest_isTransient() {
    server.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST));
    assertThatThrownBy(() -> http.send(refreshRequest(), false))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TRANSIENT));
  }

  @Test
  void unreachableHost_isTransientEvenForARefresh() throws IOException {
    server.start();
    Request r = refreshRequest();
    server.shutdown();
    assertThatThrownBy(() -> http.send(r, true))
        .isInstanceOfSatisfying(
            TokenEndpointException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TRANSIENT));
  }

  @Test
  void standardErrors_areClassifiedAndScrubbed() {
    server.enqueue(
        new MockResponse().setResponseCode(502).setBody("<html><h1>Bad Gateway</h1></html>"));
    server.enqueue(
        new MockResponse()
            .setResponseCode(400)
            .setBody(
                "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid refresh_token RT-secret-1\"}"));
    server.enqueue(
        new MockResponse().setResponseCode(401).setBody("{\"error\":\"invalid_client\"}"));
    server.enqueue(
        new MockResponse().setResponseCode(429).setHeader("Retry-After", "7").setBody("{}"));
    server.enqueue(new MockResponse().setResponseCode(200).setBody("<html>maintenance</html>"));

    TokenEndpointException html = http.send(refreshRequest(), true).standardError();
    assertThat(html.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(html.httpStatus()).isEqualTo(502);

    TokenEndpointException grant = http.send(refreshRequest(), true, "RT-secret-1").standardError();
    assertThat(grant.kind()).isEqualTo(Kind.PERMANENT);
    assertThat(grant.error()).isEqualTo("invalid_grant");
    assertThat(grant.getMessage()).doesNotContain("RT-secret-1");
    assertThat(grant.body()).doesNotContain("RT-secret-1");

    assertThat(http.send(refreshRequest(), true).standardError().reason())
        .isEqualTo("client credentials rejected");

    TokenEndpointException limited = http.send(refreshRequest(), false).standardError();
    assertThat(limited.kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(limited.retryAfter()).isEqualTo(Duration.ofSeconds(7));

    TokenResponse okButHtml = http.send(refreshRequest(), true);
    assertThat(okButHtml.json()).isNull();
    TokenEndpointException malformed = okButHtml.malformed("not JSON");
    assertThat(malformed.kind())
        .isEqualTo(Kind.OUTCOME_UNKNOWN); // a rotating call may have rotated
  }

  @Test
  void standardErrors_serverSideCodesWithA400_areTransient() {
    server.enqueue(
        new MockResponse().setResponseCode(400).setBody("{\"error\":\"temporarily_unavailable\"}"));
    server.enqueue(new MockResponse().setResponseCode(400).setBody("{\"error\":\"server_error\"}"));

    for (String error : new String[] {"temporarily_unavailable", "server_error"}) {
      TokenEndpointException e = http.send(refreshRequest(), true).standardError();
      assertThat(e.kind()).as(error).isEqualTo(Kind.TRANSIENT);
      assertThat(e.error()).isEqualTo(error);
      assertThat(e.httpStatus()).isEqualTo(400);
    }
  }

  @Test
  void responseHelpers_acceptNumericStrings_rejectAbsurdLifetimes() {
    server.enqueue(
        new MockResponse().setBody("{\"expires_in\":\"3600\",\"bad\":-5,\"huge\":999999999999}"));
    TokenResponse r = http.send(refreshRequest(), false);
    assertThat(r.requireLifetime("expires_in", Duration.ofDays(1))).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> r.requireLifetime("bad", Duration.ofDays(1)))
        .hasMessageContaining("outside");
    assertThatThrownBy(() -> r.requireLifetime("huge", Duration.ofDays(1)))
        .hasMessageContaining("outside");
    assertThatThrownBy(() -> r.requireText("access_token"))
        .hasMessageContaining("no 'access_token'");
  }
}
