package dev.tokenbroker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A separate JVM running a test class's {@code main} on the test class path, whose standard output
 * the test reads line by line. Used to kill a process with {@code kill -9} and to share a store
 * between processes.
 */
public final class ChildJvm implements AutoCloseable {
  private static final String EOF = "\u0000EOF";

  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();
  private final Thread reader;

  private ChildJvm(Process process) {
    this.process = process;
    this.reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process died; EOF below
              } finally {
                lines.add(EOF);
              }
            },
            "child-stdout-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  public static ChildJvm start(Class<?> mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Start fast: these children live for a fraction of a second.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:-UsePerfData");
    command.add("-Xshare:auto");
    command.add("-Xmx128m");
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    return new ChildJvm(p);
  }

  /** The next line, or null at end of output or after the timeout. */
  public @Nullable String nextLine(long timeout, TimeUnit unit) throws InterruptedException {
    String line = lines.poll(timeout, unit);
    if (line == null || line.equals(EOF)) {
      if (line != null) {
        lines.add(EOF); // stay at EOF
      }
      return null;
    }
    seen.add(line);
    return line;
  }

  /** Waits for a line starting with {@code prefix}; fails on end of output or timeout. */
  public String await(String prefix, long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? nextLine(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new AssertionError(
            "child " + process.pid() + " did not print '" + prefix + "'; printed " + seen);
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /** Every remaining line until the process's output ends. */
  public List<String> drain(long timeoutSeconds) throws InterruptedException {
    List<String> rest = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    String line;
    while ((line = nextLine(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS))
        != null) {
      rest.add(line);
    }
    return rest;
  }

  /** Writes one line to the process's standard input. */
  public void send(String line) throws IOException {
    process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  /** {@code kill -9}, and waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("child " + process.pid() + " did not die");
    }
  }

  public int waitFor(long timeoutSeconds) throws InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child " + process.pid() + " did not finish; printed " + seen);
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
