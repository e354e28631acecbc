package dev.tokenbroker;

import java.net.URI;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The first half of an authorization-code flow: the URL a person opens, and the {@code state} (and
 * PKCE verifier) the broker will check the redirect against. {@link #toString()} hides the state
 * and verifier.
 */
public final class AuthorizationRequest {
  private final ConnectionId connection;
  private final URI url;
  private final String state;
  private final @Nullable String codeVerifier;
  private final Instant createdAt;

  /**
   * @param connection the connection being authorized
   * @param url where to send the person's browser
   * @param state the anti-forgery value the redirect must carry back
   * @param codeVerifier the PKCE verifier, or null when the platform uses none
   * @param createdAt when the flow started
   */
  public AuthorizationRequest(
      ConnectionId connection,
      URI url,
      String state,
      @Nullable String codeVerifier,
      Instant createdAt) {
    this.connection = Objects.requireNonNull(connection);
    this.url = Objects.requireNonNull(url);
    this.state = Objects.requireNonNull(state);
    this.codeVerifier = codeVerifier;
    this.createdAt = Objects.requireNonNull(createdAt);
  }

  /**
   * The connection being authorized.
   *
   * @return the connection id
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * Open this in a browser. It contains the state, so treat it as sensitive.
   *
   * @return the URL to open in a browser
   */
  public URI url() {
    return url;
  }

  /**
   * The unguessable {@code state} sent in the URL.
   *
   * @return the unguessable {@code state} sent in the URL
   */
  public String state() {
    return state;
  }

  /**
   * The PKCE code verifier, when the provider uses PKCE.
   *
   * @return the PKCE code verifier, or null when the provider uses no PKCE
   */
  public @Nullable String codeVerifier() {
    return codeVerifier;
  }

  /**
   * When the flow started, by the broker's clock.
   *
   * @return the start instant
   */
  public Instant createdAt() {
    return createdAt;
  }

  @Override
  public String toString() {
    return "AuthorizationRequest{"
        + connection
        + ", host="
        + url.getHost()
        + ", pkce="
        + (codeVerifier != null)
        + ", createdAt="
        + createdAt
        + '}';
  }
}
