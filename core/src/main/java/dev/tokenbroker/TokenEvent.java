package dev.tokenbroker;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Something that happened to a connection, delivered to {@link TokenListener}s. Carries no token;
 * {@link #message()} is safe to log.
 */
public final class TokenEvent {
  /** What happened. */
  public enum Type {
    /** A code exchange stored a first token set. */
    AUTHORIZED,
    /** A renewal stored a new token set. */
    REFRESHED,
    /** A renewal failed; the connection is DEGRADED or needs re-authorization. */
    REFRESH_FAILED,
    /** The connection needs a person: see {@link Health#reason()}. */
    REAUTHORIZATION_REQUIRED,
    /** The refresh token expires within the provider's keep-alive window. */
    REFRESH_TOKEN_EXPIRING_SOON,
    /**
     * A refresh request was sent but its answer was lost: the refresh token may already be rotated
     * and dead. The next attempt's answer decides the health; nothing was retried blindly.
     */
    ROTATION_OUTCOME_UNKNOWN,
    /** A new token set could not be saved; it is kept in memory, served, and the save retried. */
    SAVE_FAILED,
    /** A token set that could not be saved earlier has now been saved. */
    SAVE_RECOVERED,
    /** The connection's tokens were revoked. */
    REVOKED,
    /**
     * A connection made at run time from an app's template was onboarded here, or learnt from the
     * store (authorized on another instance): it is served here now.
     */
    CONNECTION_ADDED,
    /**
     * The connection is ACTIVE again after it was DEGRADED or needed re-authorization: a renewal
     * succeeded, or a new authorization was saved. Sent by the one instance whose store write
     * cleared the shared health record, so once per recovery across every instance sharing the
     * store. The message names the state it recovered from.
     */
    RECOVERED,
    /**
     * A connection made at run time was removed (here, or on another instance: uninstalled,
     * unlinked, removed): it is served here no more.
     */
    CONNECTION_REMOVED,
    /**
     * The store had lost this connection's record, or held an older version than this instance: the
     * newer set held here was written back. Investigate the store (a restart without persistence, a
     * restore from an old snapshot).
     */
    STORE_RESTORED
  }

  private final Type type;
  private final ConnectionId connection;
  private final Instant at;
  private final String message;
  private final @Nullable Throwable error;

  /**
   * @param type what happened
   * @param connection the connection it happened to
   * @param at when, by the broker's clock
   * @param message one line for a person; never a token or secret
   * @param error the failure behind it, or null
   */
  public TokenEvent(
      Type type, ConnectionId connection, Instant at, String message, @Nullable Throwable error) {
    this.type = Objects.requireNonNull(type);
    this.connection = Objects.requireNonNull(connection);
    this.at = Objects.requireNonNull(at);
    this.message = Objects.requireNonNull(message);
    this.error = error;
  }

  /**
   * What happened.
   *
   * @return the event type
   */
  public Type type() {
    return type;
  }

  /**
   * The connection it happened to.
   *
   * @return the connection id
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * When it happened, by the broker's clock.
   *
   * @return when it happened, by the broker's clock
   */
  public Instant at() {
    return at;
  }

  /**
   * One line for a person; no secrets.
   *
   * @return one line for a person; never a token or secret
   */
  public String message() {
    return message;
  }

  /**
   * The failure, for failure events.
   *
   * @return the failure, for failure events
   */
  public @Nullable Throwable error() {
    return error;
  }

  @Override
  public String toString() {
    return type + " " + connection + " at " + at + ": " + message;
  }
}
