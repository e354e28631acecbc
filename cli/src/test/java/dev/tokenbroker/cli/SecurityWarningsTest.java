package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command as a separate process, with the logging set-up {@link Main} gives it: a security
 * warning reaches standard error although the command's default log level is quiet.
 */
class SecurityWarningsTest {
  @TempDir Path dir;

  @Test
  void aKeyFileOtherUsersCanRead_isWarnedAbout_withoutVerbose() throws Exception {
    assumeThat(FileSystems.getDefault().supportedFileAttributeViews()).contains("posix");
    Path key = dir.resolve("store.key");
    Files.writeString(key, Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(
        dir.resolve("tokenbroker.yaml"),
        String.join(
            "\n",
            "store: { type: file, path: tokens, key-file: store.key }",
            "connections:",
            "  naver:self: { client-id: naver-client, client-secret: \"$2a$04$abcdefghijklmnopqrstuv\" }",
            ""));

    Files.createDirectories(dir.resolve("tokens")); // status opens only a store that exists
    Process process = command(dir, "status");

    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(err).contains("can be read by other users").contains("chmod 600");
  }

  @Test
  void logSettings_keepOperatorLoggersAtWarn_whenQuiet() {
    assertThat(Main.logSettings(false))
        .containsEntry("org.slf4j.simpleLogger.defaultLogLevel", "error")
        .containsEntry("org.slf4j.simpleLogger.log.dev.tokenbroker.spi.EncryptionKeys", "warn")
        .containsEntry("org.slf4j.simpleLogger.log.dev.tokenbroker.store.FileTokenStore", "warn");
  }

  @Test
  void logSettings_keepJettyOffDebug_evenWhenVerbose_andServeLinesOn() {
    // Jetty's debug output holds raw headers and buffers: a client secret or a token.
    assertThat(Main.logSettings(true))
        .containsEntry("org.slf4j.simpleLogger.log.org.eclipse.jetty", "info");
    assertThat(Main.logSettings(false))
        .containsEntry("org.slf4j.simpleLogger.log.dev.tokenbroker.serve", "info");
  }

  /** {@code java -cp <this test's class path> dev.tokenbroker.cli.Main args} in {@code dir}. */
  static Process command(Path dir, String... args) throws IOException {
    List<String> line =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
    line.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(line).directory(dir.toFile());
    builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    return builder.start();
  }
}
