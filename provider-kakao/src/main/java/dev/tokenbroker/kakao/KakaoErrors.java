package dev.tokenbroker.kakao;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
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

  /** Classifies a failed {@code /oauth/token} answer. */
  static TokenEndpointException token(TokenResponse r, boolean refreshing) {
    String errorCode = r.text("error_code");
    String error = r.text("error");
    TokenEndpointException standard = r.standardError();
    if (r.json() == null || r.status() >= 500 || r.status() == 408 || r.status() == 429) {
      return standard.toBuilder().platformCode(errorCode).build();
    }
    TokenEndpointException.Builder b = r.failure().platformCode(errorCode);
    if ("KOE322".equals(errorCode)) {
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
    if (error == null) {
      return standard.toBuilder().platformCode(errorCode).build();
    }
    switch (error) {
      case "invalid_grant":
        return b.kind(Kind.PERMANENT)
            .reason(
                refreshing
                    ? REFRESH_DEAD
                    : "authorization code invalid, expired or already used,"
                        + " or the PKCE verifier did not match")
            .build();
      case "invalid_client":
        return b.kind(Kind.PERMANENT)
            .reason("client credentials rejected: check client-id (REST API key) and client-secret")
            .build();
      case "misconfigured":
        return b.kind(Kind.PERMANENT)
            .reason("the app is misconfigured in the Kakao Developers console")
            .build();
      case "server_error":
      case "temporarily_unavailable":
        return b.kind(Kind.TRANSIENT).reason("Kakao's OAuth server failed").build();
      default:
        return standard.toBuilder().platformCode(errorCode).build();
    }
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
