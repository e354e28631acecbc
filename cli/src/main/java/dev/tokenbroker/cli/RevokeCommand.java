package dev.tokenbroker.cli;

import dev.tokenbroker.Health;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.spi.GrantType;
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
    broker.revoke(id, unlink ? Revocation.UNLINK : Revocation.TOKENS);
    if (broker.provider(id).grantType() == GrantType.CLIENT_CREDENTIALS) {
      console.out.println(
          "✓ "
              + id
              + ": token forgotten (a new one is obtained on next use; one the platform cannot"
              + " revoke stays valid there until it expires)");
    } else {
      console.out.println(
          "✓ "
              + id
              + (unlink ? ": unlinked and revoked" : ": revoked")
              + " at the platform and deleted from the store — run `tokenbroker connect "
              + id
              + "` to connect it again");
    }
    return ExitCode.OK;
  }
}
