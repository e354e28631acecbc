package dev.tokenbroker.spi;

/**
 * How a client authenticates at a token or revocation endpoint (golang/oauth2's {@code AuthStyle}).
 * The client id and secret travel as this says; {@link TokenRequest} applies it.
 */
public enum ClientAuth {
  /**
   * RFC 6749 §2.3.1 {@code client_secret_basic}: {@code Authorization: Basic} over the id and
   * secret, each form-urlencoded first as the RFC asks.
   */
  BASIC,
  /**
   * HTTP Basic over the id and secret exactly as configured, not form-urlencoded first: what many
   * servers actually decode (Cafe24).
   */
  BASIC_UNENCODED,
  /**
   * RFC 6749 §2.3.1 {@code client_secret_post}: {@code client_id} and {@code client_secret} in the
   * form body.
   */
  FORM,
  /**
   * A public client (RFC 6749 §2.1): only {@code client_id} in the form body, no secret. Usually
   * with PKCE.
   */
  NONE
}
