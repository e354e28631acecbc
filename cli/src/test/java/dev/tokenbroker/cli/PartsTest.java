package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.TokenBroker;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

/** The small pieces: durations, redirect recognition, loopback detection. */
class PartsTest {
  @Test
  void durations_readAsPeopleWriteThem() {
    DurationConverter c = new DurationConverter();
    assertThat(c.convert("300ms")).isEqualTo(Duration.ofMillis(300));
    assertThat(c.convert("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.convert("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.convert("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(c.convert("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(c.convert("PT10M")).isEqualTo(Duration.ofMinutes(10));
    assertThatThrownBy(() -> c.convert("five minutes"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("90s, 5m");
    assertThatThrownBy(() -> c.convert("0s")).hasMessageContaining("positive");
  }

  @Test
  void durations_printWithTwoUnitsAtMost() {
    assertThat(Text.duration(Duration.ofMillis(300))).isEqualTo("300ms");
    assertThat(Text.duration(Duration.ZERO)).isEqualTo("0s");
    assertThat(Text.duration(Duration.ofSeconds(59))).isEqualTo("59s");
    assertThat(Text.duration(Duration.ofSeconds(61))).isEqualTo("1m 1s");
    assertThat(Text.duration(Duration.ofMinutes(119))).isEqualTo("1h 59m");
    assertThat(Text.duration(Duration.ofDays(14).minusHours(1))).isEqualTo("13d 23h");
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(Text.left(now.plusSeconds(60), now)).isEqualTo("1m 0s");
    assertThat(Text.left(now, now)).isEqualTo("expired");
    assertThat(Text.left(null, now)).isEqualTo("—");
    assertThat(Text.relative(now.minusSeconds(5), now)).isEqualTo("5s ago");
  }

  @Test
  void redirects_areRecognisedByCodeOrError() {
    assertThat(RedirectCapture.isRedirect("http://localhost:8765/cb?code=abc&state=xyz")).isTrue();
    assertThat(RedirectCapture.isRedirect("https://app.example.com/cb?error=access_denied"))
        .isTrue();
    assertThat(RedirectCapture.isRedirect("?code=abc&state=xyz")).isTrue();
    assertThat(RedirectCapture.isRedirect("code=abc&state=xyz")).isTrue();
    assertThat(RedirectCapture.isRedirect("https://app.example.com/cb")).isFalse();
    assertThat(RedirectCapture.isRedirect("yes")).isFalse();
    assertThat(RedirectCapture.isRedirect("/favicon.ico")).isFalse();
  }

  @Test
  void onlyPlainHttpLoopbackRedirects_areListenedOn() {
    assertThat(LoopbackListener.loopbackRedirect("http://localhost:8765/callback")).isNotNull();
    assertThat(LoopbackListener.loopbackRedirect("http://127.0.0.1:8765/cb")).isNotNull();
    assertThat(LoopbackListener.loopbackRedirect("http://[::1]:8765/cb")).isNotNull();
    assertThat(LoopbackListener.loopbackRedirect("https://localhost:8765/cb")).isNull();
    assertThat(LoopbackListener.loopbackRedirect("http://app.example.com/cb")).isNull();
    assertThat(LoopbackListener.loopbackRedirect("not a url")).isNull();
    assertThat(LoopbackListener.loopbackRedirect(null)).isNull();
    assertThat(
            LoopbackListener.redirectUriOf(
                URI.create(
                    "https://x.example/authorize?client_id=a&redirect_uri=http%3A%2F%2Flocalhost%3A8765%2Fcb")))
        .isEqualTo("http://localhost:8765/cb");
  }

  @Test
  void readmeConfiguration_buildsABroker(@TempDir Path dir) throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    Matcher yaml = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(yaml.find()).isTrue();
    Path key = dir.resolve("key");
    Files.writeString(key, Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    Path config = dir.resolve("tokenbroker.yaml");
    Files.writeString(
        config,
        yaml.group(1)
            .replace("/var/lib/tokenbroker", dir.resolve("tokens").toString())
            .replace("/etc/tokenbroker/key", key.toString()));
    Map<String, String> env =
        Map.of(
            "CAFE24_CLIENT_ID", "id",
            "CAFE24_CLIENT_SECRET", "secret",
            "NAVER_CLIENT_ID", "naver-id",
            "NAVER_CLIENT_SECRET", "$2a$04$abcdefghijklmnopqrstuv");
    try (TokenBroker broker = TokenBroker.builder().configFile(config).environment(env).build()) {
      assertThat(broker.connections()).hasSize(2);
    }
  }
}
