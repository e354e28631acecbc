package dev.tokenbroker.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code tokenbroker} command's entry point: {@code java -jar tokenbroker-cli-all.jar …} or the
 * {@code ./tokenbroker} launcher. Exits with the codes documented in the module README (0 ok, 1
 * failure, 2 usage or configuration error, 3 re-authorization required, 4 temporarily unavailable).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    boolean verbose =
        Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v");
    // The engine logs through SLF4J. A one-shot command reports a failure itself, in one line, so
    // the engine's own warnings about it stay quiet unless asked for; the stores' warnings (tokens
    // stored in the clear, a directory other users can read) are for the operator and stay on.
    // Set before the first logger is created.
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "error");
    for (String store : List.of("FileTokenStore", "jdbc", "redis")) {
      setIfAbsent(
          "org.slf4j.simpleLogger.log.dev.tokenbroker." + store, verbose ? "debug" : "warn");
    }
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", verbose ? "true" : "false");
    setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
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
