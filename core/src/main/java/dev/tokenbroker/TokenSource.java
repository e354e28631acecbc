package dev.tokenbroker;

import java.util.Objects;

/**
 * The tokens of one connection of a {@link TokenBroker}, with the connection resolved once: {@code
 * broker.tokenSource(id).accessToken()} behaves exactly as {@code broker.accessToken(id)} (FRESH
 * served at once, STALE served while one renewal runs in the background, EXPIRED waits for the
 * connection's single renewal) but skips the lookup by id. Keep one per connection in a field, as
 * you would keep a credential object. Thread-safe; as cheap to hold as a reference.
 *
 * <p>The name is golang/oauth2's: a source of valid tokens for one grant.
 */
public final class TokenSource {
  private final TokenCalls tokens;
  private final Connection conn;

  TokenSource(TokenCalls tokens, Connection conn) {
    this.tokens = tokens;
    this.conn = conn;
  }

  /**
   * The connection this source serves.
   *
   * @return the connection this source serves
   */
  public ConnectionId id() {
    return conn.id;
  }

  /**
   * A valid access token, as {@link TokenBroker#accessToken}.
   *
   * @return a valid access token
   * @throws ReauthorizationRequiredException if a person must act first
   * @throws TokenUnavailableException if no valid token can be had now (see its health)
   */
  public String accessToken() {
    return tokens.current(conn).accessToken();
  }

  /**
   * The whole valid {@link TokenSet}, as {@link TokenBroker#tokenSet}.
   *
   * @return the whole valid token set
   */
  public TokenSet tokenSet() {
    return tokens.current(conn).tokenSet();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenSource
        && ((TokenSource) o).tokens == tokens
        && ((TokenSource) o).conn == conn;
  }

  @Override
  public int hashCode() {
    return Objects.hash(System.identityHashCode(tokens), conn.id);
  }

  /** {@code TokenSource{cafe24:mymall}}; never a token. */
  @Override
  public String toString() {
    return "TokenSource{" + conn.id + '}';
  }
}
