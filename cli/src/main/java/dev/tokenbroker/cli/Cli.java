package dev.tokenbroker.cli;

import picocli.CommandLine;

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
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
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
