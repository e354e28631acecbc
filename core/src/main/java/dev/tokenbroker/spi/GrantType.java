package dev.tokenbroker.spi;

/** How a provider gets its first token, which decides whether a person is needed. */
public enum GrantType {
  /**
   * A person approves once in a browser ({@code startAuthorization} / {@code
   * completeAuthorization}); afterwards a refresh token keeps the connection alive (Cafe24, Kakao).
   */
  AUTHORIZATION_CODE,
  /** The application asks on its own behalf whenever it needs a token (Naver Commerce). */
  CLIENT_CREDENTIALS
}
