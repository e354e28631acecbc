package dev.tokenbroker.cli;

import dev.tokenbroker.Health;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tokenbroker revoke ID [--unlink]}: ends the connection's tokens at the platform. */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    header = "Revoke a connection's tokens at the platform and forget them.",
    description =
        "Revokes the connection's tokens at the platform and deletes them from the store. An authorization-code connection (Cafe24, Kakao) then needs `tokenbroker connect` again.")
final class RevokeCommand extends ConnectionCommand {
  /** Whether {@code provider} implements revocation (the SPI's default refuses: Naver). */
  static boolean revokesAtPlatform(TokenProvider provider) {
    try {
      return provider
              .getClass()
              .getMethod("revoke", TokenSet.class, Revocation.class)
              .getDeclaringClass()
          != TokenProvider.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  @Option(
      names = "--unlink",
      description =
          "Kakao: also unlink the app from the user's account (ends every token of that user for"
              + " the app). Elsewhere the same as a plain revoke.")
  boolean unlink;

  @Override
  int run(TokenBroker broker, Console console) {
    Health before = broker.health(id);
    if (before.accessTokenExpiresAt() == null && before.refreshTokenExpiresAt() == null) {
      console.out.println(id + " holds no tokens: nothing to revoke");
      return ExitCode.OK;
    }
    TokenProvider provider = broker.provider(id);
    broker.revoke(id, unlink ? Revocation.UNLINK : Revocation.TOKENS);
    String again =
        provider.grantType() == GrantType.CLIENT_CREDENTIALS
            ? "a new token is obtained on next use"
            : "run `tokenbroker connect " + id + "` to connect it again";
    if (!revokesAtPlatform(provider)) {
      // Say plainly that the platform was not told: its token stays usable there until it expires.
      console.out.println(
          "✓ "
              + id
              + ": forgotten locally only — "
              + provider.name()
              + " has no revocation endpoint, so the token stays valid there until it expires"
              + (before.accessTokenExpiresAt() == null
                  ? ""
                  : " (" + before.accessTokenExpiresAt() + ")")
              + "; "
              + again);
    } else {
      console.out.println(
          "✓ "
              + id
              + (unlink ? ": unlinked and revoked" : ": revoked")
              + " at the platform (or already dead there) and deleted from the store — "
              + again);
    }
    return ExitCode.OK;
  }
}
