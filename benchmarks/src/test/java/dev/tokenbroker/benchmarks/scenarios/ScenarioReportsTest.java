package dev.tokenbroker.benchmarks.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.benchmarks.scenarios.Contender.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quick versions of the scenario reports: tokenbroker's counts must hold (exactly one token request
 * per expiry, no {@code invalid_grant}, no caller error, still usable); the peers only have to
 * produce a row, since how badly they do depends on timing. Counts only, never times.
 */
class ScenarioReportsTest {

  @ParameterizedTest(name = "rotation {0}, {1} callers")
  @CsvSource({"true, 1", "true, 16", "true, 64", "false, 1", "false, 16", "false, 64"})
  void tokenbroker_stampedeOnExpiredToken_oneRequestNoErrorsStillUsable(
      boolean rotating, int callers) throws Exception {
    RefreshAmplificationReport.Run run =
        RefreshAmplificationReport.run(Kind.TOKENBROKER, rotating, callers);

    assertThat(run.tokenRequests).as("token requests").isEqualTo(1);
    assertThat(run.invalidGrants).as("invalid_grant answers").isZero();
    assertThat(run.callerErrors).as("caller errors %s", run.errorKinds).isZero();
    assertThat(run.usableAfterwards).as("usable afterwards").isTrue();
  }

  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"SPRING", "GOOGLE", "NAIVE"})
  void peer_stampede_producesARow(Kind kind) throws Exception {
    RefreshAmplificationReport.Run run = RefreshAmplificationReport.run(kind, true, 16);

    assertThat(run.tokenRequests).isPositive();
    assertThat(RefreshAmplificationReport.markdown(List.of(run), 1))
        .startsWith("### Refresh amplification")
        .contains("| " + kind.label + " | on | 16 | ");
  }

  @Test
  void tokenbroker_sustainedLoadWithOneSecondTokens_oneRequestPerExpiry() throws Exception {
    SustainedReport.Run run = SustainedReport.run(Kind.TOKENBROKER, Duration.ofSeconds(2));

    assertThat(run.expiries).as("expiries").isPositive();
    // The expiries are counted with the nominal 20 ms latency, the shortest renewal cycle: a
    // loaded machine renews later and so less often, never more. So no more requests than
    // expiries (+1 for the boundary) proves no token was renewed twice; too few renewals would
    // show as caller errors, asserted below.
    assertThat(run.tokenRequests)
        .as("token requests for %d expiries", run.expiries)
        .isBetween(1L, run.expiries + 1L);
    assertThat(run.invalidGrants).as("invalid_grant answers").isZero();
    assertThat(run.callerErrors).as("caller errors %s", run.errorKinds).isZero();
    assertThat(run.calls).isPositive();
  }

  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"SPRING", "GOOGLE", "NAIVE"})
  void peer_sustainedLoad_producesARow(Kind kind) throws Exception {
    SustainedReport.Run run = SustainedReport.run(kind, Duration.ofMillis(300));

    assertThat(SustainedReport.markdown(List.of(run), Duration.ofMillis(300)))
        .startsWith("### Sustained load")
        .contains("| " + kind.label + " | ");
  }

  @Test
  void report_writesMarkdownAndJsonBesideIt(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out/amplification.md");
    Report.Args args = Report.Args.parse(new String[] {"--quick", out.toString()}, "usage");

    Report.write(args, "### Section\n", Map.of("runs", List.of(Map.of("tokenRequests", 1))));

    assertThat(args.quick).isTrue();
    assertThat(Files.readString(out)).isEqualTo("### Section\n");
    JsonNode json = new ObjectMapper().readTree(dir.resolve("out/amplification.json").toFile());
    assertThat(json.path("runs").get(0).path("tokenRequests").asInt()).isEqualTo(1);
  }
}
