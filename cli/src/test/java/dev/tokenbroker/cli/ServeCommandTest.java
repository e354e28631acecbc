package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenbroker serve}: tokens over a Unix socket until the shutdown hook runs. */
class ServeCommandTest {
  @TempDir Path dir;
  CliFixture cli;

  @BeforeEach
  void setUp() throws Exception {
    cli = new CliFixture(dir);
  }

  @AfterEach
  void tearDown() {
    cli.close();
  }

  /** What {@code curl --unix-socket SOCKET http://localhost/PATH} prints. */
  static String curl(Path socket, String path) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      Channels.newOutputStream(ch)
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      Channels.newInputStream(ch).transferTo(all);
      return all.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void serve_answersTokensOnTheSocket_andStopsCleanlyOnShutdown() throws Exception {
    cli.connectCafe24();
    Path socket = dir.resolve("run").resolve("tb.sock");
    CliFixture.Running run =
        cli.start(new ByteArrayInputStream(new byte[0]), "serve", "--socket", socket.toString());
    run.out.awaitMatch(Pattern.compile("tokenbroker serving .*\\n"));

    String reply = curl(socket, "/v1/connections/cafe24:mymall/token?format=text");
    String health = curl(socket, "/v1/connections/cafe24:mymall");

    String token = cli.stored(CliFixture.CAFE24).accessToken();
    assertThat(reply).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n" + token + "\n");
    assertThat(health).contains("\"state\":\"ACTIVE\"").doesNotContain(token);
    assertThat(Files.getPosixFilePermissions(socket))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(run.result).isNotDone();

    assertThat(cli.shutdownHooks).hasSize(1);
    cli.shutdownHooks.get(0).run(); // what SIGTERM does
    CliFixture.Result r = run.await();
    assertThat(r.code).isZero();
    assertThat(r.out).contains("on socket " + socket).endsWith("stopped\n").doesNotContain(token);
    assertThat(Files.exists(socket)).isFalse();
  }

  @Test
  void serve_withNothingToListenOn_exits2() {
    CliFixture.Result r = cli.run("serve");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("--socket PATH").contains("--serve-config FILE");
    assertThat(cli.shutdownHooks).isEmpty();
  }

  @Test
  void serve_withAClientSecretOthersCanRead_exits2_namingTheFile() throws Exception {
    Path secret = Files.writeString(dir.resolve("reports.secret"), "reports-secret-0123456789\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
    Path serveYaml =
        Files.writeString(
            dir.resolve("serve.yaml"),
            "tcp:\n  port: 0\nclients:\n  - name: reports\n    secret-file: reports.secret\n"
                + "    connections: ['*']\n");

    CliFixture.Result r = cli.run("serve", "--serve-config", serveYaml.toString());

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("chmod 600 " + secret).doesNotContain("reports-secret");
    assertThat(cli.shutdownHooks).isEmpty();
  }
}
