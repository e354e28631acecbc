package dev.tokenbroker.cafe24;

import dev.tokenbroker.TokenBrokerException;
import java.util.Objects;

/**
 * An app launch ({@link Cafe24AppLaunch#verify}) that must not be believed. Answer the browser with
 * 400 or 403 and start nothing. The message names the problem and, for a missing or malformed
 * field, the field; it never repeats a value from the query, the signature or the secret.
 */
public final class Cafe24LaunchException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /** Why the launch was refused. */
  public enum Reason {
    /** A required parameter ({@code mall_id}, {@code timestamp}, {@code hmac}) is absent. */
    MISSING_FIELD,
    /** A parameter is present but unusable (not a number, not a mall id, given twice). */
    MALFORMED,
    /** The signature does not match: tampered, or signed with another app's secret. */
    BAD_SIGNATURE,
    /** The timestamp is older than the freshness window, or too far in the future. */
    EXPIRED,
    /** The same launch was already accepted once. */
    REPLAYED
  }

  private final Reason reason;
  private final transient String field;

  Cafe24LaunchException(Reason reason, String field, String message) {
    super(null, "Cafe24 app launch refused: " + message);
    this.reason = Objects.requireNonNull(reason);
    this.field = field;
  }

  /**
   * Why the launch was refused.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * The query parameter concerned ({@code mall_id}, {@code timestamp}, {@code hmac}), or an empty
   * string when the problem is not one parameter.
   *
   * @return the parameter's name, or an empty string
   */
  public String field() {
    return field == null ? "" : field;
  }
}
