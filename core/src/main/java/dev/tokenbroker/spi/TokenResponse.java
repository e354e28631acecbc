package dev.tokenbroker.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import okhttp3.Headers;
import org.jspecify.annotations.Nullable;

/**
 * One answer from a token endpoint, read in full, with helpers that turn a missing field or an
 * error status into a typed {@link TokenEndpointException}. Holds secrets: do not log it; its
 * {@code toString} shows only the status.
 */
public final class TokenResponse {
  private static final int MAX_KEPT_BODY = 500;
  private static final Set<String> CLIENT_ERRORS =
      Set.of("invalid_client", "unauthorized_client", "unauthorized");

  private final String provider;
  private final int status;
  private final Headers headers;
  private final String body;
  private final @Nullable JsonNode json;
  private final Instant receivedAt;
  private final boolean mayRotate;
  private final List<String> secrets;

  TokenResponse(
      String provider,
      int status,
      Headers headers,
      String body,
      Instant receivedAt,
      boolean mayRotate,
      List<String> secrets) {
    this.provider = provider;
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.json = TokenHttp.parseObject(body);
    this.receivedAt = receivedAt;
    this.mayRotate = mayRotate;
    this.secrets = secrets;
  }

  /**
   * The HTTP status.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }

  /**
   * Whether the status is 2xx.
   *
   * @return true for 2xx
   */
  public boolean isSuccessful() {
    return status >= 200 && status < 300;
  }

  /**
   * The response headers.
   *
   * @return the headers
   */
  public Headers headers() {
    return headers;
  }

  /**
   * When the answer arrived, by the broker's clock: the anchor for relative lifetimes.
   *
   * @return when the answer arrived, by the broker's clock: the anchor for relative lifetimes
   */
  public Instant receivedAt() {
    return receivedAt;
  }

  /**
   * The raw body. Contains tokens: never log it.
   *
   * @return the raw body
   */
  public String body() {
    return body;
  }

  /**
   * The body as a JSON object, or null when it is not one (an HTML page, empty, garbage).
   *
   * @return the body as a JSON object, or null when it is not one (an HTML page, empty, garbage)
   */
  public @Nullable JsonNode json() {
    return json;
  }

  /**
   * The body with secrets removed, cut to a few hundred characters: safe for messages.
   *
   * @return the body with secrets removed, cut to a few hundred characters: safe for messages
   */
  public String scrubbedBody() {
    return Secrets.scrub(body, secrets, MAX_KEPT_BODY);
  }

  /**
   * A text member of the JSON body, or null when absent, null or not JSON.
   *
   * @param field the JSON field
   * @return a text member of the JSON body, or null when absent, null or not JSON
   */
  public @Nullable String text(String field) {
    if (json == null) {
      return null;
    }
    JsonNode n = json.get(field);
    if (n == null || n.isNull() || n.isContainerNode()) {
      return null;
    }
    String s = n.asText();
    return s.isEmpty() ? null : s;
  }

  /**
   * A required text member; a missing one is a {@linkplain #malformed malformed} response.
   *
   * @param field the JSON field
   * @return a required text member; a missing one is a {@linkplain #malformed malformed} response
   */
  public String requireText(String field) {
    String s = text(field);
    if (s == null) {
      throw malformed("no '" + field + "' in the response");
    }
    return s;
  }

  /**
   * A whole-number member given as a JSON number or a numeric string (some platforms send {@code
   * "expires_in":"3600"}), or null when absent.
   *
   * @param field the JSON field
   * @return a whole-number member given as a JSON number or a numeric string (some platforms send
   *     {@code "expires_in":"3600"}), or null when absent.
   */
  public @Nullable Long number(String field) {
    if (json == null) {
      return null;
    }
    JsonNode n = json.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isIntegralNumber()) {
      if (!n.canConvertToLong()) {
        // asLong() would wrap: 18446744073709555216 must not read as 3600.
        throw malformed("'" + field + "' is out of range");
      }
      return n.asLong();
    }
    if (n.isTextual()) {
      try {
        return Long.parseLong(n.asText().trim());
      } catch (NumberFormatException e) {
        throw malformed("'" + field + "' is not a whole number");
      }
    }
    throw malformed("'" + field + "' is not a whole number");
  }

  /**
   * Whether the JSON body has {@code field} with a value other than JSON {@code null}.
   *
   * @param field the JSON member
   * @return whether it is present and not null
   */
  public boolean has(String field) {
    JsonNode n = json == null ? null : json.get(field);
    return n != null && !n.isNull();
  }

  /**
   * Why the member {@code field} cannot be kept as a token, or null when it can: it must be a JSON
   * string (not a number or boolean) of RFC 6749 VSCHARs ({@link TokenSyntax#vscharProblem}); an
   * access token must also fit the {@code Authorization} header it is sent in ({@link
   * TokenSyntax#accessTokenProblem}). A missing member is a problem too. The description names the
   * member and the rule, never the value.
   *
   * @param field the JSON member
   * @param accessToken whether it is the access token (sent in an {@code Authorization} header)
   * @return why it cannot be kept, or null
   */
  public @Nullable String tokenProblem(String field, boolean accessToken) {
    JsonNode n = json == null ? null : json.get(field);
    if (n == null || n.isNull()) {
      return "no '" + field + "' in the response";
    }
    if (!n.isTextual()) {
      return "'" + field + "' is not a JSON string";
    }
    String problem =
        accessToken
            ? TokenSyntax.accessTokenProblem(n.textValue())
            : TokenSyntax.vscharProblem(n.textValue());
    return problem == null ? null : "'" + field + "' " + problem;
  }

  /**
   * A required token member that passed {@link #tokenProblem}; anything else is a {@linkplain
   * #malformed malformed} response.
   *
   * @param field the JSON member
   * @param accessToken whether it is the access token
   * @return the token
   */
  public String requireToken(String field, boolean accessToken) {
    String problem = tokenProblem(field, accessToken);
    if (problem != null) {
      throw malformed(problem);
    }
    return Objects.requireNonNull(json).get(field).textValue();
  }

  /**
   * The {@code token_type} member (or another named {@code field}), or null when absent; one that
   * is not a JSON string or not an HTTP auth scheme (white space, CR or LF…) is {@linkplain
   * #malformed malformed}.
   *
   * @param field the JSON member, usually {@code token_type}
   * @return the token type, or null
   */
  public @Nullable String tokenType(String field) {
    if (!has(field)) {
      return null;
    }
    JsonNode n = Objects.requireNonNull(json).get(field);
    if (!n.isTextual()) {
      throw malformed("'" + field + "' is not a JSON string");
    }
    String problem = TokenSyntax.tokenTypeProblem(n.textValue());
    if (problem != null) {
      throw malformed("'" + field + "' " + problem);
    }
    return n.textValue();
  }

  /**
   * A required whole-number member.
   *
   * @param field the JSON field
   * @return a required whole-number member
   */
  public long requireNumber(String field) {
    Long n = number(field);
    if (n == null) {
      throw malformed("no '" + field + "' in the response");
    }
    return n;
  }

  /**
   * A lifetime in seconds that must be sane: more than 0 and at most {@code max}. An absurd value
   * is a malformed response, not a token to keep for a century.
   *
   * @param field the JSON field
   * @param max the longest pause
   * @return a lifetime in seconds that must be sane: more than 0 and at most {@code max}
   */
  public Duration requireLifetime(String field, Duration max) {
    long seconds = requireNumber(field);
    if (seconds <= 0 || seconds > max.getSeconds()) {
      throw malformed(
          "'" + field + "' of " + seconds + " s is outside (0, " + max.getSeconds() + "]");
    }
    return Duration.ofSeconds(seconds);
  }

  /**
   * The {@code Retry-After} header as a duration (seconds or an HTTP date), or null.
   *
   * @return the {@code Retry-After} header as a duration (seconds or an HTTP date), or null
   */
  public @Nullable Duration retryAfter() {
    String v = headers.get("Retry-After");
    if (v == null) {
      return null;
    }
    try {
      long s = Long.parseLong(v.trim());
      return s >= 0 ? Duration.ofSeconds(s) : null;
    } catch (NumberFormatException e) {
      try {
        Instant at =
            ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(receivedAt, at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  /**
   * An exception prefilled with this response's status, {@code error}, {@code error_description},
   * scrubbed body and {@code Retry-After}; the caller adds kind, reason and platform code.
   *
   * @return this builder
   */
  public TokenEndpointException.Builder failure() {
    String description = text("error_description");
    return TokenEndpointException.builder(provider)
        .httpStatus(status)
        .error(text("error"))
        .errorDescription(description == null ? null : Secrets.scrub(description, secrets, 200))
        .body(scrubbedBody())
        .retryAfter(retryAfter());
  }

  /**
   * A success that cannot be used (missing or absurd fields, not JSON). When the request may have
   * rotated a refresh token, the old one may already be dead, so the kind is {@link
   * Kind#OUTCOME_UNKNOWN}; otherwise {@link Kind#TRANSIENT}.
   *
   * @param detail one line for a person; never a token
   * @return a success that cannot be used (missing or absurd fields, not JSON)
   */
  public TokenEndpointException malformed(String detail) {
    TokenEndpointException.Builder b = failure();
    if (isSuccessful()) {
      // A success carries tokens, and a cut-off one defeats scrubbing (an unterminated string
      // after "refresh_token"): none of its body is kept.
      b.body(null).errorDescription(null);
    }
    return b.kind(mayRotate ? Kind.OUTCOME_UNKNOWN : Kind.TRANSIENT)
        .reason("malformed token response: " + Secrets.scrub(detail, secrets, 300))
        .build();
  }

  /**
   * The RFC 6749 reading of an error response, for providers to refine: 5xx, 408 and 429 are
   * TRANSIENT; a body that is not JSON (an HTML page from a proxy) is TRANSIENT; {@code
   * temporarily_unavailable} and {@code server_error} are TRANSIENT whatever the status; {@code
   * invalid_grant} is PERMANENT ("refresh token or code invalid, expired or already used"); {@code
   * invalid_client} and {@code unauthorized_client} are PERMANENT ("client credentials rejected");
   * other 400/401/403 answers are PERMANENT; other statuses TRANSIENT.
   *
   * @return that reading, as an exception carrying the status, the platform's error and its
   *     scrubbed description
   */
  public TokenEndpointException standardError() {
    TokenEndpointException.Builder b = failure();
    String error = text("error");
    if (status >= 500 || status == 408 || status == 429) {
      return b.kind(Kind.TRANSIENT)
          .reason(
              status == 429 ? "rate limited by the token endpoint" : "token endpoint unavailable")
          .build();
    }
    if (json == null) {
      return b.kind(Kind.TRANSIENT)
          .reason("unexpected non-JSON answer (an HTML error page from a proxy?)")
          .build();
    }
    if ("temporarily_unavailable".equals(error) || "server_error".equals(error)) {
      // RFC 6749 §4.1.2.1 codes that some token endpoints send with a 400: the server, not the
      // request, is the problem, so trying again later is right.
      return b.kind(Kind.TRANSIENT).reason("token endpoint unavailable: " + error).build();
    }
    if ("invalid_grant".equals(error)) {
      return b.kind(Kind.PERMANENT)
          .reason("refresh token or code invalid, expired or already used")
          .build();
    }
    if (error != null && CLIENT_ERRORS.contains(error.toLowerCase(Locale.ROOT))) {
      return b.kind(Kind.PERMANENT).reason("client credentials rejected").build();
    }
    if (status == 400 || status == 401 || status == 403) {
      return b.kind(Kind.PERMANENT)
          .reason("request rejected" + (error == null ? "" : ": " + error))
          .build();
    }
    return b.kind(Kind.TRANSIENT).reason("unexpected HTTP " + status).build();
  }

  @Override
  public String toString() {
    return "TokenResponse{" + provider + ", HTTP " + status + '}';
  }
}
