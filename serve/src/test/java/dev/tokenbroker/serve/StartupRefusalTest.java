package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad file modes, taken socket paths and unsafe addresses stop the start, with the fix. */
class StartupRefusalTest {
  private static final String SECRET = "client-secret-0123456789";

  @TempDir Path dir;
  private Fixture fx;
  private InMemoryTokenStore store;

  @BeforeEach
  void start() {
    fx = new Fixture(dir);
    store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP);
  }

  @AfterEach
  void stop() {
    fx.close();
  }

  @Test
  void groupReadableClientSecret_isRefused_namingTheFileNotTheSecret() throws IOException {
    Path secret = fx.secret("client.secret", SECRET);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r-----"));
    ServeConfig config =
        ServeConfig.builder().tcp("127.0.0.1", 0).client("c", secret, List.of("*")).build();

    assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("chmod 600 " + secret)
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void worldReadableWebhookSecret_isRefused() throws IOException {
    Path secret = fx.secret("hook.secret", SECRET);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw----r--"));
    ServeConfig config =
        ServeConfig.builder()
            .socket(dir.resolve("s").resolve("tb.sock"))
            .webhook(URI.create("http://127.0.0.1:9/hook"), secret)
            .build();

    assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("webhooks[].secret-file")
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void shortSecret_isRefused() throws IOException {
    Path secret = fx.secret("client.secret", "short");
    ServeConfig config =
        ServeConfig.builder().tcp("127.0.0.1", 0).client("c", secret, List.of("*")).build();

    assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fewer than 16");
  }

  @Test
  void socketDirectoryWritableByGroup_isRefused() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwx---"));
    ServeConfig config = ServeConfig.builder().socket(shared.resolve("tb.sock")).build();

    assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("can be written by other users");
    assertThat(Files.exists(shared.resolve("tb.sock"))).isFalse();
  }

  @Test
  void socketPathHoldingAFile_isRefused_andTheFileIsKept() throws IOException {
    Path taken = Files.writeString(dir.resolve("tb.sock"), "not a socket");
    ServeConfig config = ServeConfig.builder().socket(taken).build();

    assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("exists and is not a socket");
    assertThat(Files.readString(taken)).isEqualTo("not a socket");
  }

  @Test
  void socketOfALiveServer_isRefused_andThatServerKeepsServing() throws IOException {
    Path socket = dir.resolve("tb.sock");
    ServeConfig config = ServeConfig.builder().socket(socket).build();
    try (TokenService first = fx.service(config).start(fx.broker(store))) {
      assertThatThrownBy(() -> fx.service(config).start(fx.broker(store)))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("another server is listening");

      assertThat(RawHttp.unix(socket, "GET", "/healthz").status()).isEqualTo(200);
    }
  }

  @Test
  void deadSocketLeftByACrash_isReplaced() throws IOException {
    Path socket = dir.resolve("tb.sock");
    try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      crashed.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(Files.exists(socket)).isTrue(); // closing does not remove it, as after a crash

    try (TokenService service =
        fx.service(ServeConfig.builder().socket(socket).build()).start(fx.broker(store))) {
      assertThat(RawHttp.unix(socket, "GET", "/healthz").status()).isEqualTo(200);
    }
  }

  @Test
  void socketWithGroup_isMode0660_andThatGroup() throws IOException {
    String group = Files.readAttributes(dir, PosixFileAttributes.class).group().getName();
    Path socket = dir.resolve("tb.sock");
    ServeConfig config = ServeConfig.builder().socket(socket).socketGroup(group).build();

    try (TokenService service = fx.service(config).start(fx.broker(store))) {
      assertThat(Files.getPosixFilePermissions(socket))
          .containsExactlyInAnyOrder(
              PosixFilePermission.OWNER_READ,
              PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.GROUP_READ,
              PosixFilePermission.GROUP_WRITE);
      assertThat(Files.readAttributes(socket, PosixFileAttributes.class).group().getName())
          .isEqualTo(group);
    }
  }

  @Test
  void missingSocketDirectory_isCreatedOwnerOnly() throws IOException {
    Path socket = dir.resolve("new-dir").resolve("tb.sock");
    try (TokenService service =
        fx.service(ServeConfig.builder().socket(socket).build()).start(fx.broker(store))) {
      assertThat(Files.getPosixFilePermissions(socket.getParent()))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void socketDirectoryThatCannotBeCreated_isAClearError() {
    Path socket = dir.resolve("no").resolve("such").resolve("tb.sock");

    assertThatThrownBy(
            () -> fx.service(ServeConfig.builder().socket(socket).build()).start(fx.broker(store)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cannot create the socket's directory");
  }

  @Test
  void nonLoopbackTcpWithoutTls_isRefused() {
    assertThatThrownBy(
            () ->
                ServeConfig.builder()
                    .tcp("0.0.0.0", 8411)
                    .client("c", dir.resolve("x"), List.of("*"))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not a loopback address");
  }

  @Test
  void tcpWithoutClients_and_plainHttpWebhookToARemoteHost_areRefused() {
    assertThatThrownBy(() -> ServeConfig.builder().tcp("127.0.0.1", 0).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("at least one client");
    assertThatThrownBy(
            () ->
                ServeConfig.builder()
                    .webhook(URI.create("http://hooks.example.com/x"), dir.resolve("s")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("must be https");
  }

  @Test
  void yamlFile_isRead_relativeToItsDirectory_andUnknownSettingsAreRefused() throws IOException {
    Path file =
        Files.writeString(
            dir.resolve("serve.yaml"),
            "socket:\n  path: run/tb.sock\n"
                + "tcp:\n  host: 127.0.0.1\n  port: 0\n  allowed-hosts: [tokens.internal]\n"
                + "clients:\n  - name: reports\n    secret-file: reports.secret\n"
                + "    connections: [oauth2-test:shop]\n"
                + "health-watch: 5s\n");
    ServeConfig config = ServeConfig.load(file);

    assertThat(config.socketPath()).isEqualTo(dir.resolve("run/tb.sock"));
    assertThat(config.clients().get(0).secretFile()).isEqualTo(dir.resolve("reports.secret"));
    assertThat(config.clients().get(0).mayRead(SHOP)).isTrue();
    assertThat(config.allowedHosts()).containsExactly("tokens.internal");
    assertThat(config.healthWatch()).hasSeconds(5);

    Path bad = Files.writeString(dir.resolve("bad.yaml"), "socket:\n  path: x\n  mode: 0777\n");
    assertThatThrownBy(() -> ServeConfig.load(bad))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("socket.mode");
  }
}
