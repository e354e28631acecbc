package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.serve.ServeConfig;
import dev.tokenbroker.serve.TokenService;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code tokenbroker serve}'s latency for a warm token (issue 17, "Latency"): requests per second,
 * p50 and p99 of one caller asking for {@code /v1/connections/oauth2:bench/token?format=text} over
 * the Unix socket (one keep-alive connection; a new connection per request, as {@code curl} and the
 * README's Python do; keep-alive from 4 threads) and over loopback TCP with a bearer secret
 * (keep-alive; new connection per request) — against starting {@code tokenbroker token} (the CLI's
 * {@code -all.jar}, {@code java -jar}, a JVM per call) for a handful of calls.
 *
 * <p>The service runs in this JVM on a file store seeded with a valid token from {@code
 * OAuth2Emulator} on 127.0.0.1 (nothing is renewed while measuring: the report fails if the
 * emulator issues a token); the CLI uses the same store and emulator. The callers are plain Java
 * speaking HTTP/1.1 over JDK sockets, each answer's status checked. The access log goes to
 * slf4j-nop here (the benchmarks' binding), so its formatting is counted, its output is not.
 *
 * <p>Usage: {@code ServeLatencyReport [--quick] OUT.md} (from the repository root, where {@code
 * cli/target/tokenbroker-cli-*-all.jar} is looked for; without it the table says so). Writes the
 * Markdown section to {@code OUT.md} and the raw numbers to {@code OUT.json}. Nothing is asserted.
 */
public final class ServeLatencyReport {
  private static final ConnectionId ID = ConnectionId.parse("oauth2:bench");
  private static final String PATH = "/v1/connections/oauth2:bench/token?format=text";
  private static final String CLIENT_SECRET = "bench-client-secret-0123456789";

  private ServeLatencyReport() {}

  /** One caller's figures. */
  record Row(
      String caller,
      int threads,
      long requests,
      double perSecond,
      double p50Ms,
      double p99Ms,
      @Nullable String note) {}

  /** One way of asking: a fresh one per thread. */
  interface Caller extends Closeable {
    /** One request; the answer's status. */
    int call() throws IOException;
  }

  public static void main(String[] args) throws Exception {
    Path out = null;
    boolean quick = false;
    for (String a : args) {
      if (a.equals("--quick")) {
        quick = true;
      } else if (out == null && !a.startsWith("--")) {
        out = Path.of(a);
      }
    }
    if (out == null) {
      System.err.println("usage: ServeLatencyReport [--quick] OUT.md");
      System.exit(2);
    }
    long warmNanos = TimeUnit.MILLISECONDS.toNanos(quick ? 300 : 2000);
    long measureNanos = TimeUnit.MILLISECONDS.toNanos(quick ? 1000 : 5000);
    int cliCalls = quick ? 2 : 5;

    Path dir = Files.createTempDirectory("serve-latency");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    List<Row> rows = new ArrayList<>();
    Clock clock = Clock.systemUTC();
    try (OAuth2Emulator emulator =
        new OAuth2Emulator(clock).registerClient("app", "app-secret").start()) {
      try (FileTokenStore seed = FileTokenStore.builder(dir.resolve("tokens")).build()) {
        emulator.seed(seed, ID, "app");
      }
      Path secret = dir.resolve("bench.secret");
      Files.writeString(secret, CLIENT_SECRET + "\n");
      Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
      Path socket = dir.resolve("run").resolve("tb.sock");
      ServeConfig config =
          ServeConfig.builder()
              .socket(socket)
              .tcp("127.0.0.1", 0)
              .client("bench", secret, List.of("*"))
              .build();
      FileTokenStore store = FileTokenStore.builder(dir.resolve("tokens")).build();
      OAuth2TestProvider provider =
          OAuth2TestProvider.builder()
              .baseUrl(emulator.baseUrl())
              .client("app", "app-secret")
              .redirectUri("http://127.0.0.1:9/callback")
              .clock(clock)
              .build();
      long issuedBefore;
      try (TokenService service =
          TokenService.builder(config)
              .start(TokenBroker.builder().clock(clock).store(store).connection(ID, provider))) {
        int port = service.tcpPort();
        String expected = service.broker().accessToken(ID);
        issuedBefore = emulator.tokenRequests();
        String host = "Host: localhost\r\n";
        String bearer = "Authorization: Bearer " + CLIENT_SECRET + "\r\n";
        byte[] keepAlive = request(host);
        byte[] close = request(host + "Connection: close\r\n");
        byte[] tcpKeepAlive = request(host + bearer);
        byte[] tcpClose = request(host + bearer + "Connection: close\r\n");
        checkBody(() -> unix(socket), close, expected);
        checkBody(() -> tcp(port), tcpClose, expected);

        rows.add(
            measure(
                "Unix socket, one keep-alive connection",
                1,
                warmNanos,
                measureNanos,
                () -> persistent(unix(socket), keepAlive)));
        rows.add(
            measure(
                "Unix socket, a new connection per request (curl, the README's Python)",
                1,
                warmNanos,
                measureNanos,
                () -> perRequest(() -> unix(socket), close)));
        rows.add(
            measure(
                "Unix socket, keep-alive, 4 threads",
                4,
                warmNanos,
                measureNanos,
                () -> persistent(unix(socket), keepAlive)));
        rows.add(
            measure(
                "loopback TCP + bearer secret, one keep-alive connection",
                1,
                warmNanos,
                measureNanos,
                () -> persistent(tcp(port), tcpKeepAlive)));
        rows.add(
            measure(
                "loopback TCP + bearer secret, a new connection per request",
                1,
                warmNanos,
                measureNanos,
                () -> perRequest(() -> tcp(port), tcpClose)));
        if (emulator.tokenRequests() != issuedBefore) {
          throw new IllegalStateException("the token was renewed while measuring");
        }
      }
      rows.add(cli(dir, emulator, cliCalls));
    }
    write(out, rows, quick);
  }

  private static byte[] request(String headers) {
    return ("GET " + PATH + " HTTP/1.1\r\n" + headers + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  // Transports

  /** A connected stream pair. */
  record Conn(InputStream in, OutputStream out, Closeable channel) implements Closeable {
    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  interface Opener {
    Conn open() throws IOException;
  }

  static Conn unix(Path socket) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
    return new Conn(
        new BufferedInputStream(Channels.newInputStream(ch), 8192),
        Channels.newOutputStream(ch),
        ch);
  }

  static Conn tcp(int port) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    s.setTcpNoDelay(true);
    return new Conn(new BufferedInputStream(s.getInputStream(), 8192), s.getOutputStream(), s);
  }

  static Caller persistent(Conn conn, byte[] request) {
    return new Caller() {
      @Override
      public int call() throws IOException {
        conn.out().write(request);
        conn.out().flush();
        return readResponse(conn.in(), null);
      }

      @Override
      public void close() throws IOException {
        conn.close();
      }
    };
  }

  static Caller perRequest(Opener opener, byte[] request) {
    return new Caller() {
      @Override
      public int call() throws IOException {
        try (Conn conn = opener.open()) {
          conn.out().write(request);
          conn.out().flush();
          return readResponse(conn.in(), null);
        }
      }

      @Override
      public void close() {}
    };
  }

  private static void checkBody(Opener opener, byte[] request, String expected) throws IOException {
    try (Conn conn = opener.open()) {
      conn.out().write(request);
      conn.out().flush();
      StringBuilder body = new StringBuilder();
      int status = readResponse(conn.in(), body);
      if (status != 200 || !body.toString().equals(expected + "\n")) {
        throw new IllegalStateException("unexpected answer: status " + status);
      }
    }
  }

  /** Reads one HTTP/1.1 response with a Content-Length; the status. */
  static int readResponse(InputStream in, @Nullable StringBuilder body) throws IOException {
    String status = line(in);
    int code = Integer.parseInt(status.substring(9, 12));
    int length = 0;
    for (String h; !(h = line(in)).isEmpty(); ) {
      if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(h.substring(15).strip());
      }
    }
    byte[] b = in.readNBytes(length);
    if (b.length != length) {
      throw new IOException("short body");
    }
    if (body != null) {
      body.append(new String(b, StandardCharsets.UTF_8));
    }
    return code;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder(64);
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new IOException("connection closed mid-response");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  // Measuring

  interface CallerFactory {
    Caller create() throws IOException;
  }

  private static Row measure(
      String name, int threads, long warmNanos, long measureNanos, CallerFactory factory)
      throws Exception {
    long[][] latencies = new long[threads][];
    int[] counts = new int[threads];
    Exception[] failure = new Exception[1];
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int me = t;
      Thread w =
          new Thread(
              () -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                try (Caller caller = factory.create()) {
                  long warmEnd = System.nanoTime() + warmNanos;
                  while (System.nanoTime() < warmEnd) {
                    expect200(caller.call());
                  }
                  ready.countDown();
                  go.await();
                  long end = window[1];
                  while (true) {
                    long s = System.nanoTime();
                    if (s >= end) {
                      break;
                    }
                    expect200(caller.call());
                    if (n == lat.length) {
                      lat = Arrays.copyOf(lat, n * 2);
                    }
                    lat[n++] = System.nanoTime() - s;
                  }
                } catch (Exception e) {
                  synchronized (failure) {
                    failure[0] = e;
                  }
                  ready.countDown();
                }
                latencies[me] = lat;
                counts[me] = n;
              },
              "caller-" + t);
      workers.add(w);
      w.start();
    }
    ready.await();
    window[0] = System.nanoTime();
    window[1] = window[0] + measureNanos;
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    if (failure[0] != null) {
      throw new IllegalStateException(name + ": " + failure[0], failure[0]);
    }
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    long[] all = new long[total];
    int at = 0;
    for (int t = 0; t < threads; t++) {
      System.arraycopy(latencies[t], 0, all, at, counts[t]);
      at += counts[t];
    }
    Arrays.sort(all);
    double seconds = measureNanos / 1e9;
    Row row =
        new Row(
            name,
            threads,
            total,
            total / seconds,
            percentile(all, 0.50) / 1e6,
            percentile(all, 0.99) / 1e6,
            null);
    System.err.printf(
        Locale.ROOT,
        "%s: %.0f/s p50 %.3f ms p99 %.3f ms%n",
        name,
        row.perSecond,
        row.p50Ms,
        row.p99Ms);
    return row;
  }

  private static void expect200(int status) {
    if (status != 200) {
      throw new IllegalStateException("status " + status);
    }
  }

  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** {@code java -jar tokenbroker-cli-*-all.jar token oauth2:bench}, {@code calls} times. */
  private static Row cli(Path dir, OAuth2Emulator emulator, int calls) throws Exception {
    String name = "`tokenbroker token` per request (`java -jar` the CLI's -all.jar)";
    Path jar = cliJar();
    if (jar == null) {
      System.err.println("cli/target/tokenbroker-cli-*-all.jar is not built: CLI row skipped");
      return new Row(
          name,
          1,
          0,
          Double.NaN,
          Double.NaN,
          Double.NaN,
          "not measured: cli/target/tokenbroker-cli-*-all.jar is not built"
              + " (./mvnw -pl cli -am package -DskipTests)");
    }
    Files.writeString(
        dir.resolve("tokenbroker.yaml"),
        String.join(
            "\n",
            "store:",
            "  type: file",
            "  path: tokens",
            "connections:",
            "  oauth2:bench:",
            "    token-url: " + emulator.url(OAuth2Emulator.TOKEN_PATH),
            "    authorize-url: " + emulator.url(OAuth2Emulator.AUTHORIZE_PATH),
            "    client-id: app",
            "    client-secret: ${APP_SECRET}",
            "    redirect-uri: http://127.0.0.1:9/callback",
            ""));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    long[] lat = new long[calls];
    long started = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      ProcessBuilder pb =
          new ProcessBuilder(
                  java, "-jar", jar.toString(), "-c", "tokenbroker.yaml", "token", ID.toString())
              .directory(dir.toFile())
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("APP_SECRET", "app-secret");
      long s = System.nanoTime();
      Process p = pb.start();
      byte[] output = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || output.length == 0) {
        throw new IllegalStateException("tokenbroker token failed (exit " + p.exitValue() + ")");
      }
      lat[i] = System.nanoTime() - s;
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    Arrays.sort(lat);
    Row row =
        new Row(
            name,
            1,
            calls,
            calls / seconds,
            percentile(lat, 0.50) / 1e6,
            Double.NaN,
            calls + " calls: too few for a p99; slowest " + fmt(lat[calls - 1] / 1e6) + " ms");
    System.err.printf(Locale.ROOT, "%s: %.2f/s p50 %.0f ms%n", name, row.perSecond, row.p50Ms);
    return row;
  }

  private static @Nullable Path cliJar() throws IOException {
    for (Path d : List.of(Path.of("cli", "target"), Path.of("..", "cli", "target"))) {
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (DirectoryStream<Path> s = Files.newDirectoryStream(d, "tokenbroker-cli-*-all.jar")) {
        for (Path p : s) {
          return p.toAbsolutePath();
        }
      }
    }
    return null;
  }

  private static String fmt(double ms) {
    if (Double.isNaN(ms)) {
      return "—";
    }
    if (ms >= 100) {
      return String.format(Locale.ROOT, "%,.0f", ms);
    }
    return String.format(Locale.ROOT, ms >= 1 ? "%.2f" : "%.3f", ms);
  }

  private static String rate(double perSecond) {
    if (Double.isNaN(perSecond)) {
      return "—";
    }
    return String.format(Locale.ROOT, perSecond >= 100 ? "%,.0f" : "%.2f", perSecond);
  }

  private static void write(Path out, List<Row> rows, boolean quick) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append(
            "### tokenbroker serve: a warm token over the socket and loopback TCP, vs `tokenbroker")
        .append(" token` per call\n\n");
    if (quick) {
      b.append("**Quick mode: 1-second runs, not figures to quote.**\n\n");
    }
    b.append("| caller | threads | requests | requests/s | p50 (ms) | p99 (ms) | note |\n")
        .append("|---|--:|--:|--:|--:|--:|---|\n");
    for (Row r : rows) {
      b.append("| ")
          .append(r.caller())
          .append(" | ")
          .append(r.threads())
          .append(" | ")
          .append(String.format(Locale.ROOT, "%,d", r.requests()))
          .append(" | ")
          .append(rate(r.perSecond()))
          .append(" | ")
          .append(fmt(r.p50Ms()))
          .append(" | ")
          .append(fmt(r.p99Ms()))
          .append(" | ")
          .append(r.note() == null ? "" : r.note())
          .append(" |\n");
    }
    b.append("\n`GET ")
        .append(PATH)
        .append("`, answered from the broker's cache (no renewal while measuring); each answer's")
        .append(" status checked. The service runs in the measuring JVM, so callers and server")
        .append(" share its CPUs.\n");
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, b.toString());
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("quick", quick);
    json.put("rows", rows);
    String name = out.getFileName().toString().replaceFirst("\\.md$", "") + ".json";
    new ObjectMapper()
        .writerWithDefaultPrettyPrinter()
        .writeValue(out.resolveSibling(name).toFile(), json);
    System.out.print(b);
  }
}
