package dev.tokenbroker.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The report's arithmetic and table, without starting JVMs (the store modules' cluster tests run
 * the scenario itself and assert the broker's promises).
 */
class ClusterReportTest {

  @Test
  void requestsByExpiry_countsEachRequestOnceAgainstTheTokenThatWasDue() {
    // Tokens issued at 0, 720 and 1,430: due at 700, 1,420 and 2,130; the deadline is 2,000.
    List<Long> chain = List.of(0L, 720L, 1430L);
    List<Long> attempts = List.of(700L, 701L, 719L, 1419L, 1420L, 1500L, 1999L);

    assertThat(ClusterReport.requestsByExpiry(chain, attempts, 2000)).containsExactly(4L, 3L);
  }

  @Test
  void markdown_hasOneRowPerStoreAndTheNaiveClientsBreakdown() {
    ClusterReport.Row broker =
        new ClusterReport.Row(
            "tokenbroker, file store",
            3,
            32,
            1000,
            0,
            25,
            25,
            25,
            0,
            18550,
            25L,
            20000,
            Map.of(),
            List.of(),
            List.of());
    ClusterReport.Row naive =
        new ClusterReport.Row(
            "naive tokens.json, no locks",
            3,
            32,
            900,
            12,
            2,
            20,
            20,
            10,
            18550,
            null,
            20000,
            Map.of("invalid_grant", 10L, NaiveClusterChild.UNREADABLE, 2L),
            List.of(5L, 15L),
            List.of());

    String md = ClusterReport.markdown(List.of(broker, naive), 26, false);

    assertThat(md)
        .startsWith("### Cluster: 3 JVMs sharing one store\n")
        .contains("| tokenbroker, file store | 3 × 32 | 1,000 | 25 | 25 | 1.00 | 0 | 0 |")
        .contains("| naive tokens.json, no locks | 3 × 32 | 900 | 2 | 20 | 10.00 | 10 | 12 |")
        .contains("median 15, from 5 to 15 (the most at expiry 2 of 2)")
        .contains("caller errors: 10 invalid_grant, 2 reads of a half-written tokens.json");
  }

  @Test
  void theJsonGoesNextToTheMarkdown() {
    assertThat(ClusterReport.jsonPath(Path.of("results", "cluster.md")))
        .isEqualTo(Path.of("results", "cluster.json"));
  }
}
