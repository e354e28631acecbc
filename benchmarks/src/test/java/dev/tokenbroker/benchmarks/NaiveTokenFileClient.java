package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The hand-written client issue 8 compares with: tokens live in a {@code tokens.json} file, and
 * every call reads the file ({@link Files#readAllBytes}), parses it with Jackson, checks the expiry
 * against {@link System#currentTimeMillis()} and returns the access token. Only the shared {@link
 * ObjectMapper} is kept between calls (as most such scripts at least do).
 *
 * <p>An expired token would be refreshed here; this benchmark stand-in counts that instead ({@link
 * #refreshes()}), since only a valid token is measured.
 */
final class NaiveTokenFileClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Refresh a minute before expiry, as the usual script does. */
  private static final long MARGIN_SECONDS = 60;

  private final Path file;
  private final AtomicLong refreshes = new AtomicLong();

  NaiveTokenFileClient(Path file) {
    this.file = file;
  }

  /** Writes {@code tokens.json} as the script's login step would: tokens and expiry in seconds. */
  static void write(Path file, String accessToken, String refreshToken, long expiresAtEpochSecond)
      throws IOException {
    ObjectNode tokens = JSON.createObjectNode();
    tokens.put("access_token", accessToken);
    tokens.put("token_type", "Bearer");
    tokens.put("refresh_token", refreshToken);
    tokens.put("expires_at", expiresAtEpochSecond);
    Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tokens));
  }

  /** One call: read, parse, check the expiry, return the access token. */
  String accessToken() throws IOException {
    JsonNode tokens = JSON.readTree(Files.readAllBytes(file));
    long expiresAt = tokens.get("expires_at").asLong();
    if (System.currentTimeMillis() / 1000 >= expiresAt - MARGIN_SECONDS) {
      refreshes.incrementAndGet();
      throw new IllegalStateException("tokens.json holds an expired token: would refresh here");
    }
    return tokens.get("access_token").asText();
  }

  /** How many calls found an expired token (and would have refreshed it). */
  long refreshes() {
    return refreshes.get();
  }
}
