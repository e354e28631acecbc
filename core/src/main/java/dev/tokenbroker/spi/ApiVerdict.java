package dev.tokenbroker.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A provider's reading of an API response made with one of its tokens, used by the OkHttp
 * integration: carry on, renew once and replay, or stop because the connection is dead.
 */
public final class ApiVerdict {
  /** The verdict's kind. */
  public enum Kind {
    /** Nothing about the token: hand the response to the caller. */
    OK,
    /** The token was rejected (expired or invalid): renew once and replay the request once. */
    TOKEN_REJECTED,
    /**
     * The connection cannot work until a person acts (app uninstalled, IP not allowed): mark it
     * REAUTHORIZATION_REQUIRED with {@link #reason()} and hand the response to the caller.
     */
    CONNECTION_DEAD
  }

  private static final ApiVerdict OK = new ApiVerdict(Kind.OK, null, null);
  private static final ApiVerdict REJECTED = new ApiVerdict(Kind.TOKEN_REJECTED, null, null);

  private final Kind kind;
  private final @Nullable String reason;
  private final @Nullable String code;
  private final boolean ended;

  private ApiVerdict(Kind kind, @Nullable String reason, @Nullable String code) {
    this(kind, reason, code, false);
  }

  private ApiVerdict(Kind kind, @Nullable String reason, @Nullable String code, boolean ended) {
    this.kind = kind;
    this.reason = reason;
    this.code = code;
    this.ended = ended;
  }

  /**
   * The platform ended the link itself (the app was uninstalled from the mall): a {@link
   * Kind#CONNECTION_DEAD} verdict after which a connection made at run time from a template is
   * removed everywhere (tombstone {@code uninstalled}), and a configured one waits for a new
   * authorization.
   *
   * @param reason why, for health
   * @param code the platform's error code, or null
   * @return the verdict
   */
  public static ApiVerdict connectionEnded(String reason, @Nullable String code) {
    return new ApiVerdict(Kind.CONNECTION_DEAD, Objects.requireNonNull(reason), code, true);
  }

  /**
   * Whether the platform ended the link itself ({@link #connectionEnded}).
   *
   * @return true for an uninstall-like verdict
   */
  public boolean ended() {
    return ended;
  }

  /**
   * The call succeeded: the token is fine.
   *
   * @return the shared OK verdict
   */
  public static ApiVerdict ok() {
    return OK;
  }

  /**
   * The API rejected this access token: renew once and retry the call.
   *
   * @return the shared token-rejected verdict
   */
  public static ApiVerdict tokenRejected() {
    return REJECTED;
  }

  /**
   * The connection is dead for {@code reason}; {@code code} is the platform's error code.
   *
   * @param reason why, one of the reason codes in {@link dev.tokenbroker.Health}
   * @param code the platform's error code, or null
   * @return the connection is dead for {@code reason}; {@code code} is the platform's error code
   */
  public static ApiVerdict connectionDead(String reason, @Nullable String code) {
    return new ApiVerdict(Kind.CONNECTION_DEAD, Objects.requireNonNull(reason), code);
  }

  /**
   * What the verdict means for the connection.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * For a dead connection, why (one of the reasons in {@link dev.tokenbroker.Health}); otherwise
   * null.
   *
   * @return the reason, or null
   */
  public @Nullable String reason() {
    return reason;
  }

  /**
   * The platform's error code, or null.
   *
   * @return the code, or null
   */
  public @Nullable String code() {
    return code;
  }

  @Override
  public String toString() {
    return reason == null ? kind.name() : kind + "(" + reason + ")";
  }
}
