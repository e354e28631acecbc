package dev.tokenbroker.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenbroker} command's entry point: {@code java -jar tokenbroker-cli-all.jar …} or the
 * {@code ./tokenbroker} launcher. Exits with the codes documented in the module README (0 ok, 1
 * failure, 2 usage or configuration error, 3 re-authorization required, 4 temporarily unavailable).
 */
public final class Main {
  private Main() {}

  /**
   * Runs one command line and exits with its code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    boolean verbose =
        Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v");
    logSettings(verbose).forEach(Main::setIfAbsent); // before the first logger is created
    Console system = Console.system();
    // UTF-8 on purpose (✓, ✗, box characters): every current terminal speaks it, whereas Java 17
    // takes the locale's charset, which in minimal containers is ASCII.
    Console console =
        new Console(
            utf8(FileDescriptor.out),
            utf8(FileDescriptor.err),
            system.in,
            system.environment,
            system.clock,
            system.workingDirectory,
            system.onShutdown,
            system.brokerSetup);
    int code = Cli.execute(console, args);
    console.out.flush();
    console.err.flush();
    System.exit(code);
  }

  /**
   * The slf4j-simple settings the command runs with. A one-shot command reports a failure itself,
   * in one line, so the engine's own warnings about it stay quiet unless asked for. Warnings for
   * the operator stay on whatever the level: the stores' ("tokens are stored in the clear", "the
   * token directory is readable by other users") and every security warning (a key file other users
   * can read). {@code --verbose} shows everything at debug level.
   */
  static Map<String, String> logSettings(boolean verbose) {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "error");
    for (String logger : OPERATOR_LOGGERS) {
      settings.put("org.slf4j.simpleLogger.log." + logger, verbose ? "debug" : "warn");
    }
    // `serve` logs one JSON line per event and request on these loggers: always shown.
    settings.put("org.slf4j.simpleLogger.log.dev.tokenbroker.serve", verbose ? "debug" : "info");
    // Jetty's debug lines show raw headers and buffers (a bearer secret, a token): never debug.
    settings.put("org.slf4j.simpleLogger.log.org.eclipse.jetty", verbose ? "info" : "warn");
    settings.put("org.slf4j.simpleLogger.logFile", "System.err");
    settings.put("org.slf4j.simpleLogger.showThreadName", verbose ? "true" : "false");
    settings.put("org.slf4j.simpleLogger.showShortLogName", "true");
    return settings;
  }

  /** Loggers whose warnings an operator must see even when the command is quiet. */
  static final List<String> OPERATOR_LOGGERS =
      List.of(
          "dev.tokenbroker.store.FileTokenStore",
          "dev.tokenbroker.spi.EncryptionKeys",
          "dev.tokenbroker.jdbc",
          "dev.tokenbroker.redis");

  private static PrintWriter utf8(FileDescriptor fd) {
    return new PrintWriter(
        new OutputStreamWriter(new FileOutputStream(fd), StandardCharsets.UTF_8), true);
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
