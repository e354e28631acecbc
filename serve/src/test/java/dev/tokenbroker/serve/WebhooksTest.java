package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks to a loopback receiver: signed, retried, never carrying a token, and sent once per state
 * change by two {@code serve} instances sharing one file store.
 */
class WebhooksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HOOK_SECRET = "webhook-hmac-key-0123456789";

  @TempDir Path dir;
  private Fixture fx;
  private MockWebServer receiver;
  private final List<TokenService> services = new ArrayList<>();
  private final List<TokenStore> stores = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    fx = new Fixture(dir);
    receiver = new MockWebServer();
    receiver.start(java.net.InetAddress.getLoopbackAddress(), 0);
  }

  @AfterEach
  void stop() throws IOException {
    for (TokenService s : services) {
      s.close();
    }
    for (TokenStore s : stores) {
      s.close();
    }
    receiver.shutdown();
    fx.close();
  }

  /** A file store on the shared directory, opened as another process would open it. */
  private TokenStore fileStore() {
    TokenStore s = FileTokenStore.builder(dir.resolve("tokens")).clock(fx.clock).build();
    stores.add(s);
    return s;
  }

  private TokenService serve(String name, TokenStore store) throws IOException {
    Path secret = dir.resolve("hook.secret");
    if (!Files.exists(secret)) {
      fx.secret("hook.secret", HOOK_SECRET);
    }
    ServeConfig config =
        ServeConfig.builder()
            .socket(dir.resolve(name).resolve("tb.sock"))
            .webhook(URI.create(receiver.url("/hook").toString()), secret)
            .build();
    TokenService s =
        TokenService.builder(config)
            .clock(fx.clock)
            .instanceId(name)
            .webhookRetries(Duration.ofMillis(10), Duration.ofMillis(50), 4)
            .start(fx.broker(store));
    services.add(s);
    return s;
  }

  private static RawHttp.Reply token(TokenService s) throws IOException {
    return RawHttp.unix(s.socketPath(), "GET", "/v1/connections/oauth2-test:shop/token");
  }

  private RecordedRequest nextHook() throws InterruptedException {
    RecordedRequest r = receiver.takeRequest(10, TimeUnit.SECONDS);
    assertThat(r).as("a webhook within 10 s").isNotNull();
    return r;
  }

  /** Closes every service: their webhook queues are drained, so counts are final. */
  private void closeAll() {
    for (TokenService s : services) {
      s.close();
    }
  }

  private static String hmac(String timestamp, String body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(HOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of()
        .formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
  }

  private void killRefreshToken(TokenStore store) {
    fx.emulator.revokeRefreshToken(store.load(SHOP).refreshToken());
    fx.clock.advance(Duration.ofHours(2));
  }

  /** Completes a new authorization through {@code broker}, as the callback of a person would. */
  private TokenSet reconnect(TokenBroker broker) throws IOException {
    AuthorizationRequest request = broker.startAuthorization(SHOP);
    OkHttpClient browser = Fixture.HTTP.newBuilder().followRedirects(false).build();
    try (Response r =
        browser.newCall(new Request.Builder().url(request.url().toString()).build()).execute()) {
      TokenSet set = broker.completeAuthorization(SHOP, r.header("Location"));
      fx.tokens.add(set.accessToken());
      fx.tokens.add(set.refreshToken());
      return set;
    }
  }

  @Test
  void reauthorizationRequired_sendsOneSignedWebhook_withReason_andNoToken() throws Exception {
    receiver.enqueue(new MockResponse().setResponseCode(204));
    TokenStore store = fileStore();
    fx.seed(store, SHOP);
    TokenService s = serve("a", store);
    killRefreshToken(store);

    assertThat(token(s).status()).isEqualTo(409);

    RecordedRequest hook = nextHook();
    String body = hook.getBody().readUtf8();
    String timestamp = hook.getHeader("X-Tokenbroker-Timestamp");
    assertThat(hook.getMethod()).isEqualTo("POST");
    assertThat(hook.getPath()).isEqualTo("/hook");
    assertThat(hook.getHeader("X-Tokenbroker-Event")).isEqualTo("reauthorization-required");
    assertThat(timestamp).isEqualTo(Long.toString(fx.clock.instant().getEpochSecond()));
    assertThat(hook.getHeader("X-Tokenbroker-Signature"))
        .isEqualTo("sha256=" + hmac(timestamp, body));
    JsonNode json = JSON.readTree(body);
    assertThat(json.get("type").asText()).isEqualTo("reauthorization-required");
    assertThat(json.get("connection").asText()).isEqualTo("oauth2-test:shop");
    assertThat(json.get("reason").asText()).isEqualTo("refresh-token-rejected");
    assertThat(json.get("delivery").asText()).isEqualTo(hook.getHeader("X-Tokenbroker-Delivery"));
    for (String t : fx.tokens) {
      assertThat(body).doesNotContain(t);
    }

    assertThat(token(s).status()).isEqualTo(409); // asked again: same state, no new webhook
    closeAll();
    assertThat(receiver.getRequestCount()).isEqualTo(1);
  }

  @Test
  void failedDelivery_isRetriedWithBackoff_underTheSameDeliveryId() throws Exception {
    receiver.enqueue(new MockResponse().setResponseCode(503));
    receiver.enqueue(new MockResponse().setResponseCode(500));
    receiver.enqueue(new MockResponse().setResponseCode(200));
    TokenStore store = fileStore();
    fx.seed(store, SHOP);
    TokenService s = serve("a", store);
    killRefreshToken(store);

    token(s);
    RecordedRequest first = nextHook();
    RecordedRequest second = nextHook();
    RecordedRequest third = nextHook();
    closeAll();

    assertThat(receiver.getRequestCount()).isEqualTo(3);
    String id = first.getHeader("X-Tokenbroker-Delivery");
    assertThat(second.getHeader("X-Tokenbroker-Delivery")).isEqualTo(id);
    assertThat(third.getHeader("X-Tokenbroker-Delivery")).isEqualTo(id);
    assertThat(s.webhooks().delivered()).isEqualTo(1);
    assertThat(s.webhooks().failed()).isZero();
  }

  @Test
  void rejectedDelivery_4xx_isNotRetried() throws Exception {
    receiver.enqueue(new MockResponse().setResponseCode(401));
    TokenStore store = fileStore();
    fx.seed(store, SHOP);
    TokenService s = serve("a", store);
    killRefreshToken(store);

    token(s);
    nextHook();
    closeAll();

    assertThat(receiver.getRequestCount()).isEqualTo(1);
    assertThat(s.webhooks().failed()).isEqualTo(1);
  }

  @Test
  void backoff_doublesUpToTheCap() {
    Webhooks w =
        new Webhooks(
            fx.clock,
            List.of(),
            Fixture.HTTP,
            Duration.ofSeconds(1),
            Duration.ofMinutes(5),
            8,
            "t");
    try {
      assertThat(List.of(w.backoff(1), w.backoff(2), w.backoff(3), w.backoff(9), w.backoff(40)))
          .containsExactly(1000L, 2000L, 4000L, 256_000L, 300_000L);
    } finally {
      w.close();
    }
  }

  @Test
  void twoInstancesOnOneStore_renewOnce_andSendOneWebhookPerStateChange() throws Exception {
    for (int i = 0; i < 4; i++) {
      receiver.enqueue(new MockResponse().setResponseCode(200));
    }
    TokenStore storeA = fileStore();
    TokenStore storeB = fileStore();
    fx.seed(storeA, SHOP);
    TokenService a = serve("a", storeA);
    TokenService b = serve("b", storeB);

    // 1. An expiry: callers on both instances at once cause one refresh.
    fx.clock.advance(Duration.ofHours(2));
    CountDownLatch go = new CountDownLatch(1);
    List<Integer> statuses = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      TokenService target = i % 2 == 0 ? a : b;
      Thread t =
          new Thread(
              () -> {
                try {
                  go.await();
                  statuses.add(token(target).status());
                } catch (Exception e) {
                  statuses.add(-1);
                }
              });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(30_000);
    }
    assertThat(statuses).hasSize(8).containsOnly(200);
    assertThat(fx.emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(1);
    fx.tokens.add(storeA.load(SHOP).accessToken());
    fx.tokens.add(storeA.load(SHOP).refreshToken());

    // 2. The refresh token dies: both instances are asked; one verdict, one webhook.
    killRefreshToken(storeA);
    assertThat(token(a).status()).isEqualTo(409);
    assertThat(token(b).status()).isEqualTo(409);
    assertThat(fx.emulator.invalidGrantAnswers()).isEqualTo(1);
    RecordedRequest verdict = nextHook();
    assertThat(verdict.getHeader("X-Tokenbroker-Event")).isEqualTo("reauthorization-required");

    // 3. Both read the shared health; a person reconnects through b: one "recovered" webhook.
    a.watchHealth();
    b.watchHealth();
    assertThat(b.webhooks().knownNeedingPerson()).contains(SHOP);
    reconnect(b.broker());
    RecordedRequest recovered = nextHook();
    assertThat(recovered.getHeader("X-Tokenbroker-Event")).isEqualTo("recovered");
    JsonNode json = JSON.readTree(recovered.getBody().readUtf8());
    assertThat(json.get("connection").asText()).isEqualTo("oauth2-test:shop");
    assertThat(json.get("previous_reason").asText()).isEqualTo("refresh-token-rejected");
    assertThat(json.get("instance").asText()).isEqualTo("b");

    // a learns of it from the shared health and sends nothing.
    a.watchHealth();
    assertThat(a.webhooks().knownNeedingPerson()).doesNotContain(SHOP);
    assertThat(token(a).status()).isEqualTo(200);
    closeAll();
    assertThat(receiver.getRequestCount()).isEqualTo(2);
    assertThat(a.webhooks().delivered() + b.webhooks().delivered()).isEqualTo(2);
  }

  @Test
  void logs_ofWebhookRuns_holdNoTokenAndNoWebhookSecret() throws Exception {
    receiver.enqueue(new MockResponse().setResponseCode(200));
    receiver.enqueue(new MockResponse().setResponseCode(200));
    TokenStore store = fileStore();
    fx.seed(store, SHOP);
    TokenService s = serve("a", store);
    killRefreshToken(store);
    token(s);
    nextHook();
    reconnect(s.broker());
    nextHook();
    closeAll();

    String log = Files.readString(Path.of("target/serve-tests.log"), StandardCharsets.UTF_8);
    assertThat(log).contains("\"event\":\"webhook-delivered\"");
    assertThat(log).contains("\"event\":\"reauthorization-required\"");
    for (String t : fx.tokens) {
      assertThat(log).doesNotContain(t);
    }
    assertThat(log).doesNotContain(HOOK_SECRET);
  }
}
