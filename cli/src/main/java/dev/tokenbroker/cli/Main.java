package dev.tokenbroker.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
    // The engine logs through SLF4J; a one-shot command reports failures itself in one line, so
    // library warnings stay quiet unless asked for. Set before the first logger is created.
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "error");
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
    setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
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
