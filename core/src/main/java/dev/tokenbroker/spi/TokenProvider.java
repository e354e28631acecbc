package dev.tokenbroker.spi;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenSet;
import java.net.URI;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * One platform's token protocol for one connection: how to exchange a code, refresh, obtain, revoke
 * and validate, how to read the platform's errors, and when its tokens should be renewed.
 *
 * <p>Stateless apart from configuration and thread-safe: the broker calls it from many threads but
 * never twice at once for the same connection's renewal. It knows HTTP and JSON of its platform and
 * nothing about caching, storage, locking or retries — the broker does all of that once. Methods
 * block on network I/O and are never called while the broker holds a lock.
 *
 * <p>Failures are thrown as {@link TokenEndpointException} with the provider's {@linkplain
 * TokenEndpointException.Kind classification}. Implementations use {@link
 * dev.tokenbroker.spi.TokenHttp} for token-endpoint calls, which never re-sends a request on its
 * own: a refresh whose answer was lost surfaces as {@link
 * TokenEndpointException.Kind#OUTCOME_UNKNOWN}.
 */
public interface TokenProvider {

  /**
   * The provider name, equal to {@link ConnectionId#provider()} of its connections.
   *
   * @return the provider name, equal to {@link ConnectionId#provider()} of its connections
   */
  String name();

  /**
   * Whether a person must authorize first ({@link GrantType#AUTHORIZATION_CODE}).
   *
   * @return whether a person must authorize first ({@link GrantType#AUTHORIZATION_CODE})
   */
  GrantType grantType();

  /**
   * When this platform's tokens should be renewed.
   *
   * @return when this platform's tokens should be renewed
   */
  RenewalPolicy renewalPolicy();

  /**
   * Whether {@link #authorizationUrl} takes a PKCE S256 challenge.
   *
   * @return whether {@link #authorizationUrl} takes a PKCE S256 challenge
   */
  default boolean usesPkce() {
    return false;
  }

  /**
   * The URL a person opens to approve access.
   *
   * @return the URL a person opens to approve access
   * @param state the unguessable value the redirect must carry back
   * @param codeChallenge the PKCE S256 challenge when {@link #usesPkce()}, else null
   */
  default URI authorizationUrl(String state, @Nullable String codeChallenge) {
    throw new UnsupportedOperationException(name() + " has no authorization-code flow");
  }

  /**
   * Exchanges an authorization code for a first token set, at once (Cafe24's codes die in about a
   * minute).
   *
   * @param code the platform's error code, or null
   * @return the first token set
   * @param codeVerifier the PKCE verifier when {@link #usesPkce()}, else null
   */
  default TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    throw new UnsupportedOperationException(name() + " has no authorization-code flow");
  }

  /**
   * Renews {@code current} with its refresh token. The result must keep what the platform did not
   * resend (Kakao omits the refresh token until its last month: keep the old one, its expiry and
   * scopes). The broker additionally never lets a refresh token be dropped.
   *
   * @param current the connection's current token set
   * @return the renewed token set (with a rotated refresh token where the platform rotates)
   */
  default TokenSet refresh(TokenSet current) {
    throw new UnsupportedOperationException(name() + " has no refresh-token grant");
  }

  /**
   * Obtains a token on the application's own behalf (client credentials).
   *
   * @return a new token set
   * @param current the token set held now, if any (Naver returns the same token while 30 minutes or
   *     more remain: keep the earlier expiry then)
   */
  default TokenSet obtain(@Nullable TokenSet current) {
    throw new UnsupportedOperationException(name() + " has no client-credentials grant");
  }

  /**
   * Revokes {@code current} at the platform.
   *
   * @param current the connection's current token set
   * @param revocation how far to go
   */
  default void revoke(TokenSet current, Revocation revocation) {
    throw new UnsupportedOperationException(name() + " cannot revoke tokens");
  }

  /**
   * The subject a freshly issued token set belongs to, when only the platform knows it: Kakao's
   * user id, known after the code exchange (from token info). The broker names a connection started
   * from a template ({@code kakao:{user}}) with it when the authorization completes. The default:
   * null, the subject was known before (a Cafe24 mall).
   *
   * @param issued the token set the code exchange returned
   * @return the subject (the value of the template's placeholder), or null if not known here
   */
  default @Nullable String subjectOf(TokenSet issued) {
    return null;
  }

  /**
   * Checks {@code current} with the platform (Kakao token info) and returns it, possibly with
   * extras added (the user id). Throws a PERMANENT {@link TokenEndpointException} for a token that
   * must not be used (minted for another app). The default accepts every token unchecked.
   *
   * @param current the connection's current token set
   * @return the token set, possibly with extras the platform reported
   */
  default TokenSet validate(TokenSet current) {
    return current;
  }

  /**
   * Whether a token set read from a store is {@linkplain #validate validated} once before use.
   *
   * @return whether a token set read from a store is {@linkplain #validate validated} once before
   *     use
   */
  default boolean validatesOnLoad() {
    return false;
  }

  /**
   * Reads an API response made with this connection's token. Called only for responses with a
   * status of 400 or more, so the happy path costs nothing. The response body may be peeked ({@link
   * Response#peekBody}), not consumed. The default treats 401 as a rejected token.
   *
   * @param response the API response
   * @return what the response means for the token and the connection
   */
  default ApiVerdict classifyApiResponse(Response response) {
    return response.code() == 401 ? ApiVerdict.tokenRejected() : ApiVerdict.ok();
  }

  /**
   * Adds platform headers to an API request that carries {@code current}'s token (Cafe24's {@code
   * X-Cafe24-Api-Version}). The broker has already set {@code Authorization}.
   *
   * @param request the request to send
   * @param current the connection's current token set
   */
  default void decorateApiRequest(Request.Builder request, TokenSet current) {}
}
