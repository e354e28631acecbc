package dev.tokenbroker.kakao;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.spi.OAuthErrors;
import dev.tokenbroker.spi.OAuthErrors.Call;
import dev.tokenbroker.spi.OAuthErrors.Verdict;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenResponse;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads Kakao's two error shapes: kauth's {@code {"error", "error_description", "error_code":
 * "KOE…"}} and kapi's {@code {"msg", "code": -NNN}}.
 */
final class KakaoErrors {
  static final String REFRESH_DEAD = "refresh token expired or invalid: the user must log in again";
  static final String CODE_SPENT = "authorization code already used or unknown";
  // Says "unlinked": the broker reads the Health reason code (unlinked) from these words.
  static final String NOT_LINKED =
      "the user unlinked the app (the Kakao account is not linked to it): the user must log in"
          + " again";

  /** Kakao's {@code error_code}s, read before its {@code error}. */
  private static final Map<String, Verdict> KOE =
      Map.of(
          "KOE322", Verdict.permanent(REFRESH_DEAD),
          "KOE320", Verdict.permanent(CODE_SPENT),
          "KOE006",
              Verdict.permanent(
                  "redirect URI not registered for the app: check redirect-uri and the console"),
          "KOE303", Verdict.permanent("redirect URI differs from the one the authorization used"),
          // Kakao documents KOE003 as a temporary error of its OAuth server.
          "KOE003", Verdict.temporary("temporary error at Kakao's OAuth server"));

  /** Kakao's {@code error}s that mean more than RFC 6749 says. */
  private static final Map<String, Verdict> ERROR =
      Map.of(
          "invalid_client",
              Verdict.permanent(
                  "client credentials rejected: check client-id (REST API key) and client-secret"),
          // Kakao's own error code: the app's console settings, not the request, are wrong.
          "misconfigured",
              Verdict.permanent("the app is misconfigured in the Kakao Developers console"));

  private KakaoErrors() {}

  /**
   * Classifies a failed {@code /oauth/token} answer: Kakao's {@code KOE} codes first, then RFC 6749
   * §5.2; the {@code KOE} code is kept as the platform code.
   */
  static TokenEndpointException token(TokenResponse r, Call call) {
    String errorCode = r.text("error_code");
    return OAuthErrors.classify(r, call, (x, c, b) -> koe(x, c, b.platformCode(errorCode)))
        .toBuilder()
        .platformCode(errorCode)
        .build();
  }

  private static @Nullable TokenEndpointException koe(
      TokenResponse r, Call call, TokenEndpointException.Builder b) {
    String error = r.text("error");
    Verdict v =
        call == Call.REFRESH && "invalid_grant".equals(error)
            ? Verdict.permanent(REFRESH_DEAD)
            : Verdict.of(KOE, r.text("error_code"));
    v = v != null ? v : Verdict.of(ERROR, error);
    return v == null ? null : v.apply(b);
  }

  /** Classifies a failed kapi answer (token info, logout, unlink); {@code what} names the call. */
  static TokenEndpointException api(TokenResponse r, String what) {
    Integer code = kapiCode(r.json());
    String msg = r.text("msg");
    TokenEndpointException.Builder b =
        r.failure()
            .platformCode(code == null ? null : code.toString())
            .errorDescription(msg == null ? null : Secrets.scrub(msg, List.of(), 200));
    int status = r.status();
    if (status >= 500 || status == 408 || status == 429 || r.json() == null) {
      return Verdict.temporary("Kakao API unavailable for " + what).apply(b);
    }
    if (isTokenRejected(status, code)) {
      // Renewing fixes an expired access token; the refresh will say if the connection is dead.
      return Verdict.temporary("access token expired or invalid (" + what + ")").apply(b);
    }
    Verdict v =
        switch (code == null ? 0 : code) {
          case -101 -> Verdict.permanent(NOT_LINKED);
          case -10 -> Verdict.temporary("Kakao API quota exceeded (" + what + ")");
          case -9798 -> Verdict.temporary("Kakao API under maintenance (" + what + ")");
            // Anything else is not about the tokens: keep the connection and let a person look.
          default -> Verdict.temporary("unexpected answer from Kakao " + what);
        };
    return v.apply(b);
  }

  /** 401 without a kapi code, or kapi code -401 whatever the status. */
  static boolean isTokenRejected(int status, @Nullable Integer code) {
    return code == null ? status == 401 : code == -401;
  }

  /** kapi's numeric {@code code}, or null when absent or not a number. */
  static @Nullable Integer kapiCode(@Nullable JsonNode json) {
    JsonNode code = json == null ? null : json.get("code");
    return code == null || !code.canConvertToInt() ? null : code.asInt();
  }
}
