package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The three emulators on one fake clock, a configuration file pointing at them with an encrypted
 * file store in a temporary directory, and a way to run command lines against it as separate
 * invocations (each builds its own broker, as separate processes would).
 */
final class CliFixture implements AutoCloseable {
  static final String CAFE24_SECRET = "cafe24-secret-Xq7vN2pL";
  static final String NAVER_SECRET = "$2a$04$abcdefghijklmnopqrstuv";
  static final String KAKAO_SECRET = "kakao-secret-R4tY8uIo";
  static final String KAKAO_REDIRECT = "https://app.example.com/kakao/callback";
  static final long KAKAO_APP_ID = 424242L;
  static final ConnectionId CAFE24 = ConnectionId.parse("cafe24:mymall");
  static final ConnectionId NAVER = ConnectionId.parse("naver:self");
  static final ConnectionId KAKAO = ConnectionId.parse("kakao:shop-bot");

  private static final Pattern URL_LINE = Pattern.compile("(?m)^  (https?://\\S+)$");

  final FakeClock clock = FakeClock.create();
  final Cafe24Emulator cafe24 = new Cafe24Emulator(clock);
  final NaverEmulator naver = new NaverEmulator(clock);
  final KakaoEmulator kakao = new KakaoEmulator(clock);
  final Path dir;
  final Path config;
  final String cafe24Redirect;
  final String storeKey;
  final Map<String, String> env =
      Map.of(
          "CAFE24_SECRET", CAFE24_SECRET,
          "NAVER_SECRET", NAVER_SECRET,
          "KAKAO_SECRET", KAKAO_SECRET);

  /** Whether a directory is writable, as commands see it (tests run as root, where all are). */
  volatile java.util.function.Predicate<Path> writable = Files::isWritable;

  /** Every shutdown hook a command registered ({@code run}). */
  final List<Runnable> shutdownHooks = new ArrayList<>();

  /** Everything every command printed, except {@code token}'s standard output. */
  final StringBuilder transcript = new StringBuilder();

  CliFixture(Path dir) throws IOException {
    this.dir = dir;
    this.cafe24Redirect = "http://127.0.0.1:" + freePort() + "/callback";
    cafe24.registerApp("cafe24-client", CAFE24_SECRET, cafe24Redirect).addMall("mymall").start();
    naver.registerApplication("naver-client", NAVER_SECRET).start();
    kakao.registerApp("kakao-rest-key", KAKAO_APP_ID, KAKAO_REDIRECT).start();
    kakao.clientSecret("kakao-rest-key", KAKAO_SECRET);
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (i * 7 + 3);
    }
    storeKey = Base64.getEncoder().encodeToString(key);
    Files.writeString(dir.resolve("store.key"), storeKey + "\n");
    config = dir.resolve("tokenbroker.yaml");
    writeConfig(
        String.join(
            "\n",
            "store:",
            "  type: file",
            "  path: " + dir.resolve("tokens"),
            "  key-file: " + dir.resolve("store.key")));
  }

  /** Rewrites the configuration with another {@code store:} section. */
  void writeConfig(String storeSection) throws IOException {
    Files.writeString(
        config,
        String.join(
            "\n",
            storeSection,
            "apps:",
            "  shop-app:",
            "    provider: cafe24",
            "    client-id: cafe24-client",
            "    client-secret: ${CAFE24_SECRET}",
            "    redirect-uri: " + cafe24Redirect,
            "    scopes: [mall.read_product]",
            "    base-url: " + cafe24.baseUrlTemplate(),
            "connections:",
            "  cafe24:mymall: { app: shop-app, mall-id: mymall }",
            "  naver:self:",
            "    client-id: naver-client",
            "    client-secret: ${NAVER_SECRET}",
            "    base-url: " + naver.baseUrl(),
            "  kakao:shop-bot:",
            "    client-id: kakao-rest-key",
            "    client-secret: ${KAKAO_SECRET}",
            "    redirect-uri: " + KAKAO_REDIRECT,
            "    app-id: \"" + KAKAO_APP_ID + "\"",
            "    auth-base-url: " + kakao.baseUrl(),
            "    api-base-url: " + kakao.baseUrl(),
            ""));
  }

  /** What one command line did. */
  static final class Result {
    final int code;
    final String out;
    final String err;

    Result(int code, String out, String err) {
      this.code = code;
      this.out = out;
      this.err = err;
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
    }
  }

  /** Runs one command line in the configuration's directory, with no standard input. */
  Result run(String... args) {
    return run(new ByteArrayInputStream(new byte[0]), args);
  }

  Result run(InputStream in, String... args) {
    return run(in, new Buffer(), args);
  }

  /** Runs one command line in {@code workingDirectory}, with no standard input. */
  Result runIn(Path workingDirectory, String... args) {
    return run(new ByteArrayInputStream(new byte[0]), new Buffer(), workingDirectory, args);
  }

  Result run(InputStream in, Buffer out, String... args) {
    return run(in, out, dir, args);
  }

  private Result run(InputStream in, Buffer out, Path workingDirectory, String... args) {
    Buffer err = new Buffer();
    Console console =
        new Console(
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            in,
            env,
            clock,
            workingDirectory,
            shutdownHooks::add,
            UnaryOperator.identity(),
            writable);
    int code = Cli.execute(console, args);
    Result r = new Result(code, out.toString(), err.toString());
    synchronized (transcript) {
      if (!(args.length > 0 && args[0].equals("token"))) {
        transcript.append(r.out);
      }
      transcript.append(r.err);
    }
    return r;
  }

  /** Runs a command line on another thread; its output can be watched while it runs. */
  Running start(InputStream in, String... args) {
    Buffer out = new Buffer();
    CompletableFuture<Result> result =
        CompletableFuture.supplyAsync(() -> run(in, out, args), r -> daemon(r).start());
    return new Running(out, result);
  }

  static final class Running {
    final Buffer out;
    final CompletableFuture<Result> result;

    Running(Buffer out, CompletableFuture<Result> result) {
      this.out = out;
      this.result = result;
    }

    /** The authorization URL {@code connect} printed, once it has. */
    URI authorizationUrl() {
      String text = out.awaitMatch(URL_LINE);
      Matcher m = URL_LINE.matcher(text);
      assertThat(m.find()).isTrue();
      return URI.create(m.group(1));
    }

    Result await() throws Exception {
      return result.get(30, TimeUnit.SECONDS);
    }
  }

  /** Plays the browser: opens {@code url} and follows every redirect; returns status and page. */
  static Map.Entry<Integer, String> browse(URI url) throws IOException {
    OkHttpClient browser = new OkHttpClient.Builder().followRedirects(true).build();
    try (Response response =
        browser.newCall(new Request.Builder().url(url.toString()).build()).execute()) {
      ResponseBody body = response.body();
      return Map.entry(response.code(), body == null ? "" : body.string());
    } finally {
      browser.dispatcher().executorService().shutdown();
      browser.connectionPool().evictAll();
    }
  }

  /** Connects the Cafe24 mall through `connect` and its loopback listener. */
  Result connectCafe24() throws Exception {
    Running connect = start(new ByteArrayInputStream(new byte[0]), "connect", CAFE24.toString());
    Map.Entry<Integer, String> page = browse(connect.authorizationUrl());
    Result r = connect.await();
    assertThat(page.getKey()).as(r.toString()).isEqualTo(200);
    assertThat(r.code).as(r.toString()).isZero();
    return r;
  }

  /** Connects the Kakao user through `connect`, pasting the redirected URL. */
  Result connectKakao() throws Exception {
    java.io.PipedOutputStream typing = new java.io.PipedOutputStream();
    java.io.PipedInputStream stdin = new java.io.PipedInputStream(typing);
    Running connect = start(stdin, "connect", KAKAO.toString());
    String redirected = kakao.followAuthorization(connect.authorizationUrl());
    typing.write((redirected + "\n").getBytes(StandardCharsets.UTF_8));
    typing.flush();
    Result r = connect.await();
    typing.close();
    assertThat(r.code).as(r.toString()).isZero();
    return r;
  }

  /** The token set the store holds now, read as another process would. */
  TokenSet stored(ConnectionId id) {
    try (FileTokenStore store =
        FileTokenStore.builder(dir.resolve("tokens"))
            .clock(clock)
            .encryption(EncryptionKeys.parse(storeKey))
            .build()) {
      TokenSet t = store.load(id);
      assertThat(t).as("stored set of " + id).isNotNull();
      return t;
    }
  }

  /**
   * A loopback port nothing listens on, below the kernel's ephemeral range (32768 and up on Linux):
   * a port from {@code new ServerSocket(0)} goes back to that range when the probe closes, and an
   * outgoing connection of the test (to an emulator) could take it as its own port before `connect`
   * listens there — which then fails with "Address already in use" (seen once in a full build).
   */
  private static int freePort() throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12000);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false); // as strict as the listener `connect` opens
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free loopback port in 20000-31999");
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "cli-under-test");
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() {
    cafe24.close();
    naver.close();
    kakao.close();
  }

  /** A thread-safe writer whose content a test can wait on. */
  static final class Buffer extends Writer {
    private final StringBuilder text = new StringBuilder();

    @Override
    public synchronized void write(char[] cbuf, int off, int len) {
      text.append(cbuf, off, len);
      notifyAll();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    /** Waits (at most 30 s) until the text matches {@code pattern}; returns the text. */
    synchronized String awaitMatch(Pattern pattern) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!pattern.matcher(text).find()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("never printed " + pattern + "; printed:\n" + text);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new UncheckedIOException(new java.io.InterruptedIOException());
        }
      }
      return text.toString();
    }

    @Override
    public synchronized String toString() {
      return text.toString();
    }
  }
}
