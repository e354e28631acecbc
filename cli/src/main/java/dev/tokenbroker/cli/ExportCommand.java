package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tokenbroker export ID (--encrypt-to FILE --key-file KEY | --reveal)}: a connection's
 * tokens out of the store, for moving stores or leaving.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    header = "Export a connection's tokens: encrypted to a file, or shown on a terminal.",
    description =
        "For moving to another store (then `tokenbroker import … --encrypted-file`) or leaving. Either encrypted with a key of your own (AES-256-GCM, the file store's record format; the file is created owner-only), or, with --reveal, printed as JSON on a terminal — never into a pipe or file. The chain is the same afterwards: once either copy renews (Cafe24 rotates on every renewal), the other copy's refresh token is dead, so stop using the old one.")
final class ExportCommand extends ConnectionCommand {
  @Option(
      names = "--encrypt-to",
      paramLabel = "FILE",
      description = "write the token set, encrypted, to this new file")
  String encryptTo;

  @Option(
      names = "--key-file",
      paramLabel = "KEY",
      description = "32 random bytes, base64 (as a store's key-file), for --encrypt-to")
  String keyFile;

  @Option(
      names = "--reveal",
      description = "print the tokens as JSON; only when standard output is a terminal")
  boolean reveal;

  @Override
  int run(TokenBroker broker, Console console) {
    if ((encryptTo == null) == !reveal) {
      throw new UsageException("give either --encrypt-to FILE --key-file KEY, or --reveal");
    }
    if (reveal) {
      if (System.console() == null) {
        throw new UsageException(
            "--reveal prints tokens to a terminal only; standard output is not one (use"
                + " --encrypt-to to move them)");
      }
      TokenSet t = broker.tokenSet(id);
      console.out.println(json(t));
      return ExitCode.OK;
    }
    if (keyFile == null) {
      throw new UsageException("--encrypt-to needs --key-file");
    }
    EncryptionKeys keys = readKeys(console, keyFile);
    TokenSet t = broker.tokenSet(id);
    byte[] record = TokenCodec.encrypted(keys).encode(id, t);
    Path out = console.workingDirectory.resolve(encryptTo);
    try {
      Files.createFile(
          out, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(out, record, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UsageException("cannot create " + out + ": " + e.getMessage());
    }
    console.out.println(
        "✓ "
            + id
            + ": exported, encrypted, to "
            + out
            + " (version "
            + t.version()
            + "); import it elsewhere with `tokenbroker import "
            + id
            + " --encrypted-file FILE --key-file KEY`, then stop using this store's copy");
    return ExitCode.OK;
  }

  /**
   * The key in {@code keyFile} (32 random bytes, base64, as a store's key file), relative to the
   * working directory; for export and import alike.
   */
  static EncryptionKeys readKeys(Console console, String keyFile) {
    try {
      return EncryptionKeys.parse(
          Files.readString(console.workingDirectory.resolve(keyFile), StandardCharsets.UTF_8)
              .trim());
    } catch (IOException e) {
      throw new UsageException("cannot read the key file " + keyFile + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "the key file " + keyFile + " holds no valid key: " + e.getMessage());
    }
  }

  /** The set as JSON, escaped by Jackson (a token may hold any printable ASCII, quotes too). */
  private static String json(TokenSet t) {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("access_token", t.accessToken());
    if (t.refreshToken() != null) {
      m.put("refresh_token", t.refreshToken());
    }
    m.put("expires_at", t.expiresAt().toString());
    if (t.refreshExpiresAt() != null) {
      m.put("refresh_expires_at", t.refreshExpiresAt().toString());
    }
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a map of strings always serialises", e);
    }
  }
}
