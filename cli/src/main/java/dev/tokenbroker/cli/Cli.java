package dev.tokenbroker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.UnmatchedArgumentException;

/** Builds the picocli command tree on a {@link Console} and runs one command line. */
final class Cli {
  private Cli() {}

  /** Runs {@code args} and returns the exit code; never calls {@code System.exit}. */
  static int execute(Console console, String... args) {
    CommandLine cli = commandLine(console);
    int code = cli.execute(args);
    console.out.flush();
    console.err.flush();
    return code;
  }

  static CommandLine commandLine(Console console) {
    CommandLine cli = new CommandLine(new TokenbrokerCommand(console));
    cli.setOut(console.out);
    cli.setErr(console.err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    // `demo` reads no configuration: do not offer the inherited --config there.
    CommandSpec demo = cli.getSubcommands().get("demo").getCommandSpec();
    demo.remove(demo.findOption("--config"));
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
          if (e instanceof UnmatchedArgumentException
              && c.getParent() == null
              && !((UnmatchedArgumentException) e).getUnmatched().isEmpty()
              && !((UnmatchedArgumentException) e).getUnmatched().get(0).startsWith("-")) {
            c.getErr()
                .println(
                    "unknown command '"
                        + ((UnmatchedArgumentException) e).getUnmatched().get(0)
                        + "'; commands: "
                        + String.join(", ", c.getSubcommands().keySet())
                        + " (`tokenbroker COMMAND --help` for one)");
            return ExitCode.USAGE;
          }
          c.getErr().println(e.getMessage());
          c.getErr()
              .println("Run `" + c.getCommandSpec().qualifiedName() + " --help` for the options.");
          return ExitCode.USAGE;
        });
    cli.setExecutionExceptionHandler(
        (e, c, parseResult) -> Failures.report(console, e, isVerbose(c)));
    return cli;
  }

  private static boolean isVerbose(CommandLine c) {
    CommandLine root = c;
    while (root.getParent() != null) {
      root = root.getParent();
    }
    return ((TokenbrokerCommand) root.getCommand()).verbose;
  }
}
