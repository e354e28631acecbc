package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import java.time.Instant;
import picocli.CommandLine.Command;

/** {@code tokenbroker refresh ID}: renews now, whatever the token's age. */
@Command(
    name = "refresh",
    mixinStandardHelpOptions = true,
    header = "Renew a connection's tokens now.",
    description =
        "Renews the connection's tokens now, whatever their age, and saves them before use. Also retries a connection that needed re-authorization after you fixed the cause.")
final class RefreshCommand extends ConnectionCommand {
  @Override
  int run(TokenBroker broker, Console console) {
    TokenSet tokens = broker.refresh(id);
    Instant now = console.clock.instant();
    console.out.println("✓ renewed " + id);
    Text.printLines(console.out, Text.describe(tokens, now));
    return ExitCode.OK;
  }
}
