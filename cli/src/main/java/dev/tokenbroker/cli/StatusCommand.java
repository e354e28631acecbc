package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code tokenbroker status [--json]}: every connection's health. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    header = "Show every connection: health, expiries, last renewal, reason.",
    description =
        "Shows every configured connection: provider, health, when the access and refresh tokens expire, the last renewal by this process, and why a connection is unhealthy. Reads the store only: contacts no platform and renews nothing. Exits 0 when every connection is ACTIVE, 4 when one is DEGRADED, 3 when one needs re-authorization.")
final class StatusCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Option(names = "--json", description = "print JSON instead of a table")
  boolean json;

  @Override
  public Integer call() {
    Console console = root.console;
    try (TokenBroker broker = root.broker(null)) {
      StatusTable table = StatusTable.of(broker, console.clock.instant());
      if (table.isEmpty()) {
        // Nothing configured is not healthy: a truncated file must not pass a health check.
        throw new UsageException(
            "no connections configured in "
                + root.configFile()
                + " — add a connections: section (see cli/README.md)");
      }
      if (json) {
        table.printJson(console.out);
      } else {
        table.printTable(console.out);
      }
      return table.exitCode();
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose);
    } finally {
      console.out.flush();
    }
  }
}
