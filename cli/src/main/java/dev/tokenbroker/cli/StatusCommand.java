package dev.tokenbroker.cli;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.spi.Secrets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  private TokenBroker brokerWithout(Map<ConnectionId, String> misconfigured) {
    while (true) {
      try {
        return root.broker(null, id -> !misconfigured.containsKey(id));
      } catch (ConfigurationException e) {
        ConnectionId id = e.connection();
        if (id == null || misconfigured.containsKey(id)) {
          throw e;
        }
        misconfigured.put(id, e.getMessage());
      }
    }
  }

  @Override
  public Integer call() {
    Console console = root.console;
    // A connection whose settings cannot be resolved (an unset ${VAR}, a bad value) is reported in
    // its own row; the others are still shown.
    Map<ConnectionId, String> misconfigured = new LinkedHashMap<>();
    try (TokenBroker broker = brokerWithout(misconfigured)) {
      StatusTable table =
          StatusTable.of(broker, console.clock.instant()).withMisconfigured(misconfigured);
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
      for (String error : misconfigured.values()) {
        console.err.println(
            Secrets.scrub(error + " — fix the configuration file and try again", List.of(), 600));
      }
      return table.exitCode();
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose);
    } finally {
      console.out.flush();
    }
  }
}
