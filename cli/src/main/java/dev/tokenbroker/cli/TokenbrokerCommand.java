package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.TokenListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code tokenbroker}: the root command, holding the options every subcommand shares. */
@Command(
    name = "tokenbroker",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description =
        "Keeps OAuth tokens of Cafe24, Naver Commerce and Kakao connections alive. Connections are described in tokenbroker.yaml (see --config); secrets come from $${ENV_VARS}.",
    subcommands = {
      ConnectCommand.class,
      TokenCommand.class,
      StatusCommand.class,
      RefreshCommand.class,
      RevokeCommand.class,
      ValidateCommand.class,
      RunCommand.class,
      DemoCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 failure, 2 usage or configuration error,",
      "  3 re-authorization required, 4 temporarily unavailable (retry later)."
    })
final class TokenbrokerCommand implements Callable<Integer> {
  static final String DEFAULT_CONFIG = "tokenbroker.yaml";

  final Console console;

  @Spec @Nullable CommandSpec spec;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "YAML or .properties configuration (default: " + DEFAULT_CONFIG + ")")
  @Nullable Path config;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "show stack traces and library logs")
  boolean verbose;

  TokenbrokerCommand(Console console) {
    this.console = console;
  }

  @Override
  public Integer call() {
    // No subcommand: show what there is.
    if (spec != null) {
      spec.commandLine().usage(console.out);
    }
    return ExitCode.USAGE;
  }

  /** The configuration file to use, resolved against the working directory; must exist. */
  Path configFile() {
    Path file = console.workingDirectory.resolve(config != null ? config : Path.of(DEFAULT_CONFIG));
    if (!Files.isRegularFile(file)) {
      throw new UsageException(
          config == null
              ? "no "
                  + DEFAULT_CONFIG
                  + " in "
                  + console.workingDirectory
                  + " — create one (see cli/README.md) or pass --config FILE"
              : "configuration file " + file + " does not exist");
    }
    return file;
  }

  /** A broker from the configuration file, on the console's clock and environment. */
  TokenBroker broker(@Nullable TokenListener listener) {
    return broker(
        listener, TokenBroker.builder().withoutKeepAlive()); // one-shot: no background passes
  }

  TokenBroker broker(@Nullable TokenListener listener, TokenBrokerBuilder builder) {
    builder.configFile(configFile()).environment(console.environment).clock(console.clock);
    if (listener != null) {
      builder.listener(listener);
    }
    return console.brokerSetup.apply(builder).build();
  }
}
