package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The long-running {@code run} mode and the {@code demo}. */
class RunAndDemoTest {
  @TempDir Path dir;
  CliFixture cli;

  @BeforeEach
  void setUp() throws Exception {
    cli = new CliFixture(dir);
  }

  @AfterEach
  void tearDown() {
    cli.close();
  }

  @Test
  void run_renewsAnIdleMallLogsTheEventAndStopsCleanlyOnShutdown() throws Exception {
    cli.connectCafe24();
    cli.clock.advance(Duration.ofDays(8)); // 6 days left of the 14-day refresh token
    CliFixture.Running run = cli.start(new ByteArrayInputStream(new byte[0]), "run");
    String log = run.out.awaitMatch(Pattern.compile("keep-alive pass: .*\\n"));

    assertThat(log)
        .contains("tokenbroker running: 3 connection(s), keep-alive every 1h 0m")
        .containsPattern("cafe24:mymall +cafe24 +ACTIVE +expired +6d 0h")
        .contains("REFRESH_TOKEN_EXPIRING_SOON cafe24:mymall")
        .contains("REFRESHED cafe24:mymall")
        .contains("keep-alive pass: renewed [cafe24:mymall]");
    assertThat(cli.cafe24.refreshes()).isEqualTo(1);
    assertThat(run.result).isNotDone(); // runs until stopped

    assertThat(cli.shutdownHooks).hasSize(1);
    cli.shutdownHooks.get(0).run(); // what SIGTERM does
    CliFixture.Result r = run.await();
    assertThat(r.code).isZero();
    assertThat(r.out).contains("stopping: closing the broker").endsWith("stopped\n");
    assertThat(r.out).doesNotContain(cli.stored(CliFixture.CAFE24).refreshToken());
  }

  @Test
  void run_badConfiguration_exits2AtOnce() throws Exception {
    java.nio.file.Files.writeString(cli.config, "connections:\n  cafe24:x: { provider: cafe24 }\n");
    CliFixture.Result r = cli.run("run");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("cafe24:x");
    assertThat(cli.shutdownHooks).isEmpty();
  }

  @Test
  void demo_passesEveryCheck_andExits0() {
    CliFixture.Result r = cli.run("demo");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .contains("1. Cafe24")
        .contains("8. Cafe24 — revoke")
        .contains("Status (`tokenbroker status`)")
        .contains("✓ no token or secret appeared in this output")
        .containsPattern("✓ all \\d+ checks passed")
        .doesNotContain("✗")
        // the revoked mall's row: no "last renewal" of tokens that no longer exist
        .containsPattern(
            "(?m)^cafe24:demo-mall +cafe24 +REAUTHORIZATION_REQUIRED +— +— +— +\\[revoked\\]");
    assertThat(r.err).isEmpty();
  }
}
