package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.TokenProvider;
import picocli.CommandLine.Command;

/** {@code tokenbroker validate ID}: asks the platform whether the current token is good. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    header = "Check the current token with the platform (Kakao token info).",
    description =
        "Checks the current token with the platform (Kakao: token info, which also records the user and app id) and shows what it reported. Providers without a token-info endpoint (Cafe24, Naver) only check that a valid token can be had.")
final class ValidateCommand extends ConnectionCommand {
  @Override
  int run(TokenBroker broker, Console console) {
    TokenSet tokens = broker.validate(id);
    TokenProvider provider = broker.provider(id);
    console.out.println(
        "✓ "
            + id
            + (checksRemotely(provider)
                ? ": the platform accepts the token"
                : ": a valid token is available ("
                    + provider.name()
                    + " has no token-info endpoint; checked locally)"));
    Text.printLines(console.out, Text.describe(tokens, console.clock.instant()));
    return ExitCode.OK;
  }

  /** Whether the provider overrides {@link TokenProvider#validate} with a platform call. */
  static boolean checksRemotely(TokenProvider provider) {
    try {
      return provider.getClass().getMethod("validate", TokenSet.class).getDeclaringClass()
          != TokenProvider.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
