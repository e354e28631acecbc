package dev.tokenbroker;

/** How far {@link TokenBroker#revoke(ConnectionId, Revocation)} goes. */
public enum Revocation {
  /**
   * End this connection's tokens (Cafe24 revoke, which also kills the refresh token; Kakao logout).
   * The connection then needs a new authorization.
   */
  TOKENS,
  /**
   * Also remove the app's link to the account where the platform has one (Kakao unlink, which
   * expires every token of the user). Elsewhere the same as {@link #TOKENS}.
   */
  UNLINK
}
