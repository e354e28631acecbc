package dev.tokenbroker.benchmarks.scenarios;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The token handling people write by hand today: keep the tokens in {@code tokens.json}, read the
 * file on every call, and when the access token has expired POST {@code grant_type=refresh_token}
 * to the token endpoint and write the answer back. No lock and no single flight: nothing stops two
 * threads (or two processes) from refreshing with the same refresh token at once, or a reader from
 * seeing the file while a writer has just truncated it. That is the point of the comparison; the
 * code is otherwise written plainly, the way such a helper usually looks.
 *
 * <p>File format: {@code {"access_token": …, "refresh_token": …, "expires_at": epoch millis}}.
 */
final class TokensJsonClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final String tokenUrl;
  private final String clientId;
  private final String clientSecret;
  private final OkHttpClient http;
  private final Clock clock;

  TokensJsonClient(
      Path file,
      String tokenUrl,
      String clientId,
      String clientSecret,
      OkHttpClient http,
      Clock clock) {
    this.file = file;
    this.tokenUrl = tokenUrl;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.http = http;
    this.clock = clock;
  }

  /** Writes a first {@code tokens.json}, as a one-time login script would. */
  static void writeTokens(Path file, String accessToken, String refreshToken, long expiresAtMillis)
      throws IOException {
    ObjectNode tokens = JSON.createObjectNode();
    tokens.put("access_token", accessToken);
    tokens.put("refresh_token", refreshToken);
    tokens.put("expires_at", expiresAtMillis);
    Files.writeString(file, JSON.writeValueAsString(tokens));
  }

  /** The access token from {@code tokens.json}, refreshed first if it has expired. */
  String accessToken() throws IOException {
    JsonNode tokens = JSON.readTree(Files.readString(file));
    if (clock.millis() < tokens.get("expires_at").asLong()) {
      return tokens.get("access_token").asText();
    }
    String refreshToken = tokens.get("refresh_token").asText();
    Request request =
        new Request.Builder()
            .url(tokenUrl)
            .header("Authorization", Credentials.basic(clientId, clientSecret))
            .post(
                new FormBody.Builder()
                    .add("grant_type", "refresh_token")
                    .add("refresh_token", refreshToken)
                    .build())
            .build();
    try (Response response = http.newCall(request).execute()) {
      ResponseBody body = response.body();
      JsonNode answer = JSON.readTree(body == null ? "" : body.string());
      if (!response.isSuccessful()) {
        throw new IOException(
            "token refresh failed: HTTP " + response.code() + " " + answer.path("error").asText());
      }
      String accessToken = answer.get("access_token").asText();
      // Servers that do not rotate send no refresh_token: keep the one we have.
      String newRefreshToken = answer.path("refresh_token").asText(refreshToken);
      long expiresAt = clock.millis() + answer.get("expires_in").asLong() * 1000;
      writeTokens(file, accessToken, newRefreshToken, expiresAt);
      return accessToken;
    }
  }
}
