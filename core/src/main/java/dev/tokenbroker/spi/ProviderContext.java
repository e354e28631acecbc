package dev.tokenbroker.spi;

import dev.tokenbroker.ConnectionId;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Objects;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * What the broker gives a provider: the connection, the one clock, and the HTTP client for token
 * endpoints (which never retries or follows redirects on its own). Immutable.
 */
public final class ProviderContext {
  private final ConnectionId connection;
  private final Clock clock;
  private final OkHttpClient httpClient;
  private final SecureRandom random;
  private final @Nullable String subject;

  /**
   * @param connection the connection the provider serves
   * @param clock the broker's clock
   * @param httpClient the broker's HTTP client; made safe (no automatic retries, no redirects)
   * @param random the broker's source of randomness (state, PKCE)
   */
  public ProviderContext(
      ConnectionId connection, Clock clock, OkHttpClient httpClient, SecureRandom random) {
    this(connection, clock, httpClient, random, null);
  }

  /**
   * @param connection the connection the provider serves
   * @param clock the broker's clock
   * @param httpClient the broker's HTTP client; made safe (no automatic retries, no redirects)
   * @param random the broker's source of randomness (state, PKCE)
   * @param subject for a connection made from a template ({@code cafe24:{mall}}), the value of its
   *     placeholder ({@code mall-a}); null for a connection configured on its own
   */
  public ProviderContext(
      ConnectionId connection,
      Clock clock,
      OkHttpClient httpClient,
      SecureRandom random,
      @Nullable String subject) {
    this.connection = Objects.requireNonNull(connection);
    this.clock = Objects.requireNonNull(clock);
    this.httpClient = TokenHttp.safeClient(Objects.requireNonNull(httpClient));
    this.random = Objects.requireNonNull(random);
    this.subject = subject;
  }

  /**
   * For a connection made from an app's template ({@code cafe24:{mall}}), the value bound to the
   * placeholder: the mall id, the Naver seller account id, the Kakao user id. A provider uses it as
   * the default of the setting it stands for ({@code mall-id}, {@code account-id}). Null for a
   * connection configured on its own, and for one whose subject is known only after the code
   * exchange ({@link TokenProvider#subjectOf}).
   *
   * @return the template subject, or null
   */
  public @Nullable String subject() {
    return subject;
  }

  /**
   * The connection the provider serves.
   *
   * @return the connection id
   */
  public ConnectionId connection() {
    return connection;
  }

  /**
   * The broker's clock: use it for every timestamp, expiry and signature.
   *
   * @return the broker's clock: use it for every timestamp, expiry and signature
   */
  public Clock clock() {
    return clock;
  }

  /**
   * An HTTP client with {@code retryOnConnectionFailure(false)} and redirects off.
   *
   * @return an HTTP client with {@code retryOnConnectionFailure(false)} and redirects off
   */
  public OkHttpClient httpClient() {
    return httpClient;
  }

  /**
   * The broker's source of randomness, for state and PKCE verifiers.
   *
   * @return a shared, thread-safe SecureRandom
   */
  public SecureRandom random() {
    return random;
  }

  /**
   * A {@link TokenHttp} for {@code provider} using this context's client and clock.
   *
   * @param provider the provider name, for exceptions
   * @return a {@link TokenHttp} for {@code provider} using this context's client and clock
   */
  public TokenHttp tokenHttp(String provider) {
    return new TokenHttp(httpClient, clock, provider);
  }
}
