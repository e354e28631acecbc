package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.cluster.ClusterScenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Issue 8's cluster comparison: the testkit's {@link ClusterScenario} (3 broker JVMs × 32 threads
 * sharing one store against a rotating-refresh-token emulator with 1-second access tokens) on the
 * file store, PostgreSQL and Redis in turn, and the same load on a hand-written client that shares
 * a plain {@code tokens.json} ({@link NaiveClusterChild}). PostgreSQL and Redis are real servers
 * started here from Maven artifacts, on loopback.
 *
 * <p>Usage: {@code ClusterReport OUT.md [--quick]}. Writes a Markdown section to {@code OUT.md} and
 * the raw counts to {@code OUT.json} (the same name, {@code .json}); {@code --quick} runs 4 renewal
 * periods instead of {@value ClusterScenario#RENEWALS}. Progress goes to standard output. Counts
 * only: nothing here is a timing, and nothing is asserted (the store modules' cluster tests assert
 * the broker's promises on the same scenario).
 */
public final class ClusterReport {
  static final int QUICK_PERIODS = 4;

  private ClusterReport() {}

  /**
   * One row of the table.
   *
   * @param store what shared the tokens
   * @param calls token requests of the callers that returned a token
   * @param expiries tokens of the renewal chain that became due before the deadline
   * @param refreshRequests {@code refresh_token} requests the emulator processed
   * @param storeVersions how far the store's version moved (the broker's stores only)
   * @param runMillis wall time of the whole run, JVM start-up included
   * @param errorKinds caller errors by kind
   * @param requestsByExpiry refresh requests sent for each expiry, in order (the naive client only:
   *     the broker's children do not report their requests)
   * @param problems other lines the JVMs printed (the broker's caller errors, scrubbed)
   */
  record Row(
      String store,
      int processes,
      int threads,
      long calls,
      long callerErrors,
      long expiries,
      long refreshRequests,
      long tokenRequests,
      long invalidGrantAnswers,
      long durationMillis,
      @Nullable Long storeVersions,
      long runMillis,
      Map<String, Long> errorKinds,
      List<Long> requestsByExpiry,
      List<String> problems) {

    static Row of(String store, ClusterScenario.Result r, long runMillis) {
      return new Row(
          store,
          r.processes(),
          r.threads(),
          r.calls(),
          r.callerErrors(),
          r.expiries(),
          r.refreshRequests(),
          r.tokenRequests(),
          r.invalidGrantAnswers(),
          r.durationMillis(),
          r.storeVersions(),
          runMillis,
          Map.of(),
          List.of(),
          r.problems().stream().limit(5).toList());
    }

    double requestsPerExpiry() {
      return expiries == 0 ? Double.NaN : (double) refreshRequests / expiries;
    }
  }

  public static void main(String[] args) throws Exception {
    @Nullable Path out = null;
    boolean quick = false;
    for (String a : args) {
      if (a.equals("--quick")) {
        quick = true;
      } else if (out == null && !a.startsWith("--")) {
        out = Path.of(a);
      } else {
        usage();
      }
    }
    if (out == null) {
      usage();
      return;
    }
    int periods = quick ? QUICK_PERIODS : ClusterScenario.RENEWALS;
    String started = Instant.now().toString();
    long t0 = System.nanoTime();
    List<Row> rows = new ArrayList<>();

    rows.add(fileStore(periods));
    try (EmbeddedServers.Server pg = EmbeddedServers.postgres()) {
      rows.add(
          measure("tokenbroker, PostgreSQL", Map.of("type", "jdbc", "url", pg.url()), periods));
    }
    try (EmbeddedServers.Server redis = EmbeddedServers.redis()) {
      rows.add(measure("tokenbroker, Redis", Map.of("type", "redis", "uri", redis.url()), periods));
    }
    rows.add(naive(periods));
    long totalMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    String markdown = markdown(rows, periods, quick);
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(out, markdown);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("report", "cluster");
    json.put("started", started);
    json.put("quick", quick);
    json.put("periods", periods);
    json.put("periodMillis", ClusterScenario.PERIOD_MILLIS);
    json.put("accessTokenLifetimeMillis", ClusterScenario.LIFETIME.toMillis());
    json.put("totalMillis", totalMillis);
    json.put("rows", rows);
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(jsonPath(out).toFile(), json);
    System.out.print(markdown);
    System.out.printf("cluster report: %.1f s in all%n", totalMillis / 1000.0);
  }

  private static void usage() {
    System.err.println("usage: ClusterReport OUT.md [--quick]");
    System.exit(2);
  }

  static Path jsonPath(Path markdown) {
    String name = markdown.getFileName().toString();
    String base = name.endsWith(".md") ? name.substring(0, name.length() - 3) : name;
    return markdown.resolveSibling(base + ".json");
  }

  private static Row fileStore(int periods) throws Exception {
    Path dir = Files.createTempDirectory("tokenbroker-cluster");
    try {
      return measure(
          "tokenbroker, file store", Map.of("type", "file", "path", dir.toString()), periods);
    } finally {
      deleteTree(dir);
    }
  }

  private static Row measure(String store, Map<String, String> settings, int periods)
      throws Exception {
    System.out.println("== " + store);
    long t0 = System.nanoTime();
    ClusterScenario.Result r = ClusterScenario.measure(settings, periods);
    return Row.of(store, r, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  /**
   * The contrast: {@link NaiveClusterChild} in as many JVMs and threads as the scenario, sharing
   * one {@code tokens.json}, against the same emulator settings, seeded and timed the same way.
   */
  static Row naive(int periods) throws Exception {
    String store = "naive tokens.json, no locks";
    System.out.println("== " + store);
    long t0 = System.nanoTime();
    Path dir = Files.createTempDirectory("tokenbroker-naive");
    Path tokens = dir.resolve("tokens.json");
    List<ChildJvm> children = new ArrayList<>();
    try (OAuth2Emulator emulator =
        new OAuth2Emulator(Clock.systemUTC())
            .registerClient(
                NaiveClusterChild.CLIENT, NaiveClusterChild.SECRET, NaiveClusterChild.REDIRECT)
            .accessTokenLifetime(ClusterScenario.LIFETIME)
            .start()) {
      for (int p = 0; p < ClusterScenario.PROCESSES; p++) {
        children.add(NaiveClusterChild.start(emulator.baseUrl(), ClusterScenario.THREADS, tokens));
      }
      for (ChildJvm child : children) {
        child.await("READY", 120);
      }
      long start = System.currentTimeMillis();
      TokenSet seeded = emulator.issueTokens(NaiveClusterChild.CLIENT);
      NaiveClusterChild.write(
          tokens,
          seeded.accessToken(),
          requireNonNull(seeded.refreshToken()),
          seeded.expiresAt().toEpochMilli());
      long deadline =
          start + periods * ClusterScenario.PERIOD_MILLIS + ClusterScenario.PERIOD_MILLIS / 2;
      for (ChildJvm child : children) {
        child.send("GO " + deadline);
      }

      List<Long> refreshedAt = new ArrayList<>();
      List<Long> attempts = new ArrayList<>();
      Map<String, Long> errorKinds = new TreeMap<>();
      List<String> problems = new ArrayList<>();
      long calls = 0;
      long errors = 0;
      for (ChildJvm child : children) {
        String line;
        while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
          if (line.startsWith("REFRESHED ")) {
            refreshedAt.add(Long.parseLong(line.substring(10)));
          } else if (line.startsWith("ATTEMPT ")) {
            attempts.add(Long.parseLong(line.substring(8)));
          } else if (line.startsWith("ERRORS ")) {
            String[] parts = line.split(" ", 3);
            errorKinds.merge(parts[2], Long.parseLong(parts[1]), Long::sum);
          } else if (line.startsWith("DONE ")) {
            String[] parts = line.split(" ");
            calls += Long.parseLong(parts[1]);
            errors += Long.parseLong(parts[2]);
          } else {
            problems.add(line);
          }
        }
        if (child.waitFor(30) != 0) {
          problems.add("a naive JVM exited abnormally");
        }
      }
      refreshedAt.sort(null);
      List<Long> chain = new ArrayList<>();
      chain.add(seeded.issuedAt().toEpochMilli());
      chain.addAll(refreshedAt);
      long expiries = ClusterScenario.expiries(chain, deadline);
      long refreshes = emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN);
      System.out.printf(
          "%d calls; %d expiries in %d ms; %d refresh requests; %d invalid_grant; errors %s%n",
          calls, expiries, deadline - start, refreshes, emulator.invalidGrantAnswers(), errorKinds);
      return new Row(
          store,
          ClusterScenario.PROCESSES,
          ClusterScenario.THREADS,
          calls,
          errors,
          expiries,
          refreshes,
          emulator.tokenRequests(),
          emulator.invalidGrantAnswers(),
          deadline - start,
          null,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          errorKinds,
          requestsByExpiry(chain, attempts, deadline),
          problems.stream().limit(5).toList());
    } finally {
      for (ChildJvm child : children) {
        child.close();
      }
      deleteTree(dir);
    }
  }

  /**
   * How many refresh requests each expiry drew: the requests sent from the moment a token of the
   * chain came due until the next one did (a request for a token that was already replaced, but not
   * yet written to the file, belongs to the expiry that started it).
   */
  static List<Long> requestsByExpiry(List<Long> chain, List<Long> attempts, long deadline) {
    List<Long> counts = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      long from = chain.get(i) + ClusterScenario.PERIOD_MILLIS;
      if (from > deadline) {
        break;
      }
      long to =
          i + 1 < chain.size() ? chain.get(i + 1) + ClusterScenario.PERIOD_MILLIS : Long.MAX_VALUE;
      counts.add(attempts.stream().filter(t -> t >= from && t < to).count());
    }
    return counts;
  }

  static String markdown(List<Row> rows, int periods, boolean quick) {
    StringBuilder md = new StringBuilder();
    md.append("### Cluster: 3 JVMs sharing one store").append(quick ? " (quick run)" : "");
    md.append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d JVMs × %d threads, each thread asking for the access token every 20 ms, share one"
                + " store against a local OAuth2 emulator that rotates refresh tokens and issues"
                + " %d ms access tokens, renewed %d ms before expiry (one expiry every %d ms),"
                + " for %.1f s (the testkit's `ClusterScenario`; PostgreSQL and Redis are real"
                + " servers on loopback). Expiries count every token of the renewal chain that"
                + " came due before the end; refresh requests and `invalid_grant` answers are the"
                + " emulator's own counts. The last row is the same load on a hand-written client"
                + " (`NaiveClusterChild`) that reads `tokens.json` on every call, refreshes when"
                + " the token is due and writes the file back, with no lock.%n%n",
            ClusterScenario.PROCESSES,
            ClusterScenario.THREADS,
            ClusterScenario.LIFETIME.toMillis(),
            ClusterScenario.LIFETIME.toMillis() - ClusterScenario.PERIOD_MILLIS,
            ClusterScenario.PERIOD_MILLIS,
            (periods * ClusterScenario.PERIOD_MILLIS + ClusterScenario.PERIOD_MILLIS / 2)
                / 1000.0));
    md.append(
        "| Store | Processes × threads | Calls | Expiries | Refresh requests"
            + " | Requests per expiry | `invalid_grant` | Caller errors |\n");
    md.append("|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for (Row r : rows) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d × %d | %,d | %d | %,d | %.2f | %,d | %,d |%n",
              r.store(),
              r.processes(),
              r.threads(),
              r.calls(),
              r.expiries(),
              r.refreshRequests(),
              r.requestsPerExpiry(),
              r.invalidGrantAnswers(),
              r.callerErrors()));
    }
    for (Row r : rows) {
      List<String> notes = new ArrayList<>();
      List<Long> byExpiry = r.requestsByExpiry();
      if (!byExpiry.isEmpty()) {
        List<Long> sorted = byExpiry.stream().sorted().toList();
        long most = sorted.get(sorted.size() - 1);
        notes.add(
            String.format(
                Locale.ROOT,
                "refresh requests per expiry: median %d, from %d to %d (the most at expiry %d of"
                    + " %d)",
                sorted.get(sorted.size() / 2),
                sorted.get(0),
                most,
                byExpiry.indexOf(most) + 1,
                byExpiry.size()));
      }
      if (!r.errorKinds().isEmpty()) {
        notes.add(
            "caller errors: "
                + String.join(
                    ", ",
                    r.errorKinds().entrySet().stream()
                        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                        .map(e -> String.format(Locale.ROOT, "%,d %s", e.getValue(), e.getKey()))
                        .toList()));
      }
      if (!notes.isEmpty()) {
        md.append("\n").append(r.store()).append(": ").append(String.join("; ", notes));
        md.append(".\n");
      }
    }
    return md.toString();
  }

  private static <T> T requireNonNull(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("the emulator issued no refresh token");
    }
    return value;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
