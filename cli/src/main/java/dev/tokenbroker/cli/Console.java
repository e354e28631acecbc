package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBrokerBuilder;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Everything a command touches outside itself: its streams, the environment for {@code ${VAR}}
 * substitution, the clock, the working directory, how to run code at JVM shutdown, and a hook that
 * may adjust every broker before it is built. {@link Main} builds the real one; tests build one
 * with string writers, a fake clock and a shared store, and never call {@code System.exit}.
 */
final class Console {
  final PrintWriter out;
  final PrintWriter err;
  final InputStream in;
  final Map<String, String> environment;
  final Clock clock;
  final Path workingDirectory;
  final Consumer<Runnable> onShutdown;
  final UnaryOperator<TokenBrokerBuilder> brokerSetup;

  /**
   * Whether this user may write a directory: {@code Files::isWritable}; tests running as root fake
   * it.
   */
  final Predicate<Path> writable;

  Console(
      PrintWriter out,
      PrintWriter err,
      InputStream in,
      Map<String, String> environment,
      Clock clock,
      Path workingDirectory,
      Consumer<Runnable> onShutdown,
      UnaryOperator<TokenBrokerBuilder> brokerSetup) {
    this(
        out,
        err,
        in,
        environment,
        clock,
        workingDirectory,
        onShutdown,
        brokerSetup,
        Files::isWritable);
  }

  Console(
      PrintWriter out,
      PrintWriter err,
      InputStream in,
      Map<String, String> environment,
      Clock clock,
      Path workingDirectory,
      Consumer<Runnable> onShutdown,
      UnaryOperator<TokenBrokerBuilder> brokerSetup,
      Predicate<Path> writable) {
    this.out = Objects.requireNonNull(out);
    this.err = Objects.requireNonNull(err);
    this.in = Objects.requireNonNull(in);
    this.environment = Map.copyOf(environment);
    this.clock = Objects.requireNonNull(clock);
    this.workingDirectory = Objects.requireNonNull(workingDirectory);
    this.onShutdown = Objects.requireNonNull(onShutdown);
    this.brokerSetup = Objects.requireNonNull(brokerSetup);
    this.writable = Objects.requireNonNull(writable);
  }

  /** The real world: standard streams, the process environment, the system clock. */
  static Console system() {
    return new Console(
        new PrintWriter(System.out, true),
        new PrintWriter(System.err, true),
        System.in,
        System.getenv(),
        Clock.systemUTC(),
        Path.of("").toAbsolutePath(),
        hook -> Runtime.getRuntime().addShutdownHook(new Thread(hook, "tokenbroker-shutdown")),
        UnaryOperator.identity());
  }
}
