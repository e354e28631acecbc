package dev.tokenbroker;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one connection's health: its {@link State}, why, since when, when the next attempt
 * is due, and what the broker knows of its tokens' expiries. Immutable.
 */
public final class Health {
  /** The three states a connection can be in. */
  public enum State {
    /** Tokens are being renewed normally. */
    ACTIVE,
    /**
     * Renewals fail for reasons that may pass (5xx, 429, timeouts, a lost response, a store that
     * cannot save); a still-valid token keeps being served, and {@link #nextAttemptAt()} says when
     * the broker will try again.
     */
    DEGRADED,
    /**
     * A person must act ({@code tokenbroker connect}, fix a secret or an IP allow-list): the broker
     * stops trying. {@link #reason()} says why.
     */
    REAUTHORIZATION_REQUIRED
  }

  private final State state;
  private final @Nullable String reasonCode;
  private final @Nullable String reason;
  private final @Nullable String errorCode;
  private final Instant since;
  private final @Nullable Instant nextAttemptAt;
  private final int consecutiveFailures;
  private final @Nullable Instant lastRenewalAt;
  private final @Nullable Instant accessTokenExpiresAt;
  private final @Nullable Instant refreshTokenExpiresAt;
  private final boolean unsaved;

  Health(
      State state,
      @Nullable String reasonCode,
      @Nullable String reason,
      @Nullable String errorCode,
      Instant since,
      @Nullable Instant nextAttemptAt,
      int consecutiveFailures,
      @Nullable Instant lastRenewalAt,
      @Nullable Instant accessTokenExpiresAt,
      @Nullable Instant refreshTokenExpiresAt,
      boolean unsaved) {
    this.state = Objects.requireNonNull(state);
    this.reasonCode = reasonCode;
    this.reason = reason;
    this.errorCode = errorCode;
    this.since = Objects.requireNonNull(since);
    this.nextAttemptAt = nextAttemptAt;
    this.consecutiveFailures = consecutiveFailures;
    this.lastRenewalAt = lastRenewalAt;
    this.accessTokenExpiresAt = accessTokenExpiresAt;
    this.refreshTokenExpiresAt = refreshTokenExpiresAt;
    this.unsaved = unsaved;
  }

  /**
   * The connection's state: ACTIVE, DEGRADED or REAUTHORIZATION_REQUIRED.
   *
   * @return the state, never null
   */
  public State state() {
    return state;
  }

  /**
   * Why the connection is not ACTIVE, as a short code. For REAUTHORIZATION_REQUIRED one of {@code
   * not-authorized}, {@code refresh-token-rejected}, {@code revoked}, {@code unlinked}, {@code
   * uninstalled}, {@code client-rejected}, {@code ip-not-allowed}, {@code
   * rotation-outcome-unknown}, {@code store-lost-record}; for DEGRADED {@code transient}, {@code
   * rate-limited}, {@code rotation-outcome-unknown}, {@code store-unavailable}. Null when ACTIVE.
   * The same codes appear in events, the CLI and metrics.
   *
   * @return why the connection is not ACTIVE, as a short code
   */
  public @Nullable String reasonCode() {
    return reasonCode;
  }

  /**
   * Why the connection is not ACTIVE (or a note while it is), for a person.
   *
   * @return why the connection is not ACTIVE (or a note while it is), for a person; or null
   */
  public @Nullable String reason() {
    return reason;
  }

  /**
   * The protocol error behind the state: {@code invalid_grant}, {@code KOE322}, {@code 503}…
   *
   * @return the protocol error behind the state: {@code invalid_grant}, {@code KOE322}, {@code
   *     503}…
   */
  public @Nullable String errorCode() {
    return errorCode;
  }

  /**
   * When the connection entered this state.
   *
   * @return when the connection entered this state
   */
  public Instant since() {
    return since;
  }

  /**
   * When DEGRADED: the earliest time the broker will try again.
   *
   * @return when DEGRADED: the earliest time the broker will try again
   */
  public @Nullable Instant nextAttemptAt() {
    return nextAttemptAt;
  }

  /**
   * Renewal failures in a row; 0 when ACTIVE.
   *
   * @return renewal failures in a row; 0 when ACTIVE
   */
  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /**
   * When the connection was last renewed: by this broker, or else when the current token set was
   * issued (renewed or authorized by any instance or process), so a fresh process reports it too.
   * Null when no token set is known (never authorized, or revoked).
   *
   * @return when the connection was last renewed, or null
   */
  public @Nullable Instant lastRenewalAt() {
    return lastRenewalAt;
  }

  /**
   * The current access token's expiry, when one is known.
   *
   * @return the current access token's expiry, when one is known
   */
  public @Nullable Instant accessTokenExpiresAt() {
    return accessTokenExpiresAt;
  }

  /**
   * The current refresh token's expiry, when one is known.
   *
   * @return the current refresh token's expiry, when one is known
   */
  public @Nullable Instant refreshTokenExpiresAt() {
    return refreshTokenExpiresAt;
  }

  /**
   * True while the broker holds a token set it received but could not yet save to the store; it
   * keeps serving it and retrying the save.
   *
   * @return true while the broker holds a token set it received but could not yet save to the
   *     store; it keeps serving it and retrying the save.
   */
  public boolean unsaved() {
    return unsaved;
  }

  /**
   * Whether the connection is {@link State#ACTIVE}.
   *
   * @return true when ACTIVE
   */
  public boolean isActive() {
    return state == State.ACTIVE;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("Health{").append(state);
    if (reasonCode != null) {
      b.append(", ").append(reasonCode);
    }
    if (reason != null) {
      b.append(", reason=").append(reason);
    }
    if (errorCode != null) {
      b.append(", error=").append(errorCode);
    }
    b.append(", since=").append(since);
    if (nextAttemptAt != null) {
      b.append(", nextAttemptAt=").append(nextAttemptAt);
    }
    if (consecutiveFailures > 0) {
      b.append(", failures=").append(consecutiveFailures);
    }
    if (unsaved) {
      b.append(", unsaved");
    }
    return b.append('}').toString();
  }
}
