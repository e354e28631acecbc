package dev.tokenbroker.cafe24;

import static dev.tokenbroker.cafe24.Cafe24Fixture.CLIENT_ID;
import static dev.tokenbroker.cafe24.Cafe24Fixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Cafe24 app as a template ({@code cafe24:{mall}}) in two instances sharing a store, against the
 * emulator: the App URL launch verified (its replay refused on the other instance through the
 * store), the mall onboarded with the redirect landing elsewhere, and an uninstall seen in an API
 * answer removing the mall everywhere.
 */
class Cafe24OnboardingTest {
  private final Cafe24Fixture fixture = new Cafe24Fixture();
  private final InMemoryTokenStore store = new InMemoryTokenStore(fixture.clock);
  private final List<TokenBroker> brokers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    brokers.forEach(TokenBroker::close);
    fixture.close();
  }

  private TokenBroker instance() {
    Map<String, Object> app = fixture.settings("ignored");
    app.remove("mall-id"); // the subject: cafe24:{mall}
    TokenBroker b =
        TokenBroker.builder()
            .clock(fixture.clock)
            .store(store)
            .httpClient(fixture.http)
            .template("my-cafe24-app", "cafe24:{mall}", app)
            .withoutKeepAlive()
            .withoutDiscovery()
            .build();
    brokers.add(b);
    return b;
  }

  @Test
  void launchOnboardAndUninstall_acrossTwoInstances() throws Exception {
    TokenBroker a = instance();
    TokenBroker b = instance();
    String launchUrl =
        fixture.cafe24.launchUrl("https://app.example.com/launch", CLIENT_ID, "mall-b");

    // The App URL handler on instance A verifies the launch, replay-guarded through the store.
    Cafe24AppLaunch.Verified launch =
        Cafe24AppLaunch.builder(SECRET)
            .clock(fixture.clock)
            .replayGuard(a::claimOnce)
            .build()
            .verify(launchUrl);
    Cafe24AppLaunch onB =
        Cafe24AppLaunch.builder(SECRET).clock(fixture.clock).replayGuard(b::claimOnce).build();
    assertThatThrownBy(() -> onB.verify(launchUrl))
        .as("the same launch replayed on another instance")
        .isInstanceOfSatisfying(
            Cafe24LaunchException.class,
            e -> assertThat(e.reason()).isEqualTo(Cafe24LaunchException.Reason.REPLAYED));

    ConnectionId mall = ConnectionId.of("cafe24", launch.mallId());
    AuthorizationRequest request = a.startAuthorization(mall);
    assertThat(b.handleCallback(fixture.cafe24.approve(request.url()))).isEqualTo(mall);
    assertThat(fixture.cafe24.codeExchanges()).isEqualTo(1);
    assertThat(fixture.cafe24.lastRequest(fixture.cafe24.tokenPath("mall-b")))
        .as("the token request went to the launching mall's endpoint")
        .isNotNull();
    String token = a.accessToken(mall);
    assertThat(b.accessToken(mall)).isEqualTo(token);

    // The operator uninstalls the app; the next admin API call through A says so.
    fixture.cafe24.uninstall("mall-b");
    OkHttpClient api = new OkHttpClient.Builder().addInterceptor(a.interceptor(mall)).build();
    try (Response r =
        api.newCall(
                new Request.Builder()
                    .url(fixture.cafe24.mallBaseUrl("mall-b") + "/api/v2/admin/products")
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(403);
    }
    assertThat(b.discover()).isEqualTo(1);
    for (TokenBroker any : List.of(a, b)) {
      assertThatThrownBy(() -> any.accessToken(mall))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("removed (uninstalled");
    }
    assertThat(fixture.cafe24.revocations()).as("nothing sent for an uninstall").isZero();
  }
}
