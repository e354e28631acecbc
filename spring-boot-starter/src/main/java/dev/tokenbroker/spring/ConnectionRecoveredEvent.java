package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import java.time.Instant;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * A connection that was not ACTIVE works again: a new authorization completed, or a renewal
 * succeeded after failures this instance had seen. Published by the instance that completed the
 * authorization or renewal (one instance per recovery: the authorization or the renewal under the
 * store lease happens once).
 *
 * <p>Published on a broker thread (or the thread that completed the authorization): keep listeners
 * quick. Carries no token or secret.
 */
public final class ConnectionRecoveredEvent extends ApplicationEvent {
  private static final long serialVersionUID = 1L;

  private final ConnectionId connection;
  private final boolean authorized;
  private final Instant at;

  /**
   * @param source the broker
   * @param connection the connection
   * @param authorized true when a new authorization brought it back, false for a renewal
   * @param at when, by the broker's clock
   */
  public ConnectionRecoveredEvent(
      Object source, ConnectionId connection, boolean authorized, Instant at) {
    super(source);
    this.connection = Objects.requireNonNull(connection);
    this.authorized = authorized;
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
   * Whether a new authorization (rather than a renewal) brought it back.
   *
   * @return true after an authorization
   */
  public boolean authorized() {
    return authorized;
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
    return "ConnectionRecoveredEvent{" + connection + (authorized ? ", authorized" : "") + '}';
  }
}
