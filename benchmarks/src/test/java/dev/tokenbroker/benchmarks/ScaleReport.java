package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.auth.oauth2.UserCredentials;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.util.Multiset;

/**
 * Heap per connection and start-up time with many connections (issue 8, "Scale"), for this library
 * and its peers, each contender measured in a child JVM of its own with the same class path.
 *
 * <p>In each child ({@code -Xmx3g -XX:+UseSerialGC}, so compressed references and 12-byte object
 * headers as in most deployments):
 *
 * <ol>
 *   <li><b>Start-up, first in the JVM</b>: the wall time from nothing to every connection served
 *       once — building the connections and their 64-character tokens, then one token per
 *       connection — with class loading and a cold JIT, as an application starting.
 *   <li><b>Start-up, warm</b>: the same again twice, dropping the result each time.
 *   <li><b>Heap per connection</b>: used heap after repeated {@code System.gc()} (until it stops
 *       moving) before and after building and strongly holding the contender with every connection
 *       served once, divided by the number of connections. Everything the contender keeps counts,
 *       including one array slot per connection for what the application holds to name it (a {@code
 *       ConnectionId}, a principal name, a {@code UserCredentials}).
 *   <li><b>JOL cross-check</b>: {@link GraphLayout} of the held contender minus that of an empty
 *       one, divided by the number of connections; and its per-class histogram, which shows where
 *       the bytes go.
 * </ol>
 *
 * Usage: {@code ScaleReport [--quick] [--jvms N] OUT.md}: 100,000 connections ({@code --quick}:
 * 2,000), one child JVM per contender ({@code --jvms}: N, and medians; the heap figures repeat to
 * the byte, only the start-up times vary). Writes the Markdown section to {@code OUT.md} and the
 * raw numbers to {@code OUT.json} beside it. Timings are reported as medians, never asserted.
 */
public final class ScaleReport {
  /**
   * The child JVMs' options. {@code MarkSweepDeadRatio=0}: by default the serial collector's full
   * collections may leave up to 5% of the old generation as uncompacted dead objects, which made
   * the used-heap figures differ from JOL's by up to 130 B per connection; with 0 they agree to the
   * byte. {@code allowAttachSelf}: lets JOL attach its agent on JDK 17 to read the VM's object
   * model.
   */
  static final List<String> CHILD_JVM_OPTIONS =
      List.of(
          "-Xmx3g",
          "-XX:+UseSerialGC",
          "-XX:MarkSweepDeadRatio=0",
          "-Djdk.attach.allowAttachSelf=true",
          // The broker's parts hold lambdas (hidden classes), whose field offsets JOL can only
          // find this way.
          "-Djol.magicFieldOffset=true");

  /** JOL walks every object (slow): it counts a separate, smaller set of connections. */
  private static final int JOL_CONNECTIONS = 10_000;

  private static final String RESULT_PREFIX = "SCALE-RESULT ";
  private static final int WARM_RUNS = 3;

  /** The figures issue 8 quotes for the peers (64-character tokens), in bytes per connection. */
  private static final Map<String, Integer> ISSUE_FIGURES =
      Map.of("google-user", 588, "spring-refresh", 478, "spring-client-credentials", 350);

  private static final ObjectMapper JSON = new ObjectMapper();

  private ScaleReport() {}

  /** What one contender built: its root (held strongly while measuring) and behaviour counts. */
  static final class Built {
    final Object root;
    final int served;
    final long tokenRequests;

    Built(Object root, int served, long tokenRequests) {
      this.root = root;
      this.served = served;
      this.tokenRequests = tokenRequests;
    }
  }

  /** One library set up with {@code n} connections, each served once. */
  enum Contender {
    TOKENBROKER_REFRESH(
        "tokenbroker-refresh",
        "tokenbroker, refresh token (broker + in-memory store)",
        "authorization-code connections whose access + refresh tokens sit in the default"
            + " InMemoryTokenStore; one accessToken each") {
      @Override
      Built build(int n) {
        return tokenbroker(n, true, true);
      }
    },
    TOKENBROKER_REFRESH_BROKER_ONLY(
        "tokenbroker-refresh-broker-only",
        "tokenbroker, refresh token (broker alone)",
        "as above, with a store that keeps nothing on the heap (each load makes the set anew)") {
      @Override
      Built build(int n) {
        return tokenbroker(n, true, false);
      }
    },
    TOKENBROKER_CLIENT_CREDENTIALS(
        "tokenbroker-client-credentials",
        "tokenbroker, client credentials (broker + in-memory store)",
        "LocalTokenProvider connections, default in-memory store; the first accessToken obtains") {
      @Override
      Built build(int n) {
        return tokenbroker(n, false, true);
      }
    },
    TOKENBROKER_CLIENT_CREDENTIALS_BROKER_ONLY(
        "tokenbroker-client-credentials-broker-only",
        "tokenbroker, client credentials (broker alone)",
        "as above, with a store that keeps nothing on the heap") {
      @Override
      Built build(int n) {
        return tokenbroker(n, false, false);
      }
    },
    SPRING_REFRESH(
        "spring-refresh",
        "Spring Security, refresh token",
        "one authorization-code registration, n principals' OAuth2AuthorizedClients (access +"
            + " refresh token) in InMemoryOAuth2AuthorizedClientService; one authorize each") {
      @Override
      Built build(int n) {
        return spring(n, true);
      }
    },
    SPRING_CLIENT_CREDENTIALS(
        "spring-client-credentials",
        "Spring Security, client credentials",
        "one client-credentials registration, n principals' OAuth2AuthorizedClients (access"
            + " token) in InMemoryOAuth2AuthorizedClientService; one authorize each") {
      @Override
      Built build(int n) {
        return spring(n, false);
      }
    },
    GOOGLE_USER(
        "google-user",
        "google-auth-library-java, UserCredentials",
        "n UserCredentials (own refresh token and AccessToken, shared client id and secret) in"
            + " an array; one getRequestMetadata each") {
      @Override
      Built build(int n) throws IOException {
        GooglePeer google = new GooglePeer();
        UserCredentials[] credentials = new UserCredentials[n];
        for (int i = 0; i < n; i++) {
          credentials[i] = google.credentials();
        }
        int served = 0;
        for (UserCredentials c : credentials) {
          List<String> header = c.getRequestMetadata(GooglePeer.API).get("Authorization");
          served += header != null && header.get(0).length() == 7 + 64 ? 1 : 0;
        }
        return new Built(new Object[] {google, credentials}, served, google.tokenRequests());
      }
    };

    final String key;
    final String title;
    final String setUp;

    Contender(String key, String title, String setUp) {
      this.key = key;
      this.title = title;
      this.setUp = setUp;
    }

    abstract Built build(int n) throws IOException;

    /** Token requests the first round of calls must make: a first grant per client-credentials. */
    long expectedTokenRequests(int n) {
      return this == TOKENBROKER_CLIENT_CREDENTIALS
              || this == TOKENBROKER_CLIENT_CREDENTIALS_BROKER_ONLY
          ? n
          : 0;
    }

    static Contender byKey(String key) {
      for (Contender c : values()) {
        if (c.key.equals(key)) {
          return c;
        }
      }
      throw new IllegalArgumentException("unknown contender " + key);
    }
  }

  /**
   * The renewal threads every tokenbroker contender shares, started before anything is measured: a
   * broker's own pool starts its threads at the first renewal, so JOL's walk would count every
   * thread (and what a thread references) as the held broker's and not the empty one's.
   */
  private static final ThreadPoolExecutor RENEWALS =
      new ThreadPoolExecutor(
          2,
          2,
          0,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          r -> {
            Thread t = new Thread(r, "scale-report-renewals");
            t.setDaemon(true);
            return t;
          });

  static {
    RENEWALS.prestartAllCoreThreads();
  }

  private static Built tokenbroker(int n, boolean refreshTokens, boolean inMemoryStore) {
    Clock clock = Clock.systemUTC();
    LocalRefreshProvider refreshing = new LocalRefreshProvider(clock);
    LocalTokenProvider obtaining = new LocalTokenProvider(clock);
    TokenStore store;
    if (inMemoryStore) {
      store = new InMemoryTokenStore(clock);
    } else if (refreshTokens) {
      store = new DiscardingTokenStore(() -> refreshing.grant().withVersion(1));
    } else {
      store = new DiscardingTokenStore(() -> null);
    }
    TokenBrokerBuilder builder =
        TokenBroker.builder().withoutKeepAlive().executor(RENEWALS).clock(clock).store(store);
    ConnectionId[] ids = new ConnectionId[n];
    for (int i = 0; i < n; i++) {
      ids[i] = ConnectionId.of(LocalTokenProvider.NAME, "account-" + i);
      if (refreshTokens) {
        if (inMemoryStore) {
          store.put(ids[i], refreshing.grant()); // authorized earlier: in the store
        }
        builder.connection(ids[i], refreshing);
      } else {
        builder.connection(ids[i], obtaining);
      }
    }
    TokenBroker broker = builder.build();
    int served = 0;
    for (ConnectionId id : ids) {
      served += broker.accessToken(id).length() == 64 ? 1 : 0;
    }
    long requests = refreshing.refreshed() + obtaining.obtained();
    return new Built(new Object[] {broker, store, ids}, served, requests);
  }

  private static Built spring(int n, boolean refreshTokens) {
    SpringPeer spring = new SpringPeer(refreshTokens);
    String[] principals = new String[n];
    for (int i = 0; i < n; i++) {
      principals[i] = "account-" + i;
      spring.save(principals[i]);
    }
    int served = 0;
    for (String principal : principals) {
      // A first use builds its request, as an application does before it keeps one.
      served += spring.accessToken(SpringPeer.request(principal)).length() == 64 ? 1 : 0;
    }
    return new Built(new Object[] {spring, principals}, served, spring.tokenRequests());
  }

  // ------------------------------------------------------------------------------------------
  // The parent: one child JVM per contender and run, then the report.

  public static void main(String[] args) throws Exception {
    if (args.length >= 3 && args[0].equals("--child")) {
      child(Contender.byKey(args[1]), Integer.parseInt(args[2]), Boolean.parseBoolean(args[3]));
      return;
    }
    boolean quick = false;
    int jvms = 1;
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--quick")) {
        quick = true;
      } else if (args[i].equals("--jvms") && i + 1 < args.length) {
        jvms = Integer.parseInt(args[++i]);
      } else if (out == null && !args[i].startsWith("--")) {
        out = Path.of(args[i]);
      } else {
        out = null;
        break;
      }
    }
    if (out == null || jvms < 1) {
      System.err.println("usage: ScaleReport [--quick] [--jvms N] OUT.md");
      System.exit(2);
      return;
    }
    ObjectNode report = run(quick ? 2_000 : 100_000, jvms, quick);
    Path json =
        out.resolveSibling(out.getFileName().toString().replaceFirst("\\.md$", "") + ".json");
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report);
    Files.writeString(out, markdown(report));
    System.out.println("wrote " + out + " and " + json);
  }

  static ObjectNode run(int n, int jvms, boolean quick) throws IOException, InterruptedException {
    ObjectNode report = JSON.createObjectNode();
    report.put("connections", n);
    report.put("jvmsPerContender", jvms);
    report.put("jvmOptions", String.join(" ", CHILD_JVM_OPTIONS));
    report.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
    ArrayNode contenders = report.putArray("contenders");
    for (Contender c : Contender.values()) {
      ObjectNode entry = contenders.addObject();
      entry.put("key", c.key);
      entry.put("title", c.title);
      entry.put("setUp", c.setUp);
      entry.put("expectedTokenRequests", c.expectedTokenRequests(n));
      ArrayNode runs = entry.putArray("runs");
      for (int r = 0; r < jvms; r++) {
        System.out.printf(
            Locale.ROOT, "== %s, %,d connections, JVM %d of %d%n", c.key, n, r + 1, jvms);
        // JOL takes seconds (its agent attaches): in the first JVM only, and with --quick only
        // where the report shows its histogram.
        boolean jol = r == 0 && (!quick || c == Contender.TOKENBROKER_REFRESH);
        runs.add(runChild(c, n, jol));
      }
      entry.put("bytesPerConnection", median(runs, "bytesPerConnection"));
      entry.put("startupFirstMillis", median(runs, "startupFirstMillis"));
      entry.put("startupWarmMillis", median(runs, "startupWarmMillis"));
      JsonNode first = runs.get(0);
      entry.put("served", first.path("served").asInt());
      entry.put("tokenRequests", first.path("tokenRequests").asLong());
      entry.set("jolBytesPerConnection", first.path("jolBytesPerConnection"));
      entry.set("perClass", first.path("perClass"));
      ((ObjectNode) first).remove("perClass");
    }
    return report;
  }

  private static JsonNode runChild(Contender c, int n, boolean jol)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(CHILD_JVM_OPTIONS);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ScaleReport.class.getName());
    command.add("--child");
    command.add(c.key);
    command.add(Integer.toString(n));
    command.add(Boolean.toString(jol));
    Process child =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    JsonNode result = null;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.startsWith(RESULT_PREFIX)) {
          result = JSON.readTree(line.substring(RESULT_PREFIX.length()));
        } else {
          System.out.println("   " + line);
        }
      }
    }
    int exit = child.waitFor();
    if (exit != 0 || result == null) {
      throw new IllegalStateException(c.key + ": child JVM failed (exit " + exit + ")");
    }
    return result;
  }

  private static double median(ArrayNode runs, String field) {
    double[] values = new double[runs.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = runs.get(i).path(field).asDouble();
    }
    return median(values);
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  // ------------------------------------------------------------------------------------------
  // The child: one contender, measured as the class comment says.

  private static void child(Contender c, int n, boolean jol) throws IOException {
    long start = System.nanoTime();
    Built built = c.build(n);
    double firstMillis = (System.nanoTime() - start) / 1e6;
    int served = built.served;
    long tokenRequests = built.tokenRequests;
    System.out.printf(Locale.ROOT, "first in JVM: %.0f ms%n", firstMillis);
    built = null; // dropped: the warm runs and the heap measurement start from an empty heap

    double[] warm = new double[WARM_RUNS];
    for (int i = 0; i < WARM_RUNS; i++) {
      start = System.nanoTime();
      Built again = c.build(n);
      warm[i] = (System.nanoTime() - start) / 1e6;
      Reference.reachabilityFence(again);
    }
    System.out.printf(Locale.ROOT, "warm: %s ms%n", Arrays.toString(warm));

    long before = usedHeapAfterGc();
    Built held = c.build(n);
    long after = usedHeapAfterGc();
    double bytesPerConnection = (after - before) / (double) n;
    System.out.printf(Locale.ROOT, "heap: %.1f B per connection%n", bytesPerConnection);

    ObjectNode result = JSON.createObjectNode();
    result.put("connections", n);
    result.put("served", served);
    result.put("tokenRequests", tokenRequests);
    result.put("startupFirstMillis", firstMillis);
    result.put("startupWarmMillis", median(warm));
    result.put("heapBefore", before);
    result.put("heapAfter", after);
    result.put("bytesPerConnection", bytesPerConnection);
    Reference.reachabilityFence(held);
    held = null;
    if (jol) {
      jol(c, Math.min(n, JOL_CONNECTIONS), result);
    }
    System.out.println(RESULT_PREFIX + JSON.writeValueAsString(result));
  }

  /**
   * JOL: a contender with {@code n} connections minus an empty one, in total and per class. The
   * per-connection objects are counted exactly; hash tables, sized by powers of two, weigh a few
   * bytes per connection less or more than with the heap measurement's number of connections.
   */
  private static void jol(Contender c, int n, ObjectNode result) throws IOException {
    try {
      Built empty = c.build(0);
      Built held = c.build(n);
      result.put("jolConnections", n);
      GraphLayout emptyLayout = GraphLayout.parseInstance(empty.root);
      GraphLayout heldLayout = GraphLayout.parseInstance(held.root);
      double perConnection = (heldLayout.totalSize() - emptyLayout.totalSize()) / (double) n;
      result.put("jolBytesPerConnection", perConnection);
      System.out.printf(Locale.ROOT, "JOL: %.1f B per connection%n", perConnection);
      Map<String, long[]> perClass = new TreeMap<>();
      addClasses(perClass, heldLayout, 1);
      addClasses(perClass, emptyLayout, -1);
      ArrayNode classes = result.putArray("perClass");
      perClass.entrySet().stream()
          .filter(e -> e.getValue()[1] != 0)
          .sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> -e.getValue()[1]))
          .forEach(
              e -> {
                ObjectNode row = classes.addObject();
                row.put("class", e.getKey());
                row.put("objectsPerConnection", e.getValue()[0] / (double) n);
                row.put("bytesPerConnection", e.getValue()[1] / (double) n);
              });
      Reference.reachabilityFence(empty);
      Reference.reachabilityFence(held);
    } catch (RuntimeException | LinkageError e) {
      // JOL needs its agent or Unsafe access: if it cannot run here, say so instead of failing.
      result.put("jolError", e.toString());
      System.out.println("JOL failed: " + e);
    }
  }

  private static void addClasses(Map<String, long[]> perClass, GraphLayout layout, int sign) {
    Multiset<Class<?>> counts = layout.getClassCounts();
    Multiset<Class<?>> sizes = layout.getClassSizes();
    for (Class<?> k : layout.getClasses()) {
      long[] row = perClass.computeIfAbsent(k.getName(), x -> new long[2]);
      row[0] += sign * counts.count(k);
      row[1] += sign * sizes.count(k);
    }
  }

  /** Used heap after full collections, repeated until the figure stops moving (at most 10). */
  static long usedHeapAfterGc() {
    long previous = -1;
    for (int i = 0; i < 10; i++) {
      System.gc();
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (used == previous) {
        return used;
      }
      previous = used;
    }
    return previous;
  }

  // ------------------------------------------------------------------------------------------
  // The report.

  static String markdown(JsonNode report) {
    int n = report.path("connections").asInt();
    Map<String, JsonNode> byKey = new TreeMap<>();
    report.path("contenders").forEach(c -> byKey.put(c.path("key").asText(), c));
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "### Scale: %,d connections%n%n", n));
    md.append(
        String.format(
            Locale.ROOT,
            "Each contender in its own JVM (`%s`, same class path; %d JVM%s per contender%s),"
                + " 64-character tokens, distinct per connection. **Heap per connection**:"
                + " used heap after repeated `System.gc()` before and after building and holding"
                + " the contender with every connection served once, divided by %,d; JOL:"
                + " `GraphLayout` of the contender with %,d connections minus an empty one, in a"
                + " separate build. **Start-up**: from"
                + " nothing to every connection served once (building the connections and tokens,"
                + " then one token each), first in a fresh JVM (class loading, cold JIT) and warm"
                + " (median of %d runs in the same JVM).%n%n",
            report.path("jvmOptions").asText(),
            report.path("jvmsPerContender").asInt(),
            report.path("jvmsPerContender").asInt() == 1 ? "" : "s",
            report.path("jvmsPerContender").asInt() == 1 ? "" : ", medians",
            n,
            Math.min(n, JOL_CONNECTIONS),
            WARM_RUNS));
    md.append(
        "| Contender | Heap per connection | JOL | Issue 8 figure | Start-up, first in JVM"
            + " | Start-up, warm | Token requests (expected) |\n");
    md.append("|---|--:|--:|--:|--:|--:|--:|\n");
    for (JsonNode c : report.path("contenders")) {
      Integer issue = ISSUE_FIGURES.get(c.path("key").asText());
      md.append("| ")
          .append(c.path("title").asText())
          .append(" | ")
          .append(bytes(c.path("bytesPerConnection")))
          .append(" | ")
          .append(bytes(c.path("jolBytesPerConnection")))
          .append(" | ")
          .append(issue == null ? "–" : issue + " B")
          .append(" | ")
          .append(millis(c.path("startupFirstMillis").asDouble()))
          .append(" | ")
          .append(millis(c.path("startupWarmMillis").asDouble()))
          .append(" | ")
          .append(
              String.format(
                  Locale.ROOT,
                  "%,d (%,d)",
                  c.path("tokenRequests").asLong(),
                  c.path("expectedTokenRequests").asLong()))
          .append(" |\n");
    }
    md.append(
        "\nToken requests: calls that reached a token endpoint while serving every connection"
            + " once. tokenbroker's client-credentials connections obtain their first token then"
            + " (from an in-process provider); the peers' tokens are constructed directly as"
            + " though fetched earlier, and tokenbroker's refresh-token sets sit in its store.\n\n");
    verdict(md, byKey, "tokenbroker-refresh", "spring-refresh", "google-user");
    verdict(md, byKey, "tokenbroker-client-credentials", "spring-client-credentials");
    JsonNode ours = byKey.get("tokenbroker-refresh");
    if (ours != null && ours.path("perClass").isArray() && ours.path("perClass").size() > 0) {
      md.append("\nWhere tokenbroker's bytes go (refresh token, broker + in-memory store; JOL, per")
          .append(" connection):\n\n| Class | Objects | Bytes |\n|---|--:|--:|\n");
      for (JsonNode row : ours.path("perClass")) {
        if (Math.abs(row.path("bytesPerConnection").asDouble()) < 0.5) {
          continue;
        }
        md.append(
            String.format(
                Locale.ROOT,
                "| `%s` | %.2f | %.1f B |%n",
                row.path("class").asText(),
                row.path("objectsPerConnection").asDouble(),
                row.path("bytesPerConnection").asDouble()));
      }
    }
    return md.toString();
  }

  private static void verdict(
      StringBuilder md, Map<String, JsonNode> byKey, String oursKey, String... peerKeys) {
    JsonNode ours = byKey.get(oursKey);
    if (ours == null) {
      return;
    }
    double mine = ours.path("bytesPerConnection").asDouble();
    List<String> parts = new ArrayList<>();
    boolean lessThanAll = true;
    for (String key : peerKeys) {
      JsonNode peer = byKey.get(key);
      if (peer == null) {
        continue;
      }
      double theirs = peer.path("bytesPerConnection").asDouble();
      lessThanAll &= mine < theirs;
      parts.add(
          String.format(
              Locale.ROOT,
              "%s %.0f B (tokenbroker ÷ peer: %.2f)",
              peer.path("title").asText(),
              theirs,
              mine / theirs));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "- %s: %.0f B per connection vs %s — %s.%n",
            ours.path("title").asText(),
            mine,
            String.join(", ", parts),
            lessThanAll ? "less than every peer (target met)" : "not less than every peer"));
  }

  private static String bytes(JsonNode value) {
    return value.isNumber() ? String.format(Locale.ROOT, "%.0f B", value.asDouble()) : "–";
  }

  private static String millis(double value) {
    return value >= 10_000
        ? String.format(Locale.ROOT, "%.1f s", value / 1000)
        : String.format(Locale.ROOT, "%.0f ms", value);
  }

  static @Nullable JsonNode contender(JsonNode report, String key) {
    for (JsonNode c : report.path("contenders")) {
      if (c.path("key").asText().equals(key)) {
        return c;
      }
    }
    return null;
  }
}
