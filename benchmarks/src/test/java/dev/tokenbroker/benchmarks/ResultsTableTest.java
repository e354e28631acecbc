package dev.tokenbroker.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ResultsTableTest {
  private final ObjectMapper json = new ObjectMapper();

  private JsonNode results(String text) throws Exception {
    return json.readTree(text.replace('\'', '"'));
  }

  @Test
  void throughputAndSampleRunsOfOneConfigurationShareARow() throws Exception {
    String table =
        ResultsTable.markdown(
            results(
                "[{'benchmark':'dev.tokenbroker.benchmarks.AccessTokenBenchmark.anyConnection',"
                    + "'mode':'thrpt','threads':1,'params':{'connections':'100000'},"
                    + "'primaryMetric':{'score':3.1e7,'scoreUnit':'ops/s','scorePercentiles':"
                    + "{'0.0':2.9e7,'50.0':3.2e7,'100.0':3.3e7}},"
                    + "'secondaryMetrics':{'gc.alloc.rate.norm':{'score':0.0001,'scoreUnit':'B/op'}}},"
                    + "{'benchmark':'dev.tokenbroker.benchmarks.AccessTokenBenchmark.anyConnection',"
                    + "'mode':'sample','threads':1,'params':{'connections':'100000'},"
                    + "'primaryMetric':{'score':40,'scoreUnit':'ns/op','scorePercentiles':"
                    + "{'50.0':30,'99.0':71}},"
                    + "'secondaryMetrics':{'gc.alloc.rate.norm':{'score':0.5,'scoreUnit':'B/op'}}}]"));

    assertThat(table)
        .contains(
            "| AccessTokenBenchmark.anyConnection | connections=100000 | 1 "
                + "| 32.0 M/s (29.0 M/s–33.0 M/s) | – | 30 ns | 71 ns | 0.0 B |")
        .contains("measured 32.0 M/s (met)");
    assertThat(table.lines().filter(l -> l.startsWith("| AccessToken"))).hasSize(1);
  }

  @Test
  void unitsAreNormalisedToOpsPerSecondAndNanoseconds() throws Exception {
    String table =
        ResultsTable.markdown(
            results(
                "[{'benchmark':'x.InterceptorBenchmark.httpWithFixedHeader','mode':'avgt',"
                    + "'threads':1,'params':{},'primaryMetric':{'score':81.5,'scoreUnit':'us/op',"
                    + "'scorePercentiles':{}},'secondaryMetrics':{}},"
                    + "{'benchmark':'x.AccessTokenBenchmark.anyConnection','mode':'thrpt',"
                    + "'threads':2,'params':{'connections':'100000'},'primaryMetric':{'score':1.5,"
                    + "'scoreUnit':'ops/us','scorePercentiles':"
                    + "{'0.0':1.25,'50.0':1.5,'100.0':1.75}},'secondaryMetrics':{}}]"));

    assertThat(table)
        .contains("| InterceptorBenchmark.httpWithFixedHeader | – | 1 | – | 81.5 µs | – | – | – |")
        .contains("| 1.5 M/s (1.3 M/s–1.8 M/s) |")
        .doesNotContain("Target"); // the target is for one thread only
  }

  @Test
  void peersAreSetBesideTheBrokerWithARatio() throws Exception {
    String table =
        ResultsTable.markdown(
            results(
                "["
                    + thrpt("x.AccessTokenBenchmark.sameConnection", "1", 3.0e7)
                    + ","
                    + thrpt("x.SpringSecurityBenchmark.sameConnection", "1", 6.0e6)
                    + ","
                    + thrpt("x.TokenSourceBenchmark.sameConnection", "1", 3.3e7)
                    + ","
                    + thrpt("x.GoogleAuthBenchmark.anyConnection", "100000", 3.0e6)
                    + ","
                    + thrpt("x.NaiveTokenFileBenchmark.sameConnection", "1", 1.5e5)
                    + "]"));

    assertThat(table)
        .contains(
            "| sameConnection | connections=1 | 1 | Spring Security `authorize` "
                + "| 6.0 M/s | 30.0 M/s | 5.00 | 33.0 M/s | 5.50 |")
        .contains(
            "| `tokens.json` read and parsed per call | 150.0 k/s | 30.0 M/s | 200.00 "
                + "| 33.0 M/s | 220.00 |")
        // No AccessTokenBenchmark.anyConnection row ran: nothing to set google-auth beside.
        .doesNotContain("| anyConnection | connections=100000 | 1 | google-auth");
  }

  private static String thrpt(String benchmark, String connections, double opsPerSecond) {
    return "{'benchmark':'"
        + benchmark
        + "','mode':'thrpt','threads':1,'params':{'connections':'"
        + connections
        + "'},'primaryMetric':{'score':"
        + opsPerSecond
        + ",'scoreUnit':'ops/s','scorePercentiles':{'0.0':"
        + opsPerSecond
        + ",'50.0':"
        + opsPerSecond
        + ",'100.0':"
        + opsPerSecond
        + "}},'secondaryMetrics':{}}";
  }

  @Test
  void aMissedTargetIsSaidPlainly() throws Exception {
    String table =
        ResultsTable.markdown(
            results(
                "[{'benchmark':'x.AccessTokenBenchmark.anyConnection','mode':'thrpt','threads':1,"
                    + "'params':{'connections':'100000'},'primaryMetric':{'score':1.5e6,"
                    + "'scoreUnit':'ops/s','scorePercentiles':"
                    + "{'0.0':1.4e6,'50.0':1.5e6,'100.0':1.6e6}},'secondaryMetrics':{}}]"));

    assertThat(table).contains("measured 1.5 M/s (not met)");
  }
}
