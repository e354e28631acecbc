package dev.tokenbroker.examples.skeleton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.Fault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The skeleton provider works, end to end: found by its {@code provider: signed-key} name from a
 * YAML file, signs, is renewed on the fake clock, and its errors land in health.
 */
class SignedKeyProviderTest {
  private static final String SECRET = "sk-secret-0123456789abcdef";
  private static final ConnectionId MAIN = ConnectionId.parse("signed-key:main");

  @TempDir Path dir;
  private final FakeClock clock = FakeClock.create();
  private final SignedKeyEmulator platform =
      new SignedKeyEmulator(clock).key("k-123", SECRET).start();

  @AfterEach
  void stop() {
    platform.close();
  }

  private TokenBroker broker(String... settings) throws IOException {
    Path config = dir.resolve("tokenbroker.yaml");
    StringBuilder yaml =
        new StringBuilder("store: { type: memory }\nconnections:\n  signed-key:main:\n");
    yaml.append("    base-url: ").append(platform.baseUrl()).append('\n');
    yaml.append("    key-id: k-123\n    key-secret: ${SIGNED_KEY_SECRET}\n");
    for (String s : settings) {
      yaml.append("    ").append(s).append('\n');
    }
    Files.writeString(config, yaml);
    return TokenBroker.builder()
        .configFile(config)
        .environment(Map.of("SIGNED_KEY_SECRET", SECRET))
        .clock(clock)
        .withoutKeepAlive()
        .build();
  }

  @Test
  void signsForASessionToken_servesItFromCache_andRenewsItBeforeExpiry() throws IOException {
    try (TokenBroker broker = broker()) {
      String first = broker.accessToken(MAIN);
      assertThat(platform.isValid(first)).isTrue();
      assertThat(platform.lastRequest(SignedKeyEmulator.SESSION_PATH).getHeader("X-Signature"))
          .isNotBlank();
      assertThat(broker.accessToken(MAIN)).isEqualTo(first);
      assertThat(platform.sessionsIssued()).isEqualTo(1);

      // Inside the last 10 s (the provider's expiry skew) the token counts as expired: callers
      // wait for the one renewal. (Inside renew-before they would get it while a renewal runs.)
      clock.advance(Duration.ofSeconds(SignedKeyEmulator.TTL_SECONDS - 5));
      String second = broker.accessToken(MAIN);
      assertThat(second).isNotEqualTo(first);
      assertThat(platform.sessionsIssued()).isEqualTo(2);
      assertThat(broker.tokenSet(MAIN).extras()).containsEntry("key_id", "k-123");
    }
  }

  @Test
  void aRevokedKey_needsAPerson_andSaysWhy() throws IOException {
    try (TokenBroker broker = broker()) {
      platform.revoke("k-123");
      assertThatThrownBy(() -> broker.accessToken(MAIN))
          .isInstanceOf(ReauthorizationRequiredException.class);
      Health health = broker.health(MAIN);
      assertThat(health.state()).isEqualTo(Health.State.REAUTHORIZATION_REQUIRED);
      assertThat(health.reasonCode()).isEqualTo("client-rejected");
      assertThat(health.toString()).doesNotContain(SECRET);
    }
  }

  @Test
  void anOutage_isTransient() throws IOException {
    platform.inject(SignedKeyEmulator.SESSION_PATH, Fault.html(502));
    try (TokenBroker broker = broker()) {
      assertThatThrownBy(() -> broker.accessToken(MAIN))
          .isInstanceOf(TokenUnavailableException.class);
      assertThat(broker.health(MAIN).state()).isEqualTo(Health.State.DEGRADED);
    }
  }

  @Test
  void aTypoInTheSettings_failsAtBuildTime_namingTheSetting() {
    assertThatThrownBy(() -> broker("renew-befor: 5m").close())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("renew-befor");
  }
}
