package dev.tokenbroker.cli;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code tokenbroker status [--json]}: every connection's health. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    header = "Show every connection: health, expiries, last renewal, reason.",
    description =
        "Shows every configured connection: provider, health, when the access and refresh tokens expire, the last renewal, and why a connection is unhealthy. Reads the store only: contacts no platform and renews nothing. Exits 0 when every connection is ACTIVE, 4 when one is DEGRADED, 3 when one needs re-authorization.")
final class StatusCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Option(names = "--json", description = "print JSON instead of a table")
  boolean json;

  private TokenBroker brokerWithout(
      Map<ConnectionId, String> misconfigured, UnaryOperator<TokenBrokerBuilder> more) {
    while (true) {
      try {
        return root.broker(null, id -> !misconfigured.containsKey(id), more);
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
    // `status` reads only: a file store whose directory does not exist yet holds nothing, and
    // opening it would create the directory. An empty store in memory says the same.
    UnaryOperator<TokenBrokerBuilder> more = UnaryOperator.identity();
    String storeNote = null;
    String storeProblem = null;
    try {
      Path file = root.configFile();
      Path dir = TokenbrokerCommand.fileStoreDirectory(file);
      if (dir != null && !Files.exists(dir)) {
        more = b -> b.store(new InMemoryTokenStore(console.clock));
        storeNote = "store directory " + dir + " does not exist yet: nothing has been stored there";
      } else if (dir != null && !console.writable.test(dir)) {
        // Reading works, so every row may look fine: the next renewal or connect will not.
        storeProblem =
            "token store: "
                + dir
                + " is not writable by this user — renewals and connects will fail; make it"
                + " readable and writable by the user running tokenbroker (owner or mode)";
      }
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose);
    }
    try (TokenBroker broker = brokerWithout(misconfigured, more)) {
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
      if (storeNote != null) {
        console.err.println(storeNote);
      }
      if (storeProblem != null) {
        console.err.println(storeProblem);
        return ExitCode.USAGE;
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
