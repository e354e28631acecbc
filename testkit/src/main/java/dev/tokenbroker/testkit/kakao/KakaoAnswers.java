package dev.tokenbroker.testkit.kakao;

import dev.tokenbroker.testkit.MockResponse;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The shapes of the {@link KakaoEmulator}'s answers: kauth's error ({@code error}, {@code
 * error_description}, {@code error_code}), kapi's error ({@code msg}, {@code code}), the HTML error
 * page authorize shows instead of redirecting, and the redirect carrying an OAuth error. Stateless.
 */
final class KakaoAnswers {
  private KakaoAnswers() {}

  static MockResponse kauth(
      int status, String error, String description, @Nullable String errorCode) {
    return KakaoEmulator.jsonAnswer(
        status,
        KakaoEmulator.jsonObject(
            "error", error, "error_description", description, "error_code", errorCode));
  }

  static MockResponse kapi(int status, int code, String msg) {
    return KakaoEmulator.jsonAnswer(status, KakaoEmulator.jsonObject("msg", msg, "code", code));
  }

  static MockResponse errorPage(int status, String koe, String what) {
    return new MockResponse()
        .setResponseCode(status)
        .setHeader("Content-Type", "text/html;charset=utf-8")
        .setBody("<html><body><h1>Kakao</h1><p>" + koe + ": " + what + "</p></body></html>");
  }

  static MockResponse redirectError(
      String redirect, @Nullable String state, String error, String description) {
    HttpUrl.Builder to =
        Objects.requireNonNull(HttpUrl.parse(redirect))
            .newBuilder()
            .addQueryParameter("error", error)
            .addQueryParameter("error_description", description);
    if (state != null) {
      to.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", to.build().toString());
  }
}
