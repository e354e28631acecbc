package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InterceptorAndAuthorizationTest {
  private final MockWebServer api = new MockWebServer();
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");

  @AfterEach
  void stop() throws IOException {
    api.shutdown();
  }

  private TokenBroker broker() {
    return TokenBroker.builder().clock(clock).store(store).connection(id, provider).build();
  }

  private Response get(OkHttpClient client) throws IOException {
    return client.newCall(new Request.Builder().url(api.url("/api/products")).build()).execute();
  }

  @Test
  void rejectedToken_isRenewedOnceAndTheRequestReplayedOnce() throws Exception {
    store.put(id, provider.seed());
    try (TokenBroker broker = broker()) {
      OkHttpClient client =
          new OkHttpClient.Builder().addInterceptor(broker.interceptor(id)).build();
      api.enqueue(new MockResponse().setResponseCode(401));
      api.enqueue(new MockResponse().setBody("ok"));
      try (Response r = get(client)) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(api.takeRequest().getHeader("Authorization")).isEqualTo("Bearer access-1");
      assertThat(api.takeRequest().getHeader("Authorization")).isEqualTo("Bearer access-2");
      assertThat(provider.calls).hasValue(1);
    }
  }

  @Test
  void secondRejection_isReturnedToTheCaller_notLooped() throws Exception {
    store.put(id, provider.seed());
    try (TokenBroker broker = broker()) {
      OkHttpClient client =
          new OkHttpClient.Builder().addInterceptor(broker.interceptor(id)).build();
      api.enqueue(new MockResponse().setResponseCode(401));
      api.enqueue(new MockResponse().setResponseCode(401));
      api.enqueue(new MockResponse().setBody("never reached"));
      try (Response r = get(client)) {
        assertThat(r.code()).isEqualTo(401);
      }
      assertThat(api.getRequestCount()).isEqualTo(2);
      assertThat(provider.calls).hasValue(1);
    }
  }

  @Test
  void rejectionOfAnOlderToken_doesNotInvalidateTheCurrentOne() throws Exception {
    store.put(id, provider.seed());
    try (TokenBroker broker = broker()) {
      String old = broker.accessToken(id);
      broker.refresh(id); // someone renewed meanwhile: access-2 is current
      CachedToken stale =
          new CachedToken(store.load(id).toBuilder().accessToken(old).build(), provider.policy);
      // a rejection of the old token returns the current one without renewing again
      assertThat(broker.renewAfterRejection(broker.connection(id), stale).accessToken())
          .isEqualTo("access-2");
      assertThat(provider.calls).hasValue(1);
    }
  }

  @Test
  void connectionDeadVerdict_marksReauthorizationRequired() throws Exception {
    store.put(id, provider.seed());
    TokenProvider uninstalled =
        new ForwardingProvider(provider) {
          @Override
          public ApiVerdict classifyApiResponse(Response response) {
            return response.code() == 403
                ? ApiVerdict.connectionDead("app uninstalled from the mall", "403")
                : ApiVerdict.ok();
          }
        };
    try (TokenBroker broker =
        TokenBroker.builder().clock(clock).store(store).connection(id, uninstalled).build()) {
      OkHttpClient client =
          new OkHttpClient.Builder().addInterceptor(broker.interceptor(id)).build();
      api.enqueue(new MockResponse().setResponseCode(403));
      try (Response r = get(client)) {
        assertThat(r.code()).isEqualTo(403);
      }
      assertThat(broker.health(id).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
      assertThat(broker.health(id).reason()).isEqualTo("app uninstalled from the mall");
      assertThatThrownBy(() -> get(client))
          .isInstanceOf(TokenUnavailableIOException.class)
          .hasCauseInstanceOf(ReauthorizationRequiredException.class);
    }
  }

  @Test
  void authorization_usesS256Pkce_checksStateBeforeExchanging_andSavesTheFirstSet()
      throws Exception {
    try (TokenBroker broker = broker()) {
      AuthorizationRequest request = broker.startAuthorization(id);
      HttpUrl url = HttpUrl.get(request.url().toString());
      String expected =
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  MessageDigest.getInstance("SHA-256")
                      .digest(request.codeVerifier().getBytes(StandardCharsets.US_ASCII)));
      assertThat(url.queryParameter("code_challenge")).isEqualTo(expected);
      assertThat(request.state()).hasSizeGreaterThanOrEqualTo(40);
      assertThat(request.toString())
          .doesNotContain(request.state())
          .doesNotContain(request.codeVerifier());

      assertThatThrownBy(
              () -> broker.completeAuthorization(id, "http://localhost/cb?code=c&state=forged"))
          .isInstanceOf(AuthorizationException.class)
          .hasMessageContaining("unknown state");
      assertThatThrownBy(
              () ->
                  broker.completeAuthorization(
                      id,
                      "http://localhost/cb?error=access_denied&error_description=User%20denied"))
          .isInstanceOfSatisfying(
              AuthorizationException.class, e -> assertThat(e.error()).isEqualTo("access_denied"));
      assertThat(provider.exchanges).hasValue(0);

      TokenSet first = broker.completeAuthorization(id, "code=c&state=" + request.state());
      assertThat(provider.exchanges).hasValue(1);
      assertThat(store.load(id).accessToken()).isEqualTo(first.accessToken());
      assertThat(broker.accessToken(id)).isEqualTo(first.accessToken());
      assertThat(broker.health(id).state()).isEqualTo(Health.State.ACTIVE);
      // the state is single-use
      assertThatThrownBy(() -> broker.completeAuthorization(id, "code=c2&state=" + request.state()))
          .isInstanceOf(AuthorizationException.class);
    }
  }

  @Test
  void authorization_startedTooLongAgo_isRejected() {
    try (TokenBroker broker = broker()) {
      AuthorizationRequest request = broker.startAuthorization(id);
      clock.advance(Duration.ofMinutes(16));
      assertThatThrownBy(() -> broker.completeAuthorization(id, "code=c&state=" + request.state()))
          .isInstanceOf(AuthorizationException.class)
          .hasMessageContaining("expired after 15 minutes");
      assertThat(provider.exchanges).hasValue(0);
    }
  }

  @Test
  void interceptorAddsTheBearerHeader_onTheHappyPath() throws Exception {
    store.put(id, provider.seed());
    try (TokenBroker broker = broker()) {
      OkHttpClient client =
          new OkHttpClient.Builder().addInterceptor(broker.interceptor(id)).build();
      api.enqueue(new MockResponse().setBody("ok"));
      try (Response r = get(client)) {
        assertThat(r.code()).isEqualTo(200);
      }
      RecordedRequest sent = api.takeRequest();
      assertThat(sent.getHeader("Authorization")).isEqualTo("Bearer access-1");
      assertThat(provider.calls).hasValue(0);
    }
  }
}
