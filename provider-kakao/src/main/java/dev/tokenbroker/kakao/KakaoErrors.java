package dev.tokenbroker.kakao;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.OAuthErrors;
import dev.tokenbroker.spi.OAuthErrors.Call;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenResponse;
import java.util.List;
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
    String errorCode = r.text("error_code");
    String error = r.text("error");
    if ("KOE322".equals(errorCode) || (call == Call.REFRESH && "invalid_grant".equals(error))) {
      return b.kind(Kind.PERMANENT).reason(REFRESH_DEAD).build();
    }
    if ("KOE320".equals(errorCode)) {
      return b.kind(Kind.PERMANENT).reason(CODE_SPENT).build();
    }
    if ("KOE006".equals(errorCode)) {
      return b.kind(Kind.PERMANENT)
          .reason("redirect URI not registered for the app: check redirect-uri and the console")
          .build();
    }
    if ("KOE303".equals(errorCode)) {
      return b.kind(Kind.PERMANENT)
          .reason("redirect URI differs from the one the authorization used")
          .build();
    }
    if ("KOE003".equals(errorCode)) {
      // Kakao documents KOE003 as a temporary error of its OAuth server.
      return b.kind(Kind.TRANSIENT).reason("temporary error at Kakao's OAuth server").build();
    }
    if ("invalid_client".equals(error)) {
      return b.kind(Kind.PERMANENT)
          .reason("client credentials rejected: check client-id (REST API key) and client-secret")
          .build();
    }
    if ("misconfigured".equals(error)) {
      // Kakao's own error code: the app's console settings, not the request, are wrong.
      return b.kind(Kind.PERMANENT)
          .reason("the app is misconfigured in the Kakao Developers console")
          .build();
    }
    return null;
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
      return b.kind(Kind.TRANSIENT).reason("Kakao API unavailable for " + what).build();
    }
    if (isTokenRejected(status, code)) {
      // Renewing fixes an expired access token; the refresh will say if the connection is dead.
      return b.kind(Kind.TRANSIENT)
          .reason("access token expired or invalid (" + what + ")")
          .build();
    }
    if (code != null && code == -101) {
      return b.kind(Kind.PERMANENT).reason(NOT_LINKED).build();
    }
    if (code != null && code == -10) {
      return b.kind(Kind.TRANSIENT).reason("Kakao API quota exceeded (" + what + ")").build();
    }
    if (code != null && code == -9798) {
      return b.kind(Kind.TRANSIENT).reason("Kakao API under maintenance (" + what + ")").build();
    }
    // Anything else is not about the tokens: keep the connection as it is and let a person look.
    return b.kind(Kind.TRANSIENT).reason("unexpected answer from Kakao " + what).build();
  }

  /** 401 without a kapi code, or kapi code -401 whatever the status. */
  static boolean isTokenRejected(int status, @Nullable Integer code) {
    return code == null ? status == 401 : code == -401;
  }

  /** kapi's numeric {@code code}, or null when absent or not a number. */
  static @Nullable Integer kapiCode(@Nullable JsonNode json) {
    if (json == null) {
      return null;
    }
    JsonNode code = json.get("code");
    if (code == null || !code.canConvertToInt()) {
      return null;
    }
    return code.asInt();
  }
}
