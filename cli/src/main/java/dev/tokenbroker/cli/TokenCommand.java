package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import picocli.CommandLine.Command;

/** {@code tokenbroker token ID}: a valid access token and nothing else, for scripts. */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    header = "Print a valid access token and nothing else (for scripts).",
    description =
        "Prints a valid access token (renewing it first if needed) and a newline — nothing else. For scripts: curl -H \"Authorization: Bearer $(./tokenbroker token cafe24:mymall)\" …")
final class TokenCommand extends ConnectionCommand {
  @Override
  int run(TokenBroker broker, Console console) {
    String token = broker.accessToken(id);
    console.out.println(token);
    return ExitCode.OK;
  }
}
