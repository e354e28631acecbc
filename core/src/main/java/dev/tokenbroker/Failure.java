package dev.tokenbroker;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** What went wrong, as the health record will say it. */
final class Failure {
  final Health.State state;
  final String reasonCode;
  final String detail;
  final @Nullable String errorCode;
  final @Nullable Duration retryAfter;
  final @Nullable Duration minimumPause;
  final @Nullable Throwable cause;

  Failure(
      Health.State state,
      String reasonCode,
      String detail,
      @Nullable String errorCode,
      @Nullable Duration retryAfter,
      @Nullable Duration minimumPause,
      @Nullable Throwable cause) {
    this.state = state;
    this.reasonCode = reasonCode;
    this.detail = detail;
    this.errorCode = errorCode;
    this.retryAfter = retryAfter;
    this.minimumPause = minimumPause;
    this.cause = cause;
  }

  /** The failure a token endpoint reported, classified by its kind and error fields. */
  static Failure of(TokenEndpointException e) {
    String code = errorCode(e);
    switch (e.kind()) {
      case PERMANENT:
        return new Failure(
            Health.State.REAUTHORIZATION_REQUIRED,
            reauthorizationReason(e),
            e.reason(),
            code,
            null,
            null,
            e);
      case OUTCOME_UNKNOWN:
        return new Failure(
            Health.State.DEGRADED,
            "rotation-outcome-unknown",
            "rotation outcome unknown: " + e.reason(),
            code,
            null,
            null,
            e);
      default:
        return new Failure(
            Health.State.DEGRADED,
            e.httpStatus() == 429 || e.retryAfter() != null ? "rate-limited" : "transient",
            e.reason(),
            code,
            e.retryAfter(),
            null,
            e);
    }
  }

  /** The platform's own error, never an HTTP 200. */
  static @Nullable String errorCode(TokenEndpointException e) {
    if (e.platformCode() != null) {
      return e.platformCode();
    }
    if (e.error() != null) {
      return e.error();
    }
    return e.httpStatus() >= 400 ? Integer.toString(e.httpStatus()) : null;
  }

  /** Which of the re-authorization reasons a permanent endpoint failure is. */
  static String reauthorizationReason(TokenEndpointException e) {
    String code = e.platformCode() == null ? "" : e.platformCode();
    String error = e.error() == null ? "" : e.error();
    String text =
        (error
                + " "
                + (e.errorDescription() == null ? "" : e.errorDescription())
                + " "
                + e.reason())
            .toLowerCase(java.util.Locale.ROOT);
    if (code.equals("GW.IP_NOT_ALLOWED") || text.contains("ip not allowed")) {
      return "ip-not-allowed";
    }
    if (error.equals("invalid_client")
        || error.equals("unauthorized_client")
        || text.contains("client_secret")
        || text.contains("signature")) {
      return "client-rejected";
    }
    if (text.contains("uninstall")) {
      return "uninstalled";
    }
    if (text.contains("unlink") || text.contains("not linked")) {
      return "unlinked";
    }
    if (text.contains("not authorized yet")) {
      return "not-authorized";
    }
    return "refresh-token-rejected";
  }

  /**
   * A refresh whose answer was lost ({@code e}): its rotation outcome is unknown, and nothing is
   * sent for {@code pause}, while the lost request may still be in process.
   */
  static Failure outcomeUnknown(Health.State state, TokenEndpointException e, Duration pause) {
    return new Failure(
        state,
        "rotation-outcome-unknown",
        "rotation outcome unknown: " + e.reason(),
        errorCode(e),
        null,
        pause,
        e);
  }

  static Failure degraded(String reasonCode, String detail, @Nullable Throwable cause) {
    return new Failure(Health.State.DEGRADED, reasonCode, detail, null, null, null, cause);
  }

  static Failure needsPerson(String reasonCode, String detail, @Nullable Throwable cause) {
    return new Failure(
        Health.State.REAUTHORIZATION_REQUIRED, reasonCode, detail, null, null, null, cause);
  }
}
