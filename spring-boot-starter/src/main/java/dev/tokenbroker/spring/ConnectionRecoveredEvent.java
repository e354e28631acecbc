package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import java.time.Instant;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * A connection that was DEGRADED or needed re-authorization is ACTIVE again: a renewal succeeded or
 * a new authorization completed. Published once per recovery across all instances sharing the
 * store: by the instance whose renewal or authorization cleared the shared health record (core's
 * {@code RECOVERED} event).
 *
 * <p>Published on a broker thread (or the thread that completed the authorization): keep listeners
 * quick. Carries no token or secret.
 */
public final class ConnectionRecoveredEvent extends ApplicationEvent {
  private static final long serialVersionUID = 1L;

  private final ConnectionId connection;
  private final String message;
  private final Instant at;

  /**
   * @param source the broker
   * @param connection the connection
   * @param message one line for a person naming the state it recovered from; never a token
   * @param at when, by the broker's clock
   */
  public ConnectionRecoveredEvent(
      Object source, ConnectionId connection, String message, Instant at) {
    super(source);
    this.connection = Objects.requireNonNull(connection);
    this.message = Objects.requireNonNull(message);
    this.at = Objects.requireNonNull(at);
  }

  /**
   * The connection that works again.
   *
   * @return the connection
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * One line for a person, naming the state it recovered from ({@code active again (was DEGRADED:
   * …)}, {@code active again: authorized (was REAUTHORIZATION_REQUIRED: …)}).
   *
   * @return the message; never a token or secret
   */
  public String message() {
    return message;
  }

  /**
   * When, by the broker's clock.
   *
   * @return when it happened
   */
  public Instant at() {
    return at;
  }

  @Override
  public String toString() {
    return "ConnectionRecoveredEvent{" + connection + '}';
  }
}
