package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tokenbroker import ID --refresh-token-file F}: brings a live refresh token from an old
 * script into the store, without a new browser login.
 */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    header = "Import a live refresh token kept by another tool (no browser login needed).",
    description =
        "Reads a refresh token (from a file, or standard input with -), renews once with it — which proves it live and, on Cafe24, spends it — and saves the new token set as the connection's first. Never overwrites tokens already in the store. The token is never printed.")
final class ImportCommand extends ConnectionCommand {
  @Option(
      names = "--encrypted-file",
      paramLabel = "FILE",
      description = "a file written by `tokenbroker export --encrypt-to` (needs --key-file)")
  String encryptedFile;

  @Option(
      names = "--key-file",
      paramLabel = "KEY",
      description = "the key the export was encrypted with, for --encrypted-file")
  String keyFile;

  @Option(
      names = "--refresh-token-file",
      paramLabel = "FILE",
      description =
          "a file holding the refresh token alone, or a JSON object with a refresh_token member"
              + " (the tokens.json of a Cafe24 token script); - for standard input")
  String file;

  @Override
  int run(TokenBroker broker, Console console) {
    if ((file == null) == (encryptedFile == null)) {
      throw new UsageException("give either --refresh-token-file FILE or --encrypted-file FILE");
    }
    String token = encryptedFile != null ? fromExport(console) : fromFile(console);
    TokenSet saved = broker.importRefreshToken(id, token.trim());
    console.out.println(
        "✓ "
            + id
            + ": imported — renewed once and saved (version "
            + saved.version()
            + "); the imported refresh token is no longer needed");
    return ExitCode.OK;
  }

  private String fromExport(Console console) {
    if (keyFile == null) {
      throw new UsageException("--encrypted-file needs --key-file");
    }
    try {
      dev.tokenbroker.spi.EncryptionKeys keys = ExportCommand.readKeys(console, keyFile);
      byte[] record = Files.readAllBytes(console.workingDirectory.resolve(encryptedFile));
      TokenSet exported = dev.tokenbroker.spi.TokenCodec.encrypted(keys).decode(id, record);
      if (exported.refreshToken() == null) {
        throw new UsageException("the export holds no refresh token: connect instead");
      }
      return exported.refreshToken();
    } catch (IOException e) {
      throw new UsageException("cannot read " + encryptedFile + ": " + e.getMessage());
    } catch (UsageException e) {
      throw e;
    } catch (RuntimeException e) {
      // never the codec's details: a wrong key, another connection's export, not an export
      throw new UsageException(
          "cannot open "
              + encryptedFile
              + ": not an export of "
              + id
              + " encrypted with the key in "
              + keyFile);
    }
  }

  private String fromFile(Console console) {
    String token;
    try {
      if (file.equals("-")) {
        token =
            new BufferedReader(new InputStreamReader(console.in, StandardCharsets.UTF_8))
                .readLine();
      } else {
        Path path = console.workingDirectory.resolve(file);
        token = Files.readString(path, StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UsageException(
          "cannot read the refresh token from " + file + ": " + e.getMessage());
    }
    if (token != null && token.trim().startsWith("{")) {
      token = fromJson(token);
    }
    if (token == null || token.isBlank()) {
      throw new UsageException("no refresh token in " + file);
    }
    return token;
  }

  /** The {@code refresh_token} (or {@code refreshToken}) member of a JSON object. */
  private static String fromJson(String json) {
    try {
      com.fasterxml.jackson.databind.JsonNode node =
          new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
      com.fasterxml.jackson.databind.JsonNode t =
          node.hasNonNull("refresh_token") ? node.get("refresh_token") : node.get("refreshToken");
      if (t == null || !t.isTextual()) {
        throw new UsageException("the JSON has no refresh_token string member");
      }
      return t.asText();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // never the parser's excerpt: it may quote the token
      throw new UsageException("the refresh token file is not valid JSON");
    }
  }
}
