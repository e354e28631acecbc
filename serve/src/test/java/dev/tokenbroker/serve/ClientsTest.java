package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README promises callers: the curl one-liner, the Python example (standard library only),
 * and TCP over TLS from PEM files — each run for real against a started service.
 */
class ClientsTest {
  private static final String SECRET = "tls-client-secret-0123456789";

  @TempDir Path dir;
  private Fixture fx;
  private InMemoryTokenStore store;
  private TokenService service;

  @BeforeEach
  void start() {
    fx = new Fixture(dir);
    store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP);
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    fx.close();
  }

  private static boolean has(String command) {
    try {
      Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String run(Path cwd, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private Path socketService() {
    Path socket = dir.resolve("run").resolve("tb.sock");
    service = fx.service(ServeConfig.builder().socket(socket).build()).start(fx.broker(store));
    return socket;
  }

  @Test
  void curlOneLiner_printsTheToken() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    Path socket = socketService();

    String out =
        run(
            dir,
            "curl",
            "-sf",
            "--unix-socket",
            socket.toString(),
            "http://localhost/v1/connections/oauth2-test:shop/token?format=text");

    assertThat(out).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  @Test
  void pythonExample_printsTheToken() throws Exception {
    assumeTrue(has("python3"), "python3 is not installed");
    Path socket = socketService();
    Path example = Path.of("examples/tokenbroker_client.py").toAbsolutePath();

    String out = run(dir, "python3", example.toString(), socket.toString(), "oauth2-test:shop");

    assertThat(out).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  /** The README's fenced block in {@code lang} that contains {@code marker}, as written there. */
  private static String readmeBlock(String lang, String marker) throws IOException {
    String md = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "```" + lang + "\\n(.*?)```", java.util.regex.Pattern.DOTALL)
            .matcher(md);
    while (m.find()) {
      if (m.group(1).contains(marker)) {
        return m.group(1);
      }
    }
    throw new AssertionError("README.md has no ```" + lang + " block with " + marker);
  }

  private static String ours(String text, Path socket) {
    return text.replace("/run/tokenbroker/tokenbroker.sock", socket.toString())
        .replace("cafe24:mymall", "oauth2-test:shop");
  }

  @Test
  void readmeCurlLine_asWritten_setsTheToken() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    Path socket = socketService();
    String line = ours(readmeBlock("sh", "TOKEN=$(curl").strip(), socket);

    String out = run(dir, "sh", "-c", line + "\nprintf '%s\\n' \"$TOKEN\"");

    assertThat(out).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  @Test
  void readmePythonBlock_asWritten_returnsTheToken() throws Exception {
    assumeTrue(has("python3"), "python3 is not installed");
    Path socket = socketService();
    Path script = dir.resolve("readme_client.py");
    Files.writeString(
        script,
        ours(readmeBlock("python", "def access_token("), socket)
            + "\nprint(access_token(\"oauth2-test:shop\"))\n",
        StandardCharsets.UTF_8);

    String out = run(dir, "python3", script.toString());

    assertThat(out).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  @Test
  void readmeTcpCurl_asWritten_withTheBearerSecretFile() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    ServeConfig config =
        ServeConfig.builder()
            .tcp("127.0.0.1", 0)
            .client("reports", fx.secret("reports.secret", SECRET), List.of("oauth2-test:shop"))
            .build();
    service = fx.service(config).start(fx.broker(store));
    String md = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("`(curl -sf -H \"Authorization: Bearer [^`]*)`")
            .matcher(md);
    assertThat(m.find()).as("the README's TCP curl line").isTrue();
    String line =
        m.group(1)
            .replace("127.0.0.1:8411", "127.0.0.1:" + service.tcpPort())
            .replace("cafe24:mymall", "oauth2-test:shop");

    String out = run(dir, "sh", "-c", line);

    assertThat(out).isEqualTo(store.load(SHOP).accessToken() + "\n");
  }

  @Test
  void tcpOverTls_fromPemFiles_servesTheToken_secureCookie_andPlainHttpGetsNothing()
      throws Exception {
    assumeTrue(hasOpenssl(), "openssl is not installed");
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1");
    Files.setPosixFilePermissions(
        dir.resolve("key.pem"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    ServeConfig config =
        ServeConfig.builder()
            .tcp("127.0.0.1", 0)
            .tls(dir.resolve("cert.pem"), dir.resolve("key.pem"))
            .client("app", fx.secret("app.secret", SECRET), List.of("*"))
            .build();
    service = fx.service(config).start(fx.broker(store));

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry(
        "serve",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(dir.resolve("cert.pem")))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    OkHttpClient client =
        Fixture.HTTP
            .newBuilder()
            .sslSocketFactory(tls.getSocketFactory(), (X509TrustManager) tmf.getTrustManagers()[0])
            .build();
    String url =
        "https://localhost:" + service.tcpPort() + "/v1/connections/oauth2-test:shop/token";
    try (Response r =
        client
            .newCall(
                new Request.Builder()
                    .url(url + "?format=text")
                    .header("Authorization", "Bearer " + SECRET)
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.body().string()).isEqualTo(store.load(SHOP).accessToken() + "\n");
    }
    // The status page over TLS: the session cookie is Secure as well.
    try (Response r =
        client
            .newBuilder()
            .followRedirects(false)
            .build()
            .newCall(
                new Request.Builder()
                    .url("https://localhost:" + service.tcpPort() + "/status/sign-in")
                    .post(new okhttp3.FormBody.Builder().add("secret", SECRET).build())
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(303);
      assertThat(r.header("Set-Cookie"))
          .contains("; HttpOnly", "; SameSite=Strict")
          .endsWith("; Secure");
    }
    // Plain HTTP on the TLS port: no HTTP answer at all, let alone a token.
    try (java.net.Socket plain =
        new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), service.tcpPort())) {
      plain.setSoTimeout(10_000);
      plain
          .getOutputStream()
          .write(
              ("GET /v1/connections/oauth2-test:shop/token HTTP/1.1\r\nHost: localhost\r\n"
                      + "Authorization: Bearer "
                      + SECRET
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String answer =
          new String(plain.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer)
          .doesNotStartWith("HTTP/1.1 200")
          .doesNotContain(store.load(SHOP).accessToken());
    }
  }

  @Test
  void pkcs1Key_isRefused_withTheCommandThatConvertsIt() throws Exception {
    assumeTrue(hasOpenssl(), "openssl is not installed");
    run(dir, "openssl", "genrsa", "-traditional", "-out", "rsa.pem", "2048");
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-key",
        "rsa.pem",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-subj",
        "/CN=localhost");
    Files.setPosixFilePermissions(
        dir.resolve("rsa.pem"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    ServeConfig config =
        ServeConfig.builder()
            .tcp("127.0.0.1", 0)
            .tls(dir.resolve("cert.pem"), dir.resolve("rsa.pem"))
            .client("app", fx.secret("app.secret", SECRET), List.of("*"))
            .build();

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(dev.tokenbroker.ConfigurationException.class)
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }

  private static boolean hasOpenssl() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
