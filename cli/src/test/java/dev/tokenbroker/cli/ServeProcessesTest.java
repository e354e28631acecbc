package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code tokenbroker serve} processes on one file store: a refresh token that dies is seen by
 * both, and the receiver gets one webhook. Each process runs {@link Main} in a JVM of its own on
 * this test's class path; the emulator runs here, on the system clock (the children's clock).
 */
class ServeProcessesTest {
  private static final ConnectionId SHOP = ConnectionId.parse("oauth2:shop");
  private static final String HOOK_SECRET = "webhook-hmac-key-0123456789";

  @TempDir Path dir;
  private OAuth2Emulator emulator;
  private MockWebServer receiver;
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    emulator = new OAuth2Emulator(Clock.systemUTC()).registerClient("app", "app-secret").start();
    receiver = new MockWebServer();
    receiver.start(InetAddress.getLoopbackAddress(), 0);
    Files.writeString(
        dir.resolve("tokenbroker.yaml"),
        String.join(
            "\n",
            "store:",
            "  type: file",
            "  path: tokens",
            "connections:",
            "  oauth2:shop:",
            "    token-url: " + emulator.url(OAuth2Emulator.TOKEN_PATH),
            "    authorize-url: " + emulator.url(OAuth2Emulator.AUTHORIZE_PATH),
            "    client-id: app",
            "    client-secret: ${APP_SECRET}",
            "    redirect-uri: http://127.0.0.1:9/callback",
            ""));
    Path secret = Files.writeString(dir.resolve("hook.secret"), HOOK_SECRET + "\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
    for (String name : List.of("a", "b")) {
      Files.writeString(
          dir.resolve("serve-" + name + ".yaml"),
          String.join(
              "\n",
              "socket:",
              "  path: " + name + "/tb.sock",
              "webhooks:",
              "  - url: " + receiver.url("/hook"),
              "    secret-file: hook.secret",
              ""));
    }
    try (FileTokenStore store = FileTokenStore.builder(dir.resolve("tokens")).build()) {
      emulator.seed(store, SHOP, "app");
    }
  }

  @AfterEach
  void tearDown() throws IOException {
    for (Process p : children) {
      p.destroyForcibly();
    }
    receiver.shutdown();
    emulator.close();
  }

  /** Starts {@code tokenbroker serve} in a JVM of its own; returns once it says it is serving. */
  private Process serve(String name) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "-c",
                "tokenbroker.yaml",
                "serve",
                "--serve-config",
                "serve-" + name + ".yaml")
            .directory(dir.toFile())
            .redirectError(dir.resolve(name + ".log").toFile());
    pb.environment().put("APP_SECRET", "app-secret");
    Process p = pb.start();
    children.add(p);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line =
        CompletableFuture.supplyAsync(
                () -> {
                  try {
                    for (String l; (l = out.readLine()) != null; ) {
                      if (l.contains("tokenbroker serving")) {
                        return l;
                      }
                    }
                    return null;
                  } catch (IOException e) {
                    return null;
                  }
                })
            .get(120, TimeUnit.SECONDS);
    assertThat(line).as("serve %s started (see %s.log)", name, name).isNotNull();
    return p;
  }

  private String post(String name, String path) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(dir.resolve(name).resolve("tb.sock")));
      Channels.newOutputStream(ch)
          .write(
              ("POST "
                      + path
                      + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      Channels.newInputStream(ch).transferTo(all);
      return all.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void twoProcessesOnOneStore_sendOneWebhookForOneDeadRefreshToken() throws Exception {
    receiver.enqueue(new MockResponse().setResponseCode(200));
    receiver.enqueue(new MockResponse().setResponseCode(200));
    Process a = serve("a");
    Process b = serve("b");
    try (FileTokenStore store = FileTokenStore.builder(dir.resolve("tokens")).build()) {
      emulator.revokeRefreshToken(store.load(SHOP).refreshToken());
    }

    String first = post("a", "/v1/connections/oauth2:shop/refresh");
    RecordedRequest hook = receiver.takeRequest(30, TimeUnit.SECONDS);
    String second = post("b", "/v1/connections/oauth2:shop/refresh");

    assertThat(first).startsWith("HTTP/1.1 409").contains("refresh-token-rejected");
    assertThat(second).startsWith("HTTP/1.1 409").contains("refresh-token-rejected");
    assertThat(hook).isNotNull();
    assertThat(hook.getHeader("X-Tokenbroker-Event")).isEqualTo("reauthorization-required");
    // SIGTERM both: each drains its webhook queue before it exits.
    a.destroy();
    b.destroy();
    assertThat(a.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(b.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(receiver.getRequestCount()).isEqualTo(1);
    assertThat(Files.exists(dir.resolve("a").resolve("tb.sock"))).isFalse();
    String logs = Files.readString(dir.resolve("a.log")) + Files.readString(dir.resolve("b.log"));
    assertThat(logs).contains("\"event\":\"stopped\"").contains("\"event\":\"webhook-delivered\"");
  }
}
