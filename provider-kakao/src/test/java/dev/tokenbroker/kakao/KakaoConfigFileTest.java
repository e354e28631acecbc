package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.testkit.FakeClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The YAML example of this module's README, loaded as a user would load it. */
class KakaoConfigFileTest {
  private static final ConnectionId ID = ConnectionId.parse("kakao:shop-bot");

  @TempDir Path dir;

  @Test
  void readmeExample_buildsAKakaoConnection() throws IOException {
    Path config = writeReadmeExample();
    FakeClock clock = FakeClock.create();

    try (TokenBroker broker =
        TokenBroker.builder()
            .clock(clock)
            .store(new InMemoryTokenStore(clock))
            .configFile(config)
            .environment(
                Map.of(
                    "KAKAO_REST_API_KEY", "0123456789abcdef0123456789abcdef",
                    "KAKAO_CLIENT_SECRET", "the-secret",
                    "KAKAO_BASE_URL", "http://127.0.0.1:9"))
            .build()) {
      TokenProvider provider = broker.provider(ID);
      HttpUrl url = HttpUrl.get(broker.startAuthorization(ID).url());

      assertThat(provider).isInstanceOf(KakaoTokenProvider.class);
      assertThat(provider.validatesOnLoad()).isTrue();
      assertThat(url.host()).isEqualTo("127.0.0.1");
      assertThat(url.queryParameter("client_id")).isEqualTo("0123456789abcdef0123456789abcdef");
      assertThat(url.queryParameter("scope")).isEqualTo("profile_nickname,talk_message");
      assertThat(url.queryParameter("redirect_uri"))
          .isEqualTo("http://localhost:8765/kakao/callback");
      assertThat(url.queryParameter("code_challenge_method")).isEqualTo("S256");
    }
  }

  @Test
  void readmeExample_withoutTheRestApiKey_namesTheSetting() throws IOException {
    Path config = writeReadmeExample();

    assertThatThrownBy(
            () ->
                TokenBroker.builder()
                    .configFile(config)
                    .environment(
                        Map.of("KAKAO_BASE_URL", "http://127.0.0.1:9", "KAKAO_CLIENT_SECRET", "s"))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("kakao:shop-bot")
        .hasMessageContaining("client-id");
  }

  /** The README's first YAML block, pointed at a loopback address instead of Kakao. */
  private Path writeReadmeExample() throws IOException {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    int start = readme.indexOf("```yaml\n") + "```yaml\n".length();
    String yaml = readme.substring(start, readme.indexOf("```", start));
    assertThat(yaml).contains("provider: kakao").contains("kakao:shop-bot");
    String redirectLine = "    redirect-uri: http://localhost:8765/kakao/callback\n";
    assertThat(yaml).contains(redirectLine);
    yaml =
        yaml.replace(
            redirectLine,
            redirectLine
                + "    auth-base-url: ${KAKAO_BASE_URL}\n"
                + "    api-base-url: ${KAKAO_BASE_URL}\n");
    Path file = dir.resolve("tokenbroker.yaml");
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    return file;
  }
}
