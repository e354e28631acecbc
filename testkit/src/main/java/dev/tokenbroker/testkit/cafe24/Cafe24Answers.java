package dev.tokenbroker.testkit.cafe24;

import dev.tokenbroker.testkit.MockResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The shapes of the {@link Cafe24Emulator}'s answers: the OAuth error ({@code error}, {@code
 * error_description}), the Admin API error ({@code error.code}, {@code error.message}, {@code
 * error.more_info}), the 405 of a wrong method, and the 302 back to the app's redirect URI with a
 * code or an error and the {@code state}. Stateless.
 */
final class Cafe24Answers {
  private Cafe24Answers() {}

  static MockResponse redirect(
      String redirectUri, String name, String value, @Nullable String state) {
    StringBuilder location = new StringBuilder(redirectUri);
    location
        .append(redirectUri.indexOf('?') < 0 ? '?' : '&')
        .append(name)
        .append('=')
        .append(encode(value));
    if (state != null) {
      location.append("&state=").append(encode(state));
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.toString());
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  static MockResponse oauthError(int status, String error, String description) {
    return Cafe24Emulator.jsonAnswer(
        status, Cafe24Emulator.jsonObject("error", error, "error_description", description));
  }

  static MockResponse apiError(int status, String code, String message) {
    return Cafe24Emulator.jsonAnswer(
        status,
        Cafe24Emulator.jsonObject(
            "error",
            Cafe24Emulator.jsonObject("code", code, "message", message, "more_info", Map.of())));
  }

  static MockResponse notAllowed() {
    return oauthError(405, "invalid_request", "Method not allowed");
  }
}
