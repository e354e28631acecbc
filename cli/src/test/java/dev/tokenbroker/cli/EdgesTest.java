package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenUnavailableException;
import dev.tokenbroker.store.TokenStoreException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's rough edges: usage, configuration and store problems, each one line. */
class EdgesTest {
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

  @Test
  void unknownCommand_saysSo_andListsTheCommands() {
    CliFixture.Result r = cli.run("frobnicate");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err.strip())
        .startsWith("unknown command 'frobnicate'; commands: connect, token, status")
        .contains("demo")
        .doesNotContain("Unmatched argument");
  }

  @Test
  void demoHelp_doesNotOfferTheConfigOption_itIgnores() {
    CliFixture.Result r = cli.run("demo", "--help");

    assertThat(r.code).isZero();
    assertThat(r.out).doesNotContain("--config").doesNotContain("-c=");
    assertThat(cli.run("status", "--help").out).contains("--config");
  }

  @Test
  void inMemoryStore_isRefused_withTheFix_explicitOrByDefault() throws IOException {
    cli.writeConfig("store: { type: memory }");
    CliFixture.Result explicit = cli.run("token", "naver:self");
    cli.writeConfig("# no store section");
    CliFixture.Result byDefault = cli.run("status");

    for (CliFixture.Result r : new CliFixture.Result[] {explicit, byDefault}) {
      assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.USAGE);
      assertThat(r.err.strip())
          .contains("keeps tokens in memory")
          .contains("store: { type: file, path: tokens, key-file: store.key }")
          .doesNotContain("\n");
    }
    assertThat(cli.naver.tokenRequests()).isZero();
  }

  @Test
  void status_withNoConnections_isNotHealthy() throws IOException {
    Files.writeString(
        cli.config, "store: { type: file, path: tokens, key-file: store.key }\nconnections: {}\n");
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("no connections configured in");
  }

  @Test
  void status_withAnEmptyFile_isAConfigurationError() throws IOException {
    Files.writeString(cli.config, "");
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("is empty");
  }

  @Test
  void cafe24SecretRejected_advisesFixingTheSecretThenRefresh_notConnect() throws Exception {
    cli.connectCafe24();
    cli.cafe24.registerApp("cafe24-client", "a-reissued-secret", cli.cafe24Redirect);
    cli.clock.advance(java.time.Duration.ofHours(3));
    CliFixture.Result r = cli.run("token", "cafe24:mymall");

    assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(r.err.strip())
        .contains("client secret rejected")
        .endsWith(
            "fix the client id or secret in the configuration, then run `tokenbroker refresh"
                + " cafe24:mymall`")
        .doesNotContain("tokenbroker connect");
  }

  @Test
  void anUnsetVariableOfOneConnection_failsOnlyWhatNeedsIt() throws Exception {
    Files.writeString(
        cli.config,
        Files.readString(cli.config).replace("${CAFE24_SECRET}", "${CAFE24_SECRET_NOT_SET}"));

    CliFixture.Result naver = cli.run("token", "naver:self");
    CliFixture.Result cafe24 = cli.run("token", "cafe24:mymall");
    CliFixture.Result status = cli.run("status");

    assertThat(naver.code).as(naver.toString()).isZero();
    assertThat(cafe24.code).isEqualTo(ExitCode.USAGE);
    assertThat(cafe24.err).contains("cafe24:mymall").contains("CAFE24_SECRET_NOT_SET");
    assertThat(status.code).as(status.toString()).isEqualTo(ExitCode.USAGE);
    assertThat(status.out)
        .containsPattern("(?m)^naver:self +naver +ACTIVE")
        .containsPattern("(?m)^kakao:shop-bot +kakao +REAUTHORIZATION_REQUIRED")
        .containsPattern("(?m)^cafe24:mymall +cafe24 +CONFIGURATION_ERROR .*CAFE24_SECRET_NOT_SET");
  }

  @Test
  void status_readsOnly_aStoreDirectoryThatDoesNotExistIsNotCreated() {
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(r.out).containsPattern("(?m)^cafe24:mymall +cafe24 +REAUTHORIZATION_REQUIRED");
    assertThat(r.err).contains("store directory " + dir.resolve("tokens") + " does not exist yet");
    assertThat(dir.resolve("tokens")).doesNotExist();
  }

  @Test
  void status_aStoreDirectoryThisUserCannotWrite_isAConfigurationError() {
    assertThat(cli.run("token", "naver:self").code).isZero();
    cli.writable = p -> !p.equals(dir.resolve("tokens"));
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err)
        .contains("token store: " + dir.resolve("tokens") + " is not writable by this user")
        .contains("readable and writable by the user running tokenbroker");
  }

  @Test
  void relativeStorePath_isTheConfigurationFilesDirectory_fromAnyWorkingDirectory()
      throws Exception {
    cli.writeConfig("store: { type: file, path: tokens, key-file: store.key }");
    assertThat(cli.run("token", "naver:self").code).isZero();
    Path sub = Files.createDirectories(dir.resolve("sub"));
    CliFixture.Result fromSub = cli.runIn(sub, "-c", "../tokenbroker.yaml", "token", "naver:self");

    assertThat(fromSub.code).as(fromSub.toString()).isZero();
    assertThat(cli.naver.tokenRequests()).isEqualTo(1); // the second found the first's token
    assertThat(sub.resolve("tokens")).doesNotExist();
  }

  @Test
  void aRecordEncryptedWithAnotherKey_isAStoreError_notTryAgainLater() throws Exception {
    assertThat(cli.run("token", "naver:self").code).isZero();
    Files.writeString(
        dir.resolve("other.key"), Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    cli.writeConfig("store: { type: file, path: tokens, key-file: other.key }");
    CliFixture.Result r = cli.run("token", "naver:self");

    assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.FAILURE);
    assertThat(r.err.strip())
        .startsWith("token store error: ")
        .contains("not among the configured keys")
        .contains("no retry can fix this")
        .doesNotContain("try again later");
  }

  @Test
  void aCorruptRecord_isAStoreError_notTryAgainLater() throws Exception {
    assertThat(cli.run("token", "naver:self").code).isZero();
    try (Stream<Path> files = Files.list(dir.resolve("tokens"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.toString().endsWith(".tokens")) {
          Files.writeString(f, "{truncat");
        }
      }
    }
    CliFixture.Result r = cli.run("token", "naver:self");

    assertThat(r.code).as(r.toString()).isEqualTo(ExitCode.FAILURE);
    assertThat(r.err).contains("stored record is corrupt").contains("no retry can fix this");
  }

  @Test
  void aBareFileSystemException_namesThePath_insteadOfAnUnexpectedError() {
    Failures.Report r =
        Failures.describe(
            new java.io.UncheckedIOException(
                new java.nio.file.NoSuchFileException("/nonexistent/parent/tokens")),
            null);

    assertThat(r.exitCode).isEqualTo(ExitCode.USAGE);
    assertThat(r.line)
        .startsWith("/nonexistent/parent/tokens does not exist and cannot be created")
        .doesNotContain("unexpected error");
  }

  @Test
  void permissionDeniedInTheStore_isAConfigurationError_namingThePath() {
    dev.tokenbroker.Health health;
    try (dev.tokenbroker.TokenBroker broker =
        dev.tokenbroker.TokenBroker.builder()
            .configFile(cli.config)
            .environment(cli.env)
            .withoutKeepAlive()
            .build()) {
      health = broker.health(CliFixture.NAVER);
    }
    // Tests may run as root, where chmod denies nothing: the failure as the engine hands it over.
    ConnectionId id = ConnectionId.parse("naver:self");
    TokenStoreException store =
        new TokenStoreException(
            id,
            "connection naver:self: cannot write /srv/tokens/naver%3Aself.tokens",
            new AccessDeniedException("/srv/tokens/naver%3Aself.tokens"));
    TokenUnavailableException failure =
        new TokenUnavailableException(
            id, "connection naver:self has no valid token: token store unavailable", health, store);

    Failures.Report r = Failures.describe(failure, null);

    assertThat(r.exitCode).isEqualTo(ExitCode.USAGE);
    assertThat(r.line)
        .startsWith("token store: permission denied on /srv/tokens/naver%3Aself.tokens")
        .contains("readable and writable by the user running tokenbroker")
        .doesNotContain("try again later");
  }
}
