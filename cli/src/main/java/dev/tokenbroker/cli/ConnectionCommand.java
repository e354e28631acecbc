package dev.tokenbroker.cli;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenListener;
import dev.tokenbroker.spi.GrantType;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * A command about one connection: builds the broker from the configuration file, runs, closes the
 * broker, and turns any failure into one line and an exit code.
 */
abstract class ConnectionCommand implements Callable<Integer> {
  @ParentCommand TokenbrokerCommand root;

  @Parameters(
      index = "0",
      paramLabel = "CONNECTION",
      converter = ConnectionIdConverter.class,
      description = "the connection, as named in the configuration file (e.g. cafe24:mymall)")
  ConnectionId id;

  @Override
  public final Integer call() {
    Console console = root.console;
    GrantType grantType = null;
    // Only this connection is read from the file: another connection's unset ${VAR} or bad
    // setting cannot stop a command about this one.
    try (TokenBroker broker = brokerFor(id)) {
      grantType = broker.provider(id).grantType(); // also: an unknown connection fails here
      return run(broker, console);
    } catch (RuntimeException e) {
      return Failures.report(console, e, root.verbose, grantType);
    } finally {
      console.out.flush();
    }
  }

  private TokenBroker brokerFor(ConnectionId id) {
    TokenBroker only = root.broker(listener(), id::equals);
    if (only.connections().contains(id)) {
      return only;
    }
    try {
      only.provider(id); // a connection an app's template names
      return only;
    } catch (dev.tokenbroker.ConfigurationException e) {
      // not one: below
    }
    // Not in the file: the whole file, so that the error lists the connections it has.
    only.close();
    return root.broker(listener());
  }

  /** A listener for the broker, or null. */
  @Nullable TokenListener listener() {
    return null;
  }

  abstract int run(TokenBroker broker, Console console);
}
