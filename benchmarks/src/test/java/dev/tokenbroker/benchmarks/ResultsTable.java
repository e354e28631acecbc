package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Turns JMH JSON result files into one merged JSON file and one Markdown table: a row per
 * benchmark, parameters and thread count, with the throughput, average or sampled times and the
 * bytes allocated per call, whatever mode and time unit each file was run with.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.tokenbroker.benchmarks.ResultsTable OUT.json
 * IN.json...}: writes the merged results (without sample-mode histograms) to {@code OUT.json} and
 * the table to standard output. Written in Java so that {@code run.sh} needs nothing but a JDK.
 */
public final class ResultsTable {
  /** Issue 2's target for {@code accessToken} with 100,000 connections on one thread. */
  private static final double TARGET_CALLS_PER_SECOND = 30e6;

  private ResultsTable() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: ResultsTable OUT.json IN.json...");
      System.exit(2);
    }
    ObjectMapper json = new ObjectMapper();
    ArrayNode merged = json.createArrayNode();
    for (int i = 1; i < args.length; i++) {
      for (JsonNode result : json.readTree(Path.of(args[i]).toFile())) {
        // Sample-mode histograms are most of a result file's size and the percentiles keep what
        // they say; the complete files stay in results/raw.
        removeHistograms(result.path("primaryMetric"));
        result.path("secondaryMetrics").forEach(ResultsTable::removeHistograms);
        merged.add(result);
      }
    }
    json.writerWithDefaultPrettyPrinter().writeValue(Path.of(args[0]).toFile(), merged);
    System.out.print(markdown(merged));
  }

  private static void removeHistograms(JsonNode metric) {
    if (metric instanceof ObjectNode) {
      ((ObjectNode) metric).remove("rawDataHistogram");
    }
  }

  /** One table row: everything measured for one benchmark, parameter set and thread count. */
  private static final class Row {
    final String benchmark;
    final String params;
    final int threads;
    @Nullable Double opsPerSecMedian;
    @Nullable Double opsPerSecMin;
    @Nullable Double opsPerSecMax;
    @Nullable Double avgNanos;
    @Nullable Double p50Nanos;
    @Nullable Double p99Nanos;
    @Nullable Double bytesPerOp;

    Row(String benchmark, String params, int threads) {
      this.benchmark = benchmark;
      this.params = params;
      this.threads = threads;
    }
  }

  static String markdown(JsonNode results) {
    Map<String, Row> rows = new LinkedHashMap<>();
    for (JsonNode r : results) {
      String fullName = r.path("benchmark").asText();
      String benchmark =
          fullName.substring(fullName.lastIndexOf('.', fullName.lastIndexOf('.') - 1) + 1);
      String params = params(r.path("params"));
      int threads = r.path("threads").asInt();
      Row row =
          rows.computeIfAbsent(
              benchmark + '|' + params + '|' + threads, k -> new Row(benchmark, params, threads));
      JsonNode primary = r.path("primaryMetric");
      String unit = primary.path("scoreUnit").asText();
      JsonNode percentiles = primary.path("scorePercentiles");
      switch (r.path("mode").asText()) {
        case "thrpt":
          // Percentiles of a throughput run are over its iterations: the median iteration is the
          // figure least disturbed by other work on a shared machine.
          row.opsPerSecMedian = opsPerSecond(percentiles.path("50.0").asDouble(), unit);
          row.opsPerSecMin = opsPerSecond(percentiles.path("0.0").asDouble(), unit);
          row.opsPerSecMax = opsPerSecond(percentiles.path("100.0").asDouble(), unit);
          break;
        case "avgt":
          row.avgNanos = nanosPerOp(primary.path("score").asDouble(), unit);
          break;
        case "sample":
          row.p50Nanos = nanosPerOp(percentiles.path("50.0").asDouble(), unit);
          row.p99Nanos = nanosPerOp(percentiles.path("99.0").asDouble(), unit);
          break;
        default:
          break;
      }
      Double alloc = allocation(r.path("secondaryMetrics"));
      if (alloc != null && (row.bytesPerOp == null || r.path("mode").asText().equals("thrpt"))) {
        row.bytesPerOp = alloc;
      }
    }

    StringBuilder md = new StringBuilder();
    md.append("| Benchmark | Parameters | Threads | Throughput, median iteration (min–max) ")
        .append("| Average | p50 | p99 | Allocated |\n");
    md.append("|---|---|--:|--:|--:|--:|--:|--:|\n");
    for (Row row : rows.values()) {
      md.append("| ")
          .append(row.benchmark)
          .append(" | ")
          .append(row.params)
          .append(" | ")
          .append(row.threads)
          .append(" | ")
          .append(
              row.opsPerSecMedian == null
                  ? "–"
                  : rate(row.opsPerSecMedian)
                      + " ("
                      + rate(row.opsPerSecMin)
                      + "–"
                      + rate(row.opsPerSecMax)
                      + ")")
          .append(" | ")
          .append(time(row.avgNanos))
          .append(" | ")
          .append(time(row.p50Nanos))
          .append(" | ")
          .append(time(row.p99Nanos))
          .append(" | ")
          .append(
              row.bytesPerOp == null ? "–" : String.format(Locale.ROOT, "%.1f B", row.bytesPerOp))
          .append(" |\n");
    }
    peers(md, rows);
    for (Row row : rows.values()) {
      if (row.benchmark.equals("AccessTokenBenchmark.anyConnection")
          && row.params.equals("connections=100000")
          && row.threads == 1
          && row.opsPerSecMedian != null) {
        md.append("\nTarget (issue 2): at least ")
            .append(rate(TARGET_CALLS_PER_SECOND))
            .append(" resolving one of 100,000 connections on one thread; measured ")
            .append(rate(row.opsPerSecMedian))
            .append(row.opsPerSecMedian >= TARGET_CALLS_PER_SECOND ? " (met).\n" : " (not met).\n");
      }
    }
    return md.toString();
  }

  /** The peers' benchmarks of the hot path (issue 8) and what they call. */
  private static final Map<String, String> PEERS =
      Map.of(
          "SpringSecurityBenchmark", "Spring Security `authorize`",
          "GoogleAuthBenchmark", "google-auth `getRequestMetadata`",
          "NaiveTokenFileBenchmark", "`tokens.json` read and parsed per call");

  /**
   * Each peer's throughput beside {@code AccessTokenBenchmark}'s for the same method, parameters
   * and thread count, as a ratio. Nothing when no peer ran beside it.
   */
  private static void peers(StringBuilder md, Map<String, Row> rows) {
    StringBuilder table = new StringBuilder();
    for (Row peer : rows.values()) {
      int dot = peer.benchmark.indexOf('.');
      String name = PEERS.get(peer.benchmark.substring(0, dot));
      Row ours =
          rows.get(
              "AccessTokenBenchmark"
                  + peer.benchmark.substring(dot)
                  + '|'
                  + peer.params
                  + '|'
                  + peer.threads);
      if (name == null
          || ours == null
          || ours.opsPerSecMedian == null
          || peer.opsPerSecMedian == null) {
        continue;
      }
      Row source =
          rows.get(
              "TokenSourceBenchmark"
                  + peer.benchmark.substring(dot)
                  + '|'
                  + peer.params
                  + '|'
                  + peer.threads);
      Double sourceOps = source == null ? null : source.opsPerSecMedian;
      table
          .append("| ")
          .append(peer.benchmark.substring(dot + 1))
          .append(" | ")
          .append(peer.params)
          .append(" | ")
          .append(peer.threads)
          .append(" | ")
          .append(name)
          .append(" | ")
          .append(rate(peer.opsPerSecMedian))
          .append(" | ")
          .append(rate(ours.opsPerSecMedian))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.2f", ours.opsPerSecMedian / peer.opsPerSecMedian))
          .append(" | ")
          .append(sourceOps == null ? "–" : rate(sourceOps))
          .append(" | ")
          .append(
              sourceOps == null
                  ? "–"
                  : String.format(Locale.ROOT, "%.2f", sourceOps / peer.opsPerSecMedian))
          .append(" |\n");
    }
    if (table.length() > 0) {
      md.append(
              "\nBeside the peers (median iterations; a ratio above 1: tokenbroker is faster; "
                  + "`TokenSource`: `broker.tokenSource(id)` kept by the application):\n\n")
          .append("| Benchmark | Parameters | Threads | Peer | Peer calls/s ")
          .append("| `accessToken(id)` calls/s | ÷ peer | `TokenSource` calls/s | ÷ peer |\n")
          .append("|---|---|--:|---|--:|--:|--:|--:|--:|\n")
          .append(table);
    }
  }

  private static String params(JsonNode params) {
    Map<String, String> sorted = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = params.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      sorted.put(e.getKey(), e.getValue().asText());
    }
    List<String> parts = new ArrayList<>();
    sorted.forEach((k, v) -> parts.add(k + "=" + v));
    return parts.isEmpty() ? "–" : String.join(", ", parts);
  }

  /** {@code gc.alloc.rate.norm} (named {@code ·gc.alloc.rate.norm} by older JMH versions). */
  private static @Nullable Double allocation(JsonNode secondary) {
    Iterator<Map.Entry<String, JsonNode>> it = secondary.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().replace("·", "").equals("gc.alloc.rate.norm")) {
        return e.getValue().path("score").asDouble();
      }
    }
    return null;
  }

  private static double opsPerSecond(double score, String unit) {
    // "ops/s", "ops/ms", "ops/us", "ops/ns"
    return score / secondsIn(unit.substring(unit.indexOf('/') + 1));
  }

  private static double nanosPerOp(double score, String unit) {
    // "s/op", "ms/op", "us/op", "ns/op"
    return score * secondsIn(unit.substring(0, unit.indexOf('/'))) * 1e9;
  }

  private static double secondsIn(String unit) {
    switch (unit) {
      case "s":
        return 1;
      case "ms":
        return 1e-3;
      case "us":
        return 1e-6;
      case "ns":
        return 1e-9;
      case "min":
        return 60;
      default:
        throw new IllegalArgumentException("unknown JMH time unit: " + unit);
    }
  }

  private static String rate(@Nullable Double perSecond) {
    if (perSecond == null) {
      return "–";
    }
    if (perSecond >= 1e6) {
      return String.format(Locale.ROOT, "%.1f M/s", perSecond / 1e6);
    }
    if (perSecond >= 1e3) {
      return String.format(Locale.ROOT, "%.1f k/s", perSecond / 1e3);
    }
    return String.format(Locale.ROOT, "%.1f /s", perSecond);
  }

  private static String time(@Nullable Double nanos) {
    if (nanos == null) {
      return "–";
    }
    if (nanos >= 10_000) {
      return String.format(Locale.ROOT, "%.1f µs", nanos / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f ns", nanos);
  }
}
