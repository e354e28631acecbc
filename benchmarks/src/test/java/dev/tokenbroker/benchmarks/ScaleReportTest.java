package dev.tokenbroker.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ScaleReport --quick}: every contender, each in its own child JVM with 2,000 connections,
 * serves every connection once with exactly the token requests it must make, and gets a heap
 * figure. Counts only; no timing is asserted.
 */
class ScaleReportTest {

  @Test
  void quickRunMeasuresEveryContender(@TempDir Path dir) throws Exception {
    Path md = dir.resolve("scale.md");
    ScaleReport.main(new String[] {"--quick", md.toString()});

    JsonNode report = new ObjectMapper().readTree(dir.resolve("scale.json").toFile());
    assertThat(report.path("connections").asInt()).isEqualTo(2_000);
    assertThat(report.path("contenders")).hasSize(ScaleReport.Contender.values().length);
    for (ScaleReport.Contender c : ScaleReport.Contender.values()) {
      JsonNode result = ScaleReport.contender(report, c.key);
      assertThat(result).as(c.key).isNotNull();
      assertThat(result.path("served").asInt()).as(c.key).isEqualTo(2_000);
      // No refresh anywhere; client-credentials connections of the broker obtain exactly once.
      assertThat(result.path("tokenRequests").asLong())
          .as(c.key)
          .isEqualTo(c.expectedTokenRequests(2_000));
      // At least the two 64-character tokens' bytes (or one, without a refresh token).
      assertThat(result.path("bytesPerConnection").asDouble()).as(c.key).isGreaterThan(100);
      assertThat(result.path("startupFirstMillis").asDouble()).as(c.key).isPositive();
    }
    // --quick runs JOL only for the contender whose per-class histogram the report shows.
    assertThat(
            ScaleReport.contender(report, "tokenbroker-refresh")
                .path("jolBytesPerConnection")
                .asDouble())
        .isGreaterThan(100);

    String table = Files.readString(md);
    assertThat(table)
        .startsWith("### Scale: 2,000 connections")
        .contains("| Spring Security, refresh token |")
        .contains("| google-auth-library-java, UserCredentials |")
        .contains("Where tokenbroker's bytes go");
  }

  @Test
  void medianOfEvenAndOddCounts() {
    assertThat(ScaleReport.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(ScaleReport.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
  }
}
