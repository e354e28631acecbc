package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Protocol.oauthError;
import static dev.tokenbroker.testkit.OAuth2Protocol.strictForm;

import dev.tokenbroker.testkit.OAuth2Clients.Client;
import dev.tokenbroker.testkit.OAuth2Clients.ClientAuthFailure;
import dev.tokenbroker.testkit.OAuth2Tokens.AccessToken;
import dev.tokenbroker.testkit.OAuth2Tokens.Grant;
import dev.tokenbroker.testkit.OAuth2Tokens.RefreshToken;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link OAuth2Emulator}'s revocation endpoint ({@code POST /oauth/revoke}, RFC 7009): the
 * client authenticates as at the token endpoint; revoking a refresh token ends its whole grant,
 * revoking an access token ends only that token, a token of another client is refused and an
 * unknown token answers 200. It counts successful revocations.
 */
final class OAuth2Revocation {
  private final OAuth2Clients clients;
  private final OAuth2Tokens tokens;
  private final AtomicLong revocations;

  /**
   * @param revocations counts the successful revocation requests
   */
  OAuth2Revocation(OAuth2Clients clients, OAuth2Tokens tokens, AtomicLong revocations) {
    this.clients = clients;
    this.tokens = tokens;
    this.revocations = revocations;
  }

  MockResponse handle(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return oauthError(405, "invalid_request", "the revocation endpoint accepts POST only");
    }
    Map<String, String> form = strictForm(request);
    if (form == null) {
      return oauthError(400, "invalid_request", "malformed form body");
    }
    Client client;
    try {
      client = clients.authenticate(request, form);
    } catch (ClientAuthFailure e) {
      return e.response;
    }
    String token = form.get("token");
    if (token == null || token.isEmpty()) {
      return oauthError(400, "invalid_request", "token is required");
    }
    RefreshToken rt = tokens.refreshTokens.get(token);
    AccessToken at = tokens.accessTokens.get(token);
    Grant grant = rt != null ? rt.grant : at != null ? at.grant : null;
    if (grant != null && !grant.clientId.equals(client.id)) {
      return oauthError(400, "unauthorized_client", "the token was issued to another client");
    }
    if (rt != null) {
      rt.grant.revoked = true; // RFC 7009 §2.1: the grant's access tokens go too
      tokens.refreshTokens.remove(token, rt);
    } else if (at != null) {
      tokens.accessTokens.remove(token, at);
    }
    revocations.incrementAndGet();
    return new MockResponse().setResponseCode(200).setHeader("Cache-Control", "no-store");
  }
}
