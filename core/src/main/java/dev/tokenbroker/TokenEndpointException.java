package dev.tokenbroker;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A platform's token endpoint (or token-info, revoke, logout endpoint) refused or failed a request.
 *
 * <p>Carries what the protocol said: the HTTP status (0 when no response arrived), the RFC 6749
 * {@code error} and {@code error_description}, the platform's own code ({@code KOE322}, {@code
 * GW.AUTHN}), a scrubbed and truncated body, a human reason, and the {@link Kind} the provider
 * classified it as. Providers throw it; the broker turns it into health and events.
 */
public final class TokenEndpointException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /** How the broker should react. */
  public enum Kind {
    /** Retrying later can help: 5xx, 429, timeouts, HTML error pages, connection failures. */
    TRANSIENT,
    /**
     * Retrying cannot help until a person acts: {@code invalid_grant}, {@code invalid_client},
     * {@code KOE322}, an unregistered IP. The connection needs re-authorization or new settings.
     */
    PERMANENT,
    /**
     * The request may have been processed but the answer was lost (connection dropped after the
     * request was sent, or an unreadable success). For a rotating refresh token this means the
     * stored refresh token may already be dead: never retry blindly.
     */
    OUTCOME_UNKNOWN,
    /**
     * A call made with the access token (a revocation, a token-info check) was refused because that
     * token is no longer accepted — expired, or logged out elsewhere. The provider does not renew
     * it itself: the broker renews through its normal path (single flight, lease, save) and calls
     * once more with the new token.
     */
    TOKEN_REJECTED
  }

  /** The provider's name. */
  private final String provider;

  /** The HTTP status, 0 when no response arrived. */
  private final int httpStatus;

  /** The RFC 6749 error, or null. */
  private final @Nullable String error;

  /** The error description, or null. */
  private final @Nullable String errorDescription;

  /** The platform's own error code, or null. */
  private final @Nullable String platformCode;

  /** The scrubbed, truncated response body, or null. */
  private final @Nullable String body;

  /** One line for a person. */
  private final String reason;

  /** Whether a retry can help. */
  private final Kind kind;

  private final transient @Nullable Duration retryAfter;

  private TokenEndpointException(Builder b) {
    super(null, describe(b), b.cause);
    this.provider = b.provider;
    this.httpStatus = b.httpStatus;
    this.error = b.error;
    this.errorDescription = b.errorDescription;
    this.platformCode = b.platformCode;
    this.body = b.body;
    this.reason = Objects.requireNonNull(b.reason, "reason is required");
    this.kind = Objects.requireNonNull(b.kind, "kind is required");
    this.retryAfter = b.retryAfter;
  }

  /**
   * Starts an exception for {@code provider} (e.g. {@code cafe24}). The caller must set at least
   * {@link Builder#kind} and {@link Builder#reason}; every string given must already be free of
   * secrets (use {@link dev.tokenbroker.spi.Secrets#scrub}).
   *
   * @param provider the provider's name
   * @return a new builder
   */
  public static Builder builder(String provider) {
    return new Builder(provider);
  }

  /**
   * A builder holding every value of this exception, to refine a generic classification.
   *
   * @return a builder holding every value of this exception
   */
  public Builder toBuilder() {
    Builder b = new Builder(provider);
    b.httpStatus = httpStatus;
    b.error = error;
    b.errorDescription = errorDescription;
    b.platformCode = platformCode;
    b.body = body;
    b.reason = reason;
    b.kind = kind;
    b.retryAfter = retryAfter;
    b.cause = getCause();
    return b;
  }

  /**
   * The provider whose token endpoint failed ({@code cafe24}, {@code naver}, {@code kakao}).
   *
   * @return the provider name
   */
  public String provider() {
    return provider;
  }

  /**
   * The HTTP status, or 0 when no response was received.
   *
   * @return the HTTP status, or 0 when no response was received
   */
  public int httpStatus() {
    return httpStatus;
  }

  /**
   * RFC 6749 {@code error}, e.g. {@code invalid_grant}.
   *
   * @return the RFC 6749 {@code error}, such as {@code invalid_grant}, or null
   */
  public @Nullable String error() {
    return error;
  }

  /**
   * RFC 6749 {@code error_description}, scrubbed.
   *
   * @return the RFC 6749 {@code error_description}, scrubbed, or null
   */
  public @Nullable String errorDescription() {
    return errorDescription;
  }

  /**
   * The platform's own code: {@code KOE322}, {@code GW.IP_NOT_ALLOWED}, {@code -401}…
   *
   * @return the platform's own code: {@code KOE322}, {@code GW.IP_NOT_ALLOWED}, {@code -401}…
   */
  public @Nullable String platformCode() {
    return platformCode;
  }

  /**
   * The response body, scrubbed of secrets and truncated.
   *
   * @return the response body, scrubbed of secrets and truncated
   */
  public @Nullable String body() {
    return body;
  }

  /**
   * What happened, for a person: "refresh token expired or already used".
   *
   * @return what happened, for a person: "refresh token expired or already used"
   */
  public String reason() {
    return reason;
  }

  /**
   * Whether a retry can help, and what the failure means for the connection.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * False only for {@link Kind#PERMANENT}.
   *
   * @return false only for a permanent failure
   */
  public boolean retryable() {
    return kind != Kind.PERMANENT;
  }

  /**
   * The server's {@code Retry-After}, when it sent one.
   *
   * @return the server's {@code Retry-After}, when it sent one
   */
  public @Nullable Duration retryAfter() {
    return retryAfter;
  }

  private static String describe(Builder b) {
    StringBuilder s = new StringBuilder(b.provider).append(": ").append(b.reason);
    if (b.httpStatus > 0) {
      s.append(" (HTTP ").append(b.httpStatus);
    } else {
      s.append(" (no response");
    }
    if (b.error != null) {
      s.append(", error=").append(b.error);
    }
    if (b.platformCode != null) {
      s.append(", code=").append(b.platformCode);
    }
    if (b.errorDescription != null) {
      s.append(", description=\"").append(b.errorDescription).append('"');
    }
    s.append(", ").append(b.kind == null ? "?" : b.kind.name().toLowerCase(java.util.Locale.ROOT));
    return s.append(')').toString();
  }

  /** Builds a {@link TokenEndpointException}. */
  public static final class Builder {
    private final String provider;
    private int httpStatus;
    private @Nullable String error;
    private @Nullable String errorDescription;
    private @Nullable String platformCode;
    private @Nullable String body;
    private @Nullable String reason;
    private @Nullable Kind kind;
    private @Nullable Duration retryAfter;
    private @Nullable Throwable cause;

    private Builder(String provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
    }

    /**
     * @param httpStatus the HTTP status, 0 when no response arrived
     * @return this builder
     */
    public Builder httpStatus(int httpStatus) {
      this.httpStatus = httpStatus;
      return this;
    }

    /**
     * @param error the RFC 6749 {@code error} (e.g. {@code invalid_grant}), or null
     * @return this builder
     */
    public Builder error(@Nullable String error) {
      this.error = error;
      return this;
    }

    /**
     * @param errorDescription the {@code error_description}, or null
     * @return this builder
     */
    public Builder errorDescription(@Nullable String errorDescription) {
      this.errorDescription = errorDescription;
      return this;
    }

    /**
     * @param platformCode the platform's own code ({@code KOE322}, {@code GW.AUTHN}), or null
     * @return this builder
     */
    public Builder platformCode(@Nullable String platformCode) {
      this.platformCode = platformCode;
      return this;
    }

    /**
     * @param scrubbedBody the response body, truncated and with every token and secret removed
     * @return this builder
     */
    public Builder body(@Nullable String scrubbedBody) {
      this.body = scrubbedBody;
      return this;
    }

    /**
     * @param reason one line for a person: what the platform said and what it means
     * @return this builder
     */
    public Builder reason(String reason) {
      this.reason = Objects.requireNonNull(reason, "reason");
      return this;
    }

    /**
     * @param kind whether a retry can help
     * @return this builder
     */
    public Builder kind(Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /**
     * @param retryAfter the platform's Retry-After, or null
     * @return this builder
     */
    public Builder retryAfter(@Nullable Duration retryAfter) {
      this.retryAfter = retryAfter;
      return this;
    }

    /**
     * @param cause the I/O or parsing failure behind this, or null
     * @return this builder
     */
    public Builder cause(@Nullable Throwable cause) {
      this.cause = cause;
      return this;
    }

    /**
     * The exception.
     *
     * @return a new exception with these fields
     */
    public TokenEndpointException build() {
      return new TokenEndpointException(this);
    }
  }
}
