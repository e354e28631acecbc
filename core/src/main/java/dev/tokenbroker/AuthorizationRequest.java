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

  public ConnectionId connection() {
    return connection;
  }

  /** Open this in a browser. It contains the state, so treat it as sensitive. */
  public URI url() {
    return url;
  }

  /** The unguessable {@code state} sent in the URL. */
  public String state() {
    return state;
  }

  /** The PKCE code verifier, when the provider uses PKCE. */
  public @Nullable String codeVerifier() {
    return codeVerifier;
  }

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
