package dev.tokenbroker.spi;

import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Classifies a failed token-endpoint answer by RFC 6749 §5.2, with a hook for a platform's own
 * codes (Kakao's {@code KOE322}) consulted first. The exception carries the status, {@code error},
 * {@code error_description}, the scrubbed body and {@code Retry-After} ({@link
 * TokenResponse#failure()}).
 *
 * <ul>
 *   <li>5xx, 408, 429 and answers that are not JSON (a proxy's HTML page): TRANSIENT;
 *   <li>{@code temporarily_unavailable}, {@code server_error} (RFC 6749 §4.1.2.1 codes some servers
 *       also send here): TRANSIENT;
 *   <li>{@code invalid_grant}: PERMANENT, the refresh token or code is dead — a person must
 *       authorize again;
 *   <li>{@code invalid_client}, {@code unauthorized_client}: PERMANENT, the client is rejected;
 *   <li>{@code unsupported_grant_type}, {@code invalid_scope}, {@code invalid_request}: PERMANENT,
 *       the configuration is wrong;
 *   <li>these codes are read on 400, 401 and 403 answers (RFC 6749 §5.2); other 400, 401 and 403
 *       answers are PERMANENT, anything else TRANSIENT ({@link TokenResponse#standardError()}).
 * </ul>
 *
 * Stateless.
 */
public final class OAuthErrors {
  /** What the failed request was for: the same {@code invalid_grant} means different things. */
  public enum Call {
    /** An authorization-code exchange. */
    CODE,
    /** A refresh-token grant. */
    REFRESH,
    /** A client-credentials grant. */
    CLIENT_CREDENTIALS,
    /** A revocation. */
    REVOKE
  }

  /** A platform's reading of its own error codes, consulted before the standard one. */
  @FunctionalInterface
  public interface Dialect {
    /**
     * The platform's classification, or null to leave it to RFC 6749.
     *
     * @param r the failed answer (a JSON body; 5xx, 408 and 429 never reach the dialect)
     * @param call what the request was for
     * @param failure prefilled with the answer's fields; add kind and reason
     * @return the exception, or null
     */
    @Nullable TokenEndpointException read(
        TokenResponse r, Call call, TokenEndpointException.Builder failure);
  }

  /**
   * What one of a platform's error codes means: a kind and a reason for a person. A platform keeps
   * its codes as a table of these ({@code KOE322} → PERMANENT, "refresh token expired…") instead of
   * a chain of ifs. Immutable.
   *
   * @param kind how the broker treats the failure
   * @param reason what happened and what to do, for a person
   */
  public record Verdict(Kind kind, String reason) {
    /**
     * A verdict.
     *
     * @param kind how the broker treats the failure
     * @param reason what happened and what to do, for a person
     */
    public Verdict {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(reason, "reason");
    }

    /**
     * A permanent failure: a person must act.
     *
     * @param reason what happened and what to do
     * @return the verdict
     */
    public static Verdict permanent(String reason) {
      return new Verdict(Kind.PERMANENT, reason);
    }

    /**
     * A transient failure: back off and try again.
     *
     * @param reason what happened
     * @return the verdict
     */
    public static Verdict temporary(String reason) {
      return new Verdict(Kind.TRANSIENT, reason);
    }

    /**
     * The exception {@code failure} describes, with this kind and reason.
     *
     * @param failure prefilled with the answer's fields
     * @return the exception
     */
    public TokenEndpointException apply(TokenEndpointException.Builder failure) {
      return failure.kind(kind).reason(reason).build();
    }

    /**
     * The verdict {@code table} holds for {@code code}, or null when the code is null or not in it.
     *
     * @param table platform codes to verdicts
     * @param code the code the answer carries, or null
     * @return the verdict, or null
     */
    public static @Nullable Verdict of(Map<String, Verdict> table, @Nullable String code) {
      return code == null ? null : table.get(code);
    }
  }

  private OAuthErrors() {}

  /**
   * The RFC 6749 §5.2 reading of a failed answer.
   *
   * @param r the failed answer
   * @param call what the request was for
   * @return the exception to throw
   */
  public static TokenEndpointException classify(TokenResponse r, Call call) {
    return classify(r, call, (x, c, f) -> null);
  }

  /**
   * The platform's reading of a failed answer, else the RFC 6749 §5.2 one.
   *
   * @param r the failed answer
   * @param call what the request was for
   * @param dialect the platform's codes
   * @return the exception to throw
   */
  public static TokenEndpointException classify(TokenResponse r, Call call, Dialect dialect) {
    int status = r.status();
    if (status >= 500 || status == 408 || status == 429 || r.json() == null) {
      return r.standardError();
    }
    TokenEndpointException own = dialect.read(r, call, r.failure());
    if (own != null) {
      return own;
    }
    String error = r.text("error");
    if (error == null || (status != 400 && status != 401 && status != 403)) {
      return r.standardError();
    }
    TokenEndpointException.Builder b = r.failure();
    switch (error.toLowerCase(Locale.ROOT)) {
      case "invalid_grant":
        return b.kind(Kind.PERMANENT)
            .reason(
                call == Call.CODE
                    ? "authorization code invalid, expired or already used, or the PKCE verifier"
                        + " did not match: authorize again"
                    : "refresh token invalid, expired, revoked or already used: authorize again")
            .build();
      case "invalid_client":
      case "unauthorized_client":
        return b.kind(Kind.PERMANENT)
            .reason(
                "client rejected (" + error + "): check client-id, client-secret and client-auth")
            .build();
      case "unsupported_grant_type":
      case "invalid_scope":
      case "invalid_request":
        return b.kind(Kind.PERMANENT)
            .reason("request rejected (" + error + "): check the connection's configuration")
            .build();
      case "temporarily_unavailable":
      case "server_error":
        return b.kind(Kind.TRANSIENT)
            .reason("authorization server temporarily unavailable (" + error + ")")
            .build();
      default:
        return r.standardError();
    }
  }
}
