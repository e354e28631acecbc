package dev.tokenbroker.cli;

import static dev.tokenbroker.cli.CliFixture.CAFE24;
import static dev.tokenbroker.cli.CliFixture.KAKAO;
import static dev.tokenbroker.cli.CliFixture.NAVER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.testkit.Fault;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command against the emulators, each invocation building its own broker from the
 * configuration file and sharing state only through the encrypted file store — as separate
 * processes would.
 */
class CommandsTest {
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

  // ---- connect ------------------------------------------------------------------------------

  @Test
  void connect_loopbackRedirect_isCapturedAndExchangedAtOnce() throws Exception {
    CliFixture.Running connect =
        cli.start(new ByteArrayInputStream(new byte[0]), "connect", "cafe24:mymall");
    Map.Entry<Integer, String> page = CliFixture.browse(connect.authorizationUrl());
    CliFixture.Result r = connect.await();

    assertThat(page.getKey()).isEqualTo(200);
    assertThat(page.getValue()).contains("Connected").contains("close this tab");
    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .contains("Waiting for your browser to come back to " + cli.cafe24Redirect)
        .contains("✓ connected cafe24:mymall")
        .containsPattern("mall id +mymall")
        .containsPattern("scopes +mall.read_product")
        .containsPattern("access token +expires 2026-01-01T02:00:00Z \\(in 2h 0m\\)")
        .containsPattern("refresh token +expires 2026-01-15T00:00:00Z \\(in 14d 0h\\)");
    assertThat(cli.cafe24.codeExchanges()).isEqualTo(1);
    TokenSet stored = cli.stored(CAFE24);
    assertThat(r.out + r.err)
        .doesNotContain(stored.accessToken())
        .doesNotContain(stored.refreshToken());
  }

  @Test
  void connect_forgedCallbackWithoutTheState_isIgnored_andTheRealRedirectStillConnects()
      throws Exception {
    CliFixture.Running connect =
        cli.start(new ByteArrayInputStream(new byte[0]), "connect", "cafe24:mymall");
    URI authorize = connect.authorizationUrl(); // printed once the listener is up

    // Any local page can fire these at the listener before the person has even logged in.
    Map.Entry<Integer, String> deniedForged =
        CliFixture.browse(URI.create(cli.cafe24Redirect + "?error=access_denied&state=forged"));
    Map.Entry<Integer, String> codeWithoutState =
        CliFixture.browse(URI.create(cli.cafe24Redirect + "?code=forged-code"));
    Map.Entry<Integer, String> real = CliFixture.browse(authorize);
    CliFixture.Result r = connect.await();

    assertThat(deniedForged.getKey()).isEqualTo(400);
    assertThat(deniedForged.getValue()).contains("Not this authorization");
    assertThat(codeWithoutState.getKey()).isEqualTo(400);
    assertThat(real.getKey()).isEqualTo(200);
    assertThat(real.getValue()).contains("Connected");
    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.err).contains("ignored a redirect on the loopback listener whose state is not");
    assertThat(r.err).doesNotContain("forged-code");
    assertThat(cli.cafe24.codeExchanges()).isEqualTo(1);
  }

  @Test
  void connect_pastedRedirectWithAnotherState_isIgnored_andTheRightOneConnects() throws Exception {
    PipedOutputStream typing = new PipedOutputStream();
    PipedInputStream stdin = new PipedInputStream(typing);
    CliFixture.Running connect = cli.start(stdin, "connect", "kakao:shop-bot");
    String redirected = cli.kakao.followAuthorization(connect.authorizationUrl());
    typing.write(
        (CliFixture.KAKAO_REDIRECT + "?error=access_denied&state=stale-tab\n" + redirected + "\n")
            .getBytes(StandardCharsets.UTF_8));
    typing.flush();
    CliFixture.Result r = connect.await();
    typing.close();

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.err).contains("ignored a redirect pasted on standard input");
    assertThat(cli.kakao.codeExchanges()).isEqualTo(1);
  }

  @Test
  void connect_pastedRedirectUrl_isReadFromStandardInput() throws Exception {
    CliFixture.Result r = cli.connectKakao();

    assertThat(r.out)
        .contains("Paste that whole URL here")
        .contains("✓ connected kakao:shop-bot")
        .containsPattern("refresh token +expires");
    assertThat(cli.kakao.codeExchanges()).isEqualTo(1);
    assertThat(KakaoEmulator.form(cli.kakao.lastRequest(KakaoEmulator.TOKEN_PATH)))
        .containsKey("code_verifier");
  }

  @Test
  void connect_somethingElsePasted_asksAgain() throws Exception {
    PipedOutputStream typing = new PipedOutputStream();
    PipedInputStream stdin = new PipedInputStream(typing);
    CliFixture.Running connect = cli.start(stdin, "connect", "kakao:shop-bot");
    String redirected = cli.kakao.followAuthorization(connect.authorizationUrl());
    typing.write(("oops, wrong clipboard\n" + redirected + "\n").getBytes(StandardCharsets.UTF_8));
    typing.flush();
    CliFixture.Result r = connect.await();
    typing.close();

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.err).contains("That is not the redirected URL");
    assertThat(cli.kakao.codeExchanges()).isEqualTo(1);
  }

  @Test
  void connect_noRedirect_timesOutWithTheFix() throws Exception {
    PipedOutputStream typing = new PipedOutputStream();
    PipedInputStream stdin = new PipedInputStream(typing);
    CliFixture.Result r =
        cli.start(stdin, "connect", "kakao:shop-bot", "--timeout", "300ms").await();
    typing.close();

    assertThat(r.code).isEqualTo(ExitCode.FAILURE);
    assertThat(r.err.strip())
        .isEqualTo(
            "no redirect arrived for kakao:shop-bot within 300ms — run `tokenbroker connect"
                + " kakao:shop-bot` again (and approve within the time, or pass --timeout)");
    assertThat(cli.kakao.codeExchanges()).isZero();
  }

  @Test
  void connect_emptyStandardInput_withoutListener_saysHowToPaste() {
    CliFixture.Result r = cli.run("connect", "kakao:shop-bot");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("no redirected URL on standard input");
  }

  @Test
  void connect_accessDeniedInTheBrowser_failsWithOneLine() throws Exception {
    cli.cafe24.denyAuthorizations(true);
    CliFixture.Running connect =
        cli.start(new ByteArrayInputStream(new byte[0]), "connect", "cafe24:mymall");
    Map.Entry<Integer, String> page = CliFixture.browse(connect.authorizationUrl());
    CliFixture.Result r = connect.await();

    assertThat(page.getKey()).isEqualTo(400);
    assertThat(page.getValue()).contains("Not connected").contains("access_denied");
    assertThat(r.code).isEqualTo(ExitCode.FAILURE);
    assertThat(r.err.strip())
        .startsWith("connection cafe24:mymall: authorization was not granted: access_denied")
        .endsWith("— run `tokenbroker connect cafe24:mymall` again")
        .doesNotContain("\n");
    assertThat(cli.cafe24.codeExchanges()).isZero();
  }

  @Test
  void connect_clientCredentialsConnection_isAUsageError() {
    CliFixture.Result r = cli.run("connect", "naver:self");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err)
        .contains("naver:self uses client credentials (naver): there is nothing to connect")
        .contains("`tokenbroker token naver:self`");
  }

  // ---- token --------------------------------------------------------------------------------

  @Test
  void token_printsTheAccessTokenAndANewlineOnly() {
    CliFixture.Result r = cli.run("token", "naver:self");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.err).isEmpty();
    assertThat(r.out).endsWith("\n").doesNotContain(" ");
    String token = r.out.substring(0, r.out.length() - 1);
    assertThat(token).isNotEmpty().doesNotContain("\n");
    assertThat(cli.naver.isValid(token)).isTrue();
  }

  @Test
  void token_isSharedThroughTheStore_soASecondInvocationAsksNobody() throws Exception {
    cli.connectCafe24();
    String first = cli.run("token", "cafe24:mymall").out;
    String second = cli.run("token", "cafe24:mymall").out;

    assertThat(second).isEqualTo(first);
    assertThat(cli.cafe24.tokenRequests()).isEqualTo(1); // the code exchange only
    assertThat(cli.cafe24.isAccessTokenValid(first.strip())).isTrue();
  }

  @Test
  void token_afterExpiry_renewsOnceAndSavesTheRotation() throws Exception {
    cli.connectCafe24();
    cli.clock.advance(Duration.ofHours(3));
    CliFixture.Result r = cli.run("token", "cafe24:mymall");

    assertThat(r.code).isZero();
    assertThat(cli.cafe24.refreshes()).isEqualTo(1);
    assertThat(cli.stored(CAFE24).accessToken()).isEqualTo(r.out.strip());
  }

  @Test
  void token_refreshTokenExpired_exits3WithOneLineAndTheFix() throws Exception {
    cli.connectCafe24();
    cli.clock.advance(Duration.ofDays(15));
    CliFixture.Result r = cli.run("token", "cafe24:mymall");

    assertThat(r.code).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(r.out).isEmpty();
    assertThat(r.err.strip())
        .isEqualTo(
            "connection cafe24:mymall needs re-authorization: refresh token expired or already"
                + " used — run `tokenbroker connect cafe24:mymall`");
  }

  @Test
  void token_platformDown_exits4AndSaysWhenToRetry() throws Exception {
    cli.connectCafe24();
    cli.clock.advance(Duration.ofHours(3));
    cli.cafe24.inject(cli.cafe24.tokenPath("mymall"), Fault.html(503));
    CliFixture.Result r = cli.run("token", "cafe24:mymall");

    assertThat(r.code).isEqualTo(ExitCode.UNAVAILABLE);
    assertThat(r.err.strip())
        .startsWith("connection cafe24:mymall: could not get a token now: ")
        .contains("HTTP 503") // an HTML error page's status, without --verbose
        .doesNotContain("next attempt at") // means nothing to a one-shot command
        .doesNotContain("has no valid token")
        .endsWith("— try again later; `tokenbroker status` shows cafe24:mymall's health")
        .doesNotContain("\n");
    assertThat(cli.stored(CAFE24).refreshToken()).isNotNull(); // nothing lost
  }

  @Test
  void token_neverConnected_exits3AndNamesTheCommand() {
    CliFixture.Result r = cli.run("token", "cafe24:mymall");

    assertThat(r.code).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(r.err.strip())
        .isEqualTo(
            "connection cafe24:mymall needs re-authorization: not authorized yet: run `tokenbroker"
                + " connect cafe24:mymall`");
  }

  @Test
  void token_naverSignatureRejected_suggestsFixingCredentialsNotConnect() {
    cli.naver.registerApplication("naver-client", "$2a$04$zzzzzzzzzzzzzzzzzzzzzz");
    CliFixture.Result r = cli.run("token", "naver:self");

    assertThat(r.code).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(r.err)
        .contains("connection naver:self needs re-authorization")
        .contains("then run `tokenbroker refresh naver:self`")
        .doesNotContain("tokenbroker connect");
  }

  // ---- status -------------------------------------------------------------------------------

  @Test
  void status_showsEveryConnection_andExits3WhileOneNeedsAuthorization() throws Exception {
    cli.connectCafe24();
    cli.run("token", "naver:self");
    cli.clock.advance(Duration.ofMinutes(30));
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED); // kakao is not connected
    List<String> lines = r.out.lines().toList();
    assertThat(lines.get(0))
        .startsWith("CONNECTION")
        .contains("PROVIDER", "HEALTH", "ACCESS EXPIRES IN", "REFRESH EXPIRES IN", "LAST RENEWAL")
        .endsWith("REASON");
    // a fresh process: the last renewal is when the stored set was issued, by whichever process
    assertThat(lines.get(1))
        .matches("cafe24:mymall +cafe24 +ACTIVE +1h 30m +13d 23h +30m 0s ago *");
    assertThat(lines.get(2))
        .matches(
            "kakao:shop-bot +kakao +REAUTHORIZATION_REQUIRED +— +— +— +\\[not-authorized\\] not"
                + " authorized yet: run `tokenbroker connect kakao:shop-bot`");
    assertThat(lines.get(3)).matches("naver:self +naver +ACTIVE +2h 30m +— +30m 0s ago *");
  }

  @Test
  void status_json_parsesAndCarriesNoToken() throws Exception {
    cli.connectCafe24();
    cli.connectKakao();
    CliFixture.Result r = cli.run("status", "--json");

    assertThat(r.code).isZero(); // naver has no token yet but needs nobody: ACTIVE
    JsonNode root = new ObjectMapper().readTree(r.out);
    assertThat(root.get("at").asText()).isEqualTo("2026-01-01T00:00:00Z");
    JsonNode connections = root.get("connections");
    assertThat(connections).hasSize(3);
    JsonNode cafe24 = connections.get(0);
    assertThat(cafe24.get("connection").asText()).isEqualTo("cafe24:mymall");
    assertThat(cafe24.get("provider").asText()).isEqualTo("cafe24");
    assertThat(cafe24.get("health").asText()).isEqualTo("ACTIVE");
    assertThat(cafe24.get("accessTokenExpiresAt").asText()).isEqualTo("2026-01-01T02:00:00Z");
    assertThat(cafe24.get("accessTokenExpiresInSeconds").asLong()).isEqualTo(7200);
    assertThat(cafe24.get("refreshTokenExpiresInSeconds").asLong()).isEqualTo(14 * 86400);
    assertThat(cafe24.get("reason").isNull()).isTrue();
    assertThat(connections.get(2).get("refreshTokenExpiresAt").isNull()).isTrue();
    assertThat(r.out)
        .doesNotContain(cli.stored(CAFE24).accessToken())
        .doesNotContain(cli.stored(KAKAO).refreshToken());
  }

  // ---- refresh, revoke, validate ------------------------------------------------------------

  @Test
  void refresh_rotatesAndShowsTheNewExpiries() throws Exception {
    cli.connectCafe24();
    TokenSet before = cli.stored(CAFE24);
    cli.clock.advance(Duration.ofMinutes(10));
    CliFixture.Result r = cli.run("refresh", "cafe24:mymall");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .startsWith("✓ renewed cafe24:mymall")
        .containsPattern("refresh token +expires 2026-01-15T00:10:00Z");
    assertThat(cli.cafe24.refreshes()).isEqualTo(1);
    assertThat(cli.cafe24.isRefreshTokenValid(before.refreshToken())).isFalse();
    assertThat(cli.stored(CAFE24).version()).isEqualTo(before.version() + 1);
  }

  @Test
  void revoke_cafe24_killsBothTokens_andTheConnectionNeedsConnectAgain() throws Exception {
    cli.connectCafe24();
    TokenSet before = cli.stored(CAFE24);
    CliFixture.Result r = cli.run("revoke", "cafe24:mymall");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .contains("✓ cafe24:mymall: revoked at the platform (or already dead there) and deleted")
        .contains("run `tokenbroker connect cafe24:mymall`");
    assertThat(cli.cafe24.isAccessTokenValid(before.accessToken())).isFalse();
    assertThat(cli.cafe24.isRefreshTokenValid(before.refreshToken())).isFalse();
    CliFixture.Result token = cli.run("token", "cafe24:mymall");
    assertThat(token.code).isEqualTo(ExitCode.REAUTHORIZATION_REQUIRED);
    assertThat(token.err).contains("run `tokenbroker connect cafe24:mymall`");
    CliFixture.Result again = cli.run("revoke", "cafe24:mymall");
    assertThat(again.out.strip()).isEqualTo("cafe24:mymall holds no tokens: nothing to revoke");
  }

  @Test
  void revoke_naver_saysTheTokenWasOnlyForgottenLocally() {
    assertThat(cli.run("token", "naver:self").code).isZero();
    CliFixture.Result r = cli.run("revoke", "naver:self");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .contains("✓ naver:self: forgotten locally only — naver has no revocation endpoint")
        .contains("stays valid there until it expires")
        .doesNotContain("revoked at the platform");
  }

  @Test
  void revoke_unlink_unlinksTheKakaoUser() throws Exception {
    cli.connectKakao();
    CliFixture.Result r = cli.run("revoke", "kakao:shop-bot", "--unlink");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out).contains("unlinked and revoked");
    assertThat(cli.kakao.unlinks()).isEqualTo(1);
    assertThat(cli.kakao.isLinked("kakao-rest-key", KakaoEmulator.DEFAULT_USER_ID)).isFalse();
  }

  @Test
  void validate_kakao_showsWhatTokenInfoSaid() throws Exception {
    cli.connectKakao();
    CliFixture.Result r = cli.run("validate", "kakao:shop-bot");

    assertThat(r.code).as(r.toString()).isZero();
    assertThat(r.out)
        .startsWith("✓ kakao:shop-bot: the platform accepts the token")
        .containsPattern("app id +" + CliFixture.KAKAO_APP_ID)
        .containsPattern("user id +" + KakaoEmulator.DEFAULT_USER_ID);
    assertThat(cli.kakao.tokenInfoRequests()).isEqualTo(1);
  }

  @Test
  void validate_cafe24_saysItCouldOnlyCheckLocally() throws Exception {
    cli.connectCafe24();
    CliFixture.Result r = cli.run("validate", "cafe24:mymall");

    assertThat(r.code).isZero();
    assertThat(r.out).contains("cafe24 has no token-info endpoint; checked locally");
  }

  // ---- usage and configuration errors -------------------------------------------------------

  @Test
  void import_aScriptsTokensJson_renewsOnceAndSaves_neverOverAStoredSet_neverPrintingTheToken()
      throws Exception {
    String refreshToken = cli.cafe24.connect("mymall").refreshToken(); // kept by an old script
    Path json = dir.resolve("tokens.json");
    java.nio.file.Files.writeString(
        json, "{\"access_token\": \"old\", \"refresh_token\": \"" + refreshToken + "\"}");

    CliFixture.Result r =
        cli.run("import", "cafe24:mymall", "--refresh-token-file", json.toString());

    assertThat(r.code).isZero();
    assertThat(r.out).contains("imported");
    assertThat(r.out + r.err).doesNotContain(refreshToken);
    assertThat(cli.cafe24.refreshes()).as("one renewal proves it live").isEqualTo(1);
    assertThat(cli.cafe24.isRefreshTokenValid(refreshToken)).as("rotated: spent").isFalse();
    TokenSet stored = cli.stored(CAFE24);
    assertThat(cli.cafe24.isAccessTokenValid(stored.accessToken())).isTrue();
    assertThat(cli.cafe24.isRefreshTokenValid(stored.refreshToken())).isTrue();

    CliFixture.Result again =
        cli.run("import", "cafe24:mymall", "--refresh-token-file", json.toString());
    assertThat(again.code).isNotZero();
    assertThat(again.err).contains("never overwrites");
    assertThat(cli.cafe24.refreshes()).as("nothing sent over a stored set").isEqualTo(1);
    assertThat(cli.stored(CAFE24)).isEqualTo(stored);
  }

  @Test
  void exportEncrypted_thenImportIntoANewStore_movesTheChain_andRevealNeedsATerminal()
      throws Exception {
    cli.connectCafe24();
    TokenSet old = cli.stored(CAFE24);
    Path key = dir.resolve("export.key");
    java.nio.file.Files.writeString(
        key, java.util.Base64.getEncoder().encodeToString(new byte[32]) + "\n");

    CliFixture.Result exported =
        cli.run(
            "export", "cafe24:mymall", "--encrypt-to", "moved.bin", "--key-file", key.toString());
    assertThat(exported.code).as(exported.toString()).isZero();
    Path moved = dir.resolve("moved.bin");
    assertThat(java.nio.file.Files.getPosixFilePermissions(moved))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    String bytes = new String(java.nio.file.Files.readAllBytes(moved), StandardCharsets.ISO_8859_1);
    assertThat(bytes).doesNotContain(old.refreshToken()).doesNotContain(old.accessToken());
    assertThat(exported.out + exported.err).doesNotContain(old.refreshToken());

    CliFixture.Result revealed = cli.run("export", "cafe24:mymall", "--reveal");
    assertThat(revealed.code).isEqualTo(ExitCode.USAGE);
    assertThat(revealed.err).contains("terminal");
    assertThat(revealed.out + revealed.err).doesNotContain(old.refreshToken());

    // a new, empty store at the configured path
    java.nio.file.Files.move(dir.resolve("tokens"), dir.resolve("old-tokens"));
    int before = cli.cafe24.refreshes();
    CliFixture.Result imported =
        cli.run(
            "import",
            "cafe24:mymall",
            "--encrypted-file",
            "moved.bin",
            "--key-file",
            key.toString());
    assertThat(imported.code).as(imported.toString()).isZero();
    assertThat(cli.cafe24.refreshes()).isEqualTo(before + 1);
    assertThat(cli.cafe24.isRefreshTokenValid(old.refreshToken()))
        .as("the old store's copy is spent")
        .isFalse();
    assertThat(cli.cafe24.isRefreshTokenValid(cli.stored(CAFE24).refreshToken())).isTrue();

    CliFixture.Result wrongKey =
        cli.run(
            "import",
            "cafe24:mymall",
            "--encrypted-file",
            "moved.bin",
            "--key-file",
            dir.resolve("store.key").toString());
    assertThat(wrongKey.code).isNotZero();
  }

  @Test
  void unknownConnection_exits2AndListsTheConfiguredOnes() {
    CliFixture.Result r = cli.run("token", "cafe24:othermall");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err.strip())
        .isEqualTo(
            "connection cafe24:othermall: no such connection is configured; configured:"
                + " [cafe24:mymall, naver:self, kakao:shop-bot] — fix the configuration file and"
                + " try again");
  }

  @Test
  void malformedConnectionId_exits2() {
    CliFixture.Result r = cli.run("token", "mymall");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).contains("connection id must look like provider:account");
    assertThat(r.err).contains("Run `tokenbroker token --help`");
  }

  @Test
  void missingConfigurationFile_exits2AndSaysWhereItLooked() {
    CliFixture.Result r = cli.run("status", "--config", "nowhere.yaml");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err.strip())
        .isEqualTo("configuration file " + dir.resolve("nowhere.yaml") + " does not exist");
  }

  @Test
  void configOption_worksBeforeAndAfterTheCommand() throws Exception {
    java.nio.file.Files.move(cli.config, dir.resolve("other.yaml"));

    assertThat(cli.run("status").err).contains("no tokenbroker.yaml in " + dir);
    assertThat(cli.run("--config", "other.yaml", "status").out).contains("cafe24:mymall");
    assertThat(cli.run("status", "-c", "other.yaml").out).contains("cafe24:mymall");
  }

  @Test
  void invalidSetting_exits2NamingConnectionAndSetting_neverTheSecret() throws Exception {
    java.nio.file.Files.writeString(
        cli.config,
        java.nio.file.Files.readString(cli.config)
            .replace("client-secret: ${NAVER_SECRET}", "client_secret: ${NAVER_SECRET}"));
    CliFixture.Result r = cli.run("status");

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err)
        .contains("naver:self")
        .contains("client_secret")
        .doesNotContain(CliFixture.NAVER_SECRET);
  }

  @Test
  void failures_showNoStackTrace_unlessVerbose() {
    CliFixture.Result quiet = cli.run("token", "cafe24:mymall");
    CliFixture.Result verbose = cli.run("token", "cafe24:mymall", "--verbose");

    assertThat(quiet.err.lines().count()).isEqualTo(1);
    assertThat(quiet.err).doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(verbose.err).contains("ReauthorizationRequiredException").contains("\tat ");
  }

  @Test
  void noSubcommand_printsUsage() {
    CliFixture.Result r = cli.run();

    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.out).contains("Usage: tokenbroker").contains("connect").contains("demo");
  }

  // ---- other stores -------------------------------------------------------------------------

  @Test
  void jdbcStore_fromTheConfiguration_isFoundAndShared() throws Exception {
    cli.writeConfig(
        String.join(
            "\n",
            "store:",
            "  type: jdbc",
            "  url: jdbc:h2:file:" + dir.resolve("h2/tokens"),
            "  key-file: " + dir.resolve("store.key")));
    String first = cli.run("token", "naver:self").out;
    String second = cli.run("token", "naver:self").out;

    assertThat(first).isNotBlank().isEqualTo(second);
    assertThat(cli.naver.tokenRequests()).isEqualTo(1);
  }

  @Test
  void redisStore_fromTheConfiguration_isFound() throws Exception {
    cli.writeConfig("store:\n  type: redis\n  uri: redis://127.0.0.1:1\n  timeout: 1s");
    CliFixture.Result r = cli.run("status");

    // The factory was found (not "unknown store type"); the server is not there.
    assertThat(r.code).isEqualTo(ExitCode.USAGE);
    assertThat(r.err).doesNotContain("unknown store type").contains("uri");
  }

  // ---- secrets ------------------------------------------------------------------------------

  @Test
  void noCommandEverPrintsATokenOrSecret_exceptTokenItself() throws Exception {
    List<String> secrets = new ArrayList<>();
    cli.connectCafe24();
    cli.connectKakao();
    secrets.add(cli.run("token", "naver:self").out.strip());
    cli.run("status");
    cli.run("status", "--json");
    cli.run("validate", "kakao:shop-bot", "--verbose");
    cli.clock.advance(Duration.ofHours(3));
    cli.run("refresh", "cafe24:mymall", "--verbose");
    secrets.add(cli.run("token", "cafe24:mymall").out.strip());
    for (TokenSet t : List.of(cli.stored(CAFE24), cli.stored(KAKAO), cli.stored(NAVER))) {
      secrets.add(t.accessToken());
      if (t.refreshToken() != null) {
        secrets.add(t.refreshToken());
      }
    }
    cli.run("revoke", "kakao:shop-bot", "--verbose");
    cli.clock.advance(Duration.ofDays(15));
    cli.run("token", "cafe24:mymall", "--verbose");
    secrets.addAll(
        List.of(
            CliFixture.CAFE24_SECRET,
            CliFixture.NAVER_SECRET,
            CliFixture.KAKAO_SECRET,
            cli.storeKey));

    String transcript = cli.transcript.toString();
    assertThat(transcript).contains("✓ connected cafe24:mymall").contains("needs re-authorization");
    for (String secret : secrets) {
      assertThat(transcript).doesNotContain(secret);
    }
  }
}
