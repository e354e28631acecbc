package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that come and go at run time: an app's template, onboarding started on one instance
 * and completed on another through the shared store, discovery of connections added and removed
 * elsewhere. Two brokers share one store; discovery runs when the test says ({@code discover()}).
 */
class OnboardingTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final Platform platform = new Platform();

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
  }

  /** One fake platform: a rotating chain per connection, shared by every instance's provider. */
  final class Platform implements TokenProviderFactory {
    final Map<String, FakeProvider> chains = new ConcurrentHashMap<>();
    final List<String> subjects = new CopyOnWriteArrayList<>();
    final List<String> clientIds = new CopyOnWriteArrayList<>();
    final AtomicInteger exchanges = new AtomicInteger();
    final AtomicInteger revocations = new AtomicInteger();
    final AtomicInteger nextUser = new AtomicInteger(41);

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public TokenProvider create(Settings settings, ProviderContext context) {
      String subject = context.subject();
      subjects.add(String.valueOf(subject));
      settings.optional("provider", "fake");
      String clientId = settings.optional("client-id", "");
      if (clientId.equals("bad")) {
        throw settings.invalid("client-id", "is not a client id");
      }
      clientIds.add(context.connection() + "=" + clientId);
      FakeProvider chain =
          chains.computeIfAbsent(
              context.connection().toString(), k -> FakeProvider.refreshing(clock));
      return new ForwardingProvider(chain) {
        @Override
        public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
          exchanges.incrementAndGet();
          return super.exchangeCode(code, codeVerifier);
        }

        @Override
        public void revoke(TokenSet current, Revocation revocation) {
          revocations.incrementAndGet();
        }

        @Override
        public @Nullable String subjectOf(TokenSet issued) {
          return subject == null ? "u" + nextUser.incrementAndGet() : null;
        }

        @Override
        public dev.tokenbroker.spi.ApiVerdict classifyApiResponse(okhttp3.Response response) {
          return response.code() == 403
              ? dev.tokenbroker.spi.ApiVerdict.connectionEnded("app uninstalled", "403")
              : super.classifyApiResponse(response);
        }
      };
    }
  }

  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();

  private TokenBroker instance(String name) {
    return instance(name, store);
  }

  private TokenBroker instance(String name, dev.tokenbroker.store.TokenStore view) {
    TokenBroker b =
        TokenBroker.builder()
            .instanceId(name)
            .clock(clock)
            .store(view)
            .providerFactory(platform)
            .template("shops", "fake:{shop}", Map.of("client-id", "app-1"))
            .template("users", "fake:user/{user}", Map.of("client-id", "app-2"))
            .withoutKeepAlive()
            .withoutDiscovery()
            .listener(e -> events.add(e))
            .build();
    brokers.add(b);
    return b;
  }

  private static String redirect(AuthorizationRequest request) {
    return "https://app.example/cb?code=c&state=" + request.state();
  }

  @Test
  void startedOnOneInstance_completedOnAnother_servedOnBoth_withoutRestart() {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");
    ConnectionId mall = ConnectionId.parse("fake:mall-a");

    AuthorizationRequest request = a.startAuthorization(mall);
    assertThat(b.handleCallback(redirect(request))).isEqualTo(mall);

    assertThat(platform.exchanges).hasValue(1);
    assertThat(platform.subjects).contains("mall-a");
    String token = b.accessToken(mall);
    assertThat(a.accessToken(mall)).as("A learns it from the store on a miss").isEqualTo(token);
    assertThat(a.connections()).contains(mall);

    for (TokenBroker any : List.of(a, b)) {
      assertThatThrownBy(() -> any.handleCallback(redirect(request)))
          .as("the state completes exactly once, on any instance")
          .isInstanceOf(AuthorizationException.class)
          .hasMessageContaining("unknown state");
    }
    assertThat(platform.exchanges).as("the code was exchanged once").hasValue(1);
  }

  @Test
  void removedOnOneInstance_isServedByNoneAfterTheNextDiscovery() {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");
    ConnectionId mall = ConnectionId.parse("fake:mall-a");
    a.handleCallback(redirect(a.startAuthorization(mall)));
    assertThat(b.accessToken(mall)).isNotNull(); // cached on B now

    a.remove(mall);
    assertThat(platform.revocations).as("revoked at the platform").hasValue(1);
    assertThatThrownBy(() -> a.accessToken(mall))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("removed");

    assertThat(b.discover()).isEqualTo(1);
    assertThatThrownBy(() -> b.accessToken(mall))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("removed");
    assertThat(b.connections()).doesNotContain(mall);
    assertThat(events)
        .anyMatch(
            e ->
                e.type() == TokenEvent.Type.CONNECTION_REMOVED
                    && e.connection().equals(mall)
                    && e.message().contains("removed"));

    // onboarded again later: served again everywhere
    a.handleCallback(redirect(a.startAuthorization(mall)));
    assertThat(b.discover()).isEqualTo(1);
    assertThat(b.connections()).contains(mall);
    assertThat(b.accessToken(mall)).isEqualTo(a.accessToken(mall));
  }

  @Test
  void anUninstalledConnection_isRemovedWithoutARequestToThePlatform() {
    TokenBroker a = instance("a");
    ConnectionId mall = ConnectionId.parse("fake:mall-b");
    a.handleCallback(redirect(a.startAuthorization(mall)));

    a.removeEnded(mall, "uninstalled");

    assertThat(platform.revocations).hasValue(0);
    assertThat(store.read(mall).tombstone().reason()).isEqualTo("uninstalled");
    assertThatThrownBy(() -> a.accessToken(mall)).hasMessageContaining("removed (uninstalled");
    assertThatThrownBy(() -> a.removeEnded(mall, "because"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aSubjectKnownOnlyAfterTheExchange_namesTheConnectionOnCompletion() {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");

    AuthorizationRequest request = a.startAuthorization("users");
    assertThat(request.connection().toString()).isEqualTo("fake:user/{user}");
    ConnectionId user = b.handleCallback(redirect(request));

    assertThat(user).isEqualTo(ConnectionId.parse("fake:user/u42"));
    assertThat(a.accessToken(user)).isEqualTo(b.accessToken(user));
    assertThat(b.connections()).contains(user).doesNotContain(request.connection());
  }

  @Test
  void foreignExpiredAndUnknownStates_areRefusedBeforeAnyExchange() {
    TokenBroker a = instance("a");
    ConnectionId mallA = ConnectionId.parse("fake:mall-a");
    ConnectionId mallB = ConnectionId.parse("fake:mall-b");

    AuthorizationRequest forA = a.startAuthorization(mallA);
    assertThatThrownBy(() -> a.completeAuthorization(mallB, redirect(forA)))
        .isInstanceOf(AuthorizationException.class)
        .hasMessageContaining("belongs to another authorization");

    AuthorizationRequest late = a.startAuthorization(mallA);
    clock.advance(Duration.ofMinutes(16));
    assertThatThrownBy(() -> a.handleCallback(redirect(late)))
        .isInstanceOf(AuthorizationException.class)
        .hasMessageContaining("expired");
    assertThatThrownBy(() -> a.handleCallback("https://app.example/cb?code=c&state=forged"))
        .isInstanceOf(AuthorizationException.class)
        .hasMessageContaining("unknown state");
    assertThatThrownBy(() -> a.handleCallback("https://app.example/cb?code=c"))
        .isInstanceOf(AuthorizationException.class)
        .hasMessageContaining("no valid state");
    assertThat(platform.exchanges).hasValue(0);
  }

  @Test
  void idsNoTemplateNames_andTemplateIdsNeverConnected_areClearErrors() {
    TokenBroker a = instance("a");
    assertThatThrownBy(() -> a.accessToken(ConnectionId.parse("fake:mall-z")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not connected");
    assertThatThrownBy(() -> a.startAuthorization(ConnectionId.parse("other:x")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("no app's template names it");
    assertThatThrownBy(() -> a.connect("shops", "bad subject"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(a.connections()).isEmpty();

    ConnectionId added = a.connect("shops", "mall-c");
    assertThat(added).isEqualTo(ConnectionId.parse("fake:mall-c"));
    assertThat(a.connections()).containsExactly(added);
    assertThat(a.health(added).state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
  }

  @Test
  void discovery_learnsConnectionsAuthorizedElsewhere_soKeepAliveCoversThem() {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");
    assertThat(b.discover()).isZero();
    ConnectionId mall = ConnectionId.parse("fake:mall-d");
    a.handleCallback(redirect(a.startAuthorization(mall)));

    assertThat(b.discover()).isEqualTo(1);
    assertThat(b.connections()).contains(mall);
    assertThat(events)
        .anyMatch(
            e ->
                e.type() == TokenEvent.Type.CONNECTION_ADDED
                    && e.connection().equals(mall)
                    && e.message().contains("store"));

    TokenBroker fresh = instance("fresh");
    assertThat(fresh.discover()).as("a fresh instance lists the store's connections").isEqualTo(1);
    assertThat(fresh.connections()).containsExactly(mall);
  }

  @Test
  void templatesAreCheckedAtBuildTime() {
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .providerFactory(platform)
                    .template("one", "fake:{shop}", Map.of())
                    .template("two", "fake:{mall}", Map.of())
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("apps.two.template")
        .hasMessageContaining("same connections as app 'one'");
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .providerFactory(platform)
                    .template("x", "fake:shop", Map.of())
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("no {placeholder}");
    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .providerFactory(platform)
                    .template("x", "fake:{shop}x", Map.of())
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ambiguous");
  }

  @Test
  void aTemplateFromTheConfigurationFile(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("tokenbroker.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "apps:",
            "  shops:",
            "    provider: fake",
            "    client-id: ${APP_ID}",
            "    template: fake:{shop}",
            ""));
    TokenBroker a =
        TokenBroker.builder()
            .configFile(config)
            .environment(Map.of("APP_ID", "app-9"))
            .clock(clock)
            .store(store)
            .providerFactory(platform)
            .withoutKeepAlive()
            .withoutDiscovery()
            .build();
    brokers.add(a);
    ConnectionId mall = ConnectionId.parse("fake:mall-e");
    assertThat(a.handleCallback(redirect(a.startAuthorization(mall)))).isEqualTo(mall);
    assertThat(a.accessToken(mall)).isNotNull();
  }

  @Test
  void importingARefreshToken_renewsOnce_savesTheNewSet_andNeverOverwritesAStoredOne() {
    TokenBroker a = instance("a");
    ConnectionId mall = ConnectionId.parse("fake:mall-f");
    a.connect("shops", "mall-f");
    FakeProvider chain = platform.chains.get(mall.toString());
    TokenSet fromScript = chain.seed(); // what the old script's tokens.json held

    TokenSet imported = a.importRefreshToken(mall, fromScript.refreshToken());

    assertThat(chain.calls).as("one renewal proves it live").hasValue(1);
    assertThat(chain.invalidGrants).hasValue(0);
    assertThat(imported.refreshToken()).isNotEqualTo(fromScript.refreshToken());
    assertThat(store.load(mall)).isEqualTo(imported);
    assertThat(a.accessToken(mall)).isEqualTo(imported.accessToken());

    assertThatThrownBy(() -> a.importRefreshToken(mall, "anything"))
        .isExactlyInstanceOf(TokenBrokerException.class)
        .hasMessageContaining("never overwrites")
        .hasMessageNotContaining("anything");
    assertThat(chain.calls).as("nothing sent over a stored set").hasValue(1);
    assertThat(store.load(mall)).isEqualTo(imported);
  }

  @Test
  void importingADeadRefreshToken_storesNothing() {
    TokenBroker a = instance("a");
    ConnectionId mall = ConnectionId.parse("fake:mall-g");
    a.connect("shops", "mall-g");
    FakeProvider chain = platform.chains.get(mall.toString());
    chain.seed();

    assertThatThrownBy(() -> a.importRefreshToken(mall, "spent-long-ago"))
        .isInstanceOf(TokenEndpointException.class);
    assertThat(chain.invalidGrants).hasValue(1);
    assertThat(store.read(mall).tokens()).isNull();
  }

  @Test
  void aReissuedSecret_changesEveryConnectionOfTheApp_keepingTheirTokens(@TempDir Path dir)
      throws Exception {
    Path config = dir.resolve("tokenbroker.yaml");
    String yaml =
        String.join(
            "\n",
            "apps:",
            "  shops:",
            "    provider: fake",
            "    client-id: CLIENT",
            "    template: fake:{shop}",
            "");
    Files.writeString(config, yaml.replace("CLIENT", "app-1"));
    TokenBroker a =
        TokenBroker.builder()
            .configFile(config)
            .clock(clock)
            .store(store)
            .providerFactory(platform)
            .withoutKeepAlive()
            .withoutDiscovery()
            .build();
    brokers.add(a);
    ConnectionId mall = ConnectionId.parse("fake:mall-h");
    a.handleCallback(redirect(a.startAuthorization(mall)));
    String token = a.accessToken(mall);
    FakeProvider chain = platform.chains.get(mall.toString());

    assertThatThrownBy(
            () -> a.reconfigureApp("shops", Map.of("provider", "fake", "client-id", "bad")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("client-id");
    assertThat(platform.clientIds).doesNotContain(mall + "=bad");

    Files.writeString(config, yaml.replace("CLIENT", "app-1b"));
    assertThat(a.reload()).containsExactly("app shops: settings changed");

    assertThat(platform.clientIds).contains(mall + "=app-1b");
    assertThat(a.accessToken(mall)).as("stored tokens kept").isEqualTo(token);
    assertThat(chain.calls).as("nothing renewed").hasValue(0);
    assertThat(a.reload()).as("nothing changed since").isEmpty();
    ConnectionId later = ConnectionId.parse("fake:mall-i");
    a.connect("shops", "mall-i");
    assertThat(platform.clientIds).contains(later + "=app-1b");
  }

  @Test
  void claimOnce_isAReplayGuardSharedByEveryInstance() {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");
    java.time.Instant until = clock.instant().plus(Duration.ofMinutes(5));
    assertThat(a.claimOnce("launch:sig-1", until)).isTrue();
    assertThat(b.claimOnce("launch:sig-1", until)).as("replayed on another instance").isFalse();
    assertThat(b.claimOnce("launch:sig-2", until)).isTrue();
    clock.advance(Duration.ofMinutes(6));
    assertThat(a.claimOnce("launch:sig-1", clock.instant().plusSeconds(60)))
        .as("forgotten after its window")
        .isTrue();
  }

  @Test
  void anApiAnswerSayingTheAppWasUninstalled_removesTheConnectionEverywhere() throws Exception {
    TokenBroker a = instance("a");
    TokenBroker b = instance("b");
    ConnectionId mall = ConnectionId.parse("fake:mall-j");
    a.handleCallback(redirect(a.startAuthorization(mall)));
    assertThat(b.accessToken(mall)).isNotNull();
    try (okhttp3.mockwebserver.MockWebServer api = new okhttp3.mockwebserver.MockWebServer()) {
      api.enqueue(new okhttp3.mockwebserver.MockResponse().setResponseCode(403));
      api.start(java.net.InetAddress.getLoopbackAddress(), 0);
      okhttp3.OkHttpClient client =
          new okhttp3.OkHttpClient.Builder().addInterceptor(a.interceptor(mall)).build();
      try (okhttp3.Response r =
          client.newCall(new okhttp3.Request.Builder().url(api.url("/orders")).build()).execute()) {
        assertThat(r.code()).as("the caller still gets the answer").isEqualTo(403);
      }
    }
    assertThat(store.read(mall).tombstone().reason()).isEqualTo("uninstalled");
    assertThat(platform.revocations).as("nothing sent: the platform ended it").hasValue(0);
    assertThat(b.discover()).isEqualTo(1);
    assertThatThrownBy(() -> b.accessToken(mall)).hasMessageContaining("removed (uninstalled");
  }

  @Test
  void aRemovalTheChangeLogMissed_isSeenByTheSweep_withinSweepEveryPolls() {
    TokenBroker a = instance("a");
    // B's store answers every change query with nothing: a lost change-log entry
    TokenBroker b =
        instance(
            "b",
            new dev.tokenbroker.store.ForwardingTokenStore(store) {
              @Override
              public List<ConnectionId> changedSince(java.time.Instant since) {
                return List.of();
              }
            });
    ConnectionId mall = ConnectionId.parse("fake:mall-k");
    a.handleCallback(redirect(a.startAuthorization(mall)));
    assertThat(b.accessToken(mall)).isNotNull(); // learnt on a miss, cached
    a.remove(mall);

    int polls = 0;
    while (b.connections().contains(mall) && polls < Discovery.SWEEP_EVERY) {
      b.discover();
      polls++;
    }
    assertThat(b.connections()).as("seen within one sweep").doesNotContain(mall);
    assertThatThrownBy(() -> b.accessToken(mall)).hasMessageContaining("removed");
  }
}
