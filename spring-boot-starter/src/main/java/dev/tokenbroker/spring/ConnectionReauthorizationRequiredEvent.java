package dev.tokenbroker.spring;

import dev.tokenbroker.ConnectionId;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEvent;

/**
 * A connection needs a person (a shop owner to authorize again, an operator to fix a secret or an
 * IP allow-list). Published once per state change across every instance sharing the store: by the
 * instance whose write moved the connection's shared health record to REAUTHORIZATION_REQUIRED.
 *
 * <p>Published on the broker thread that observed the failure: a listener that sends mail or calls
 * a webhook should be {@code @Async} or hand the work off. Carries no token or secret.
 */
public final class ConnectionReauthorizationRequiredEvent extends ApplicationEvent {
  private static final long serialVersionUID = 1L;

  private final ConnectionId connection;
  private final @Nullable String reasonCode;
  private final String message;
  private final Instant at;

  /**
   * @param source the broker
   * @param connection the connection
   * @param reasonCode why, from the list in {@link dev.tokenbroker.Health#reasonCode()} ({@code
   *     refresh-token-rejected}, {@code uninstalled}, {@code client-rejected}, …), or null if the
   *     store could not be read to learn it
   * @param message one line for a person; never a token or secret
   * @param at when, by the broker's clock
   */
  public ConnectionReauthorizationRequiredEvent(
      Object source,
      ConnectionId connection,
      @Nullable String reasonCode,
      String message,
      Instant at) {
    super(source);
    this.connection = Objects.requireNonNull(connection);
    this.reasonCode = reasonCode;
    this.message = Objects.requireNonNull(message);
    this.at = Objects.requireNonNull(at);
  }

  /**
   * The connection that needs a person.
   *
   * @return the connection
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * Why, as a short code from {@link dev.tokenbroker.Health#reasonCode()}.
   *
   * @return the reason code, or null when it could not be read
   */
  public @Nullable String reasonCode() {
    return reasonCode;
  }

  /**
   * One line for a person.
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
    return "ConnectionReauthorizationRequiredEvent{" + connection + ", " + reasonCode + '}';
  }
}
