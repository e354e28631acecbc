package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.OAuth2Emulator.AUTHORIZATION_CODE;
import static dev.tokenbroker.testkit.OAuth2Emulator.CLIENT_CREDENTIALS;
import static dev.tokenbroker.testkit.OAuth2Emulator.REFRESH_TOKEN;
import static dev.tokenbroker.testkit.OAuth2Protocol.isValidVerifier;
import static dev.tokenbroker.testkit.OAuth2Protocol.noStore;
import static dev.tokenbroker.testkit.OAuth2Protocol.oauthError;
import static dev.tokenbroker.testkit.OAuth2Protocol.strictForm;

import dev.tokenbroker.testkit.OAuth2Clients.Client;
import dev.tokenbroker.testkit.OAuth2Clients.ClientAuthFailure;
import dev.tokenbroker.testkit.OAuth2Tokens.Code;
import dev.tokenbroker.testkit.OAuth2Tokens.Grant;
import dev.tokenbroker.testkit.OAuth2Tokens.Issued;
import dev.tokenbroker.testkit.OAuth2Tokens.RefreshToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link OAuth2Emulator}'s token endpoint ({@code POST /oauth/token}, RFC 6749 §3.2): it
 * authenticates the client, then applies the rules of the {@code refresh_token} grant (rotation
 * spends the presented token atomically, no widening of scope), the {@code client_credentials}
 * grant and the {@code authorization_code} grant (single use with revocation on reuse, expiry,
 * client and {@code redirect_uri} binding, PKCE S256 without downgrade), and writes the RFC 6749
 * §5.1 answer. It counts token requests, tokens issued and {@code invalid_grant} answers.
 */
final class OAuth2TokenEndpoint {
  private final Clock clock;
  private final OAuth2Clients clients;
  private final OAuth2Tokens tokens;
  private final OAuth2Counters counters;

  volatile boolean rotate = true;
  volatile boolean absoluteExpiry;

  OAuth2TokenEndpoint(
      Clock clock, OAuth2Clients clients, OAuth2Tokens tokens, OAuth2Counters counters) {
    this.clock = clock;
    this.clients = clients;
    this.tokens = tokens;
    this.counters = counters;
  }

  MockResponse handle(RecordedRequest request) {
    counters.tokenRequests.incrementAndGet();
    Map<String, String> form = strictForm(request);
    String grantType = form == null ? "" : form.getOrDefault("grant_type", "");
    counters.countGrantType(grantType);
    if (!"POST".equals(request.getMethod())) {
      return oauthError(405, "invalid_request", "the token endpoint accepts POST only");
    }
    if (form == null) {
      return oauthError(
          400,
          "invalid_request",
          "the body must be application/x-www-form-urlencoded with no repeated parameter");
    }
    Client client;
    try {
      client = clients.authenticate(request, form);
    } catch (ClientAuthFailure e) {
      return e.response;
    }
    if (grantType.isEmpty()) {
      return oauthError(400, "invalid_request", "grant_type is required");
    }
    long now = clock.millis();
    switch (grantType) {
      case REFRESH_TOKEN:
        return refreshGrant(client, form, now);
      case CLIENT_CREDENTIALS:
        return clientCredentialsGrant(client, form, now);
      case AUTHORIZATION_CODE:
        return codeGrant(client, form, now);
      default:
        return oauthError(400, "unsupported_grant_type", "grant_type is not supported");
    }
  }

  private MockResponse refreshGrant(Client client, Map<String, String> form, long now) {
    String presented = form.get("refresh_token");
    if (presented == null || presented.isEmpty()) {
      return oauthError(400, "invalid_request", "refresh_token is required");
    }
    RefreshToken rt = tokens.refreshTokens.get(presented);
    if (rt == null || !rt.isValid(now)) {
      if (rt != null) {
        tokens.refreshTokens.remove(presented, rt);
      }
      return invalidGrant("the refresh token is invalid, expired, revoked or already used");
    }
    if (!rt.grant.clientId.equals(client.id)) {
      // RFC 6749 §6: bound to the client it was issued to; another client may not spend it.
      return invalidGrant("the refresh token was issued to another client");
    }
    boolean rotating = rotate;
    // remove(key, value) is the single atomic step that decides which of two concurrent refreshes
    // with the same token wins; the loser sees a spent token, as on a real rotating server.
    if (rotating && !tokens.refreshTokens.remove(presented, rt)) {
      return invalidGrant("the refresh token is invalid, expired, revoked or already used");
    }
    String scope = form.get("scope");
    if (scope != null && !isSubset(scope, rt.grant.scope)) {
      return oauthError(400, "invalid_scope", "a refresh cannot widen the granted scope");
    }
    Issued issued = tokens.issue(rt.grant, rotating, now);
    return tokenResponse(issued);
  }

  private MockResponse clientCredentialsGrant(Client client, Map<String, String> form, long now) {
    String scope = form.get("scope");
    Grant grant =
        new Grant(client.id, scope == null || scope.isBlank() ? tokens.defaultScope : scope);
    return tokenResponse(tokens.issue(grant, false, now));
  }

  private MockResponse codeGrant(Client client, Map<String, String> form, long now) {
    String value = form.get("code");
    if (value == null || value.isEmpty()) {
      return oauthError(400, "invalid_request", "code is required");
    }
    String redirectUri = form.get("redirect_uri");
    if (redirectUri == null) {
      return oauthError(400, "invalid_request", "redirect_uri is required");
    }
    Code code = tokens.codes.get(value);
    if (code == null) {
      return invalidGrant("the authorization code is invalid");
    }
    if (!code.used.compareAndSet(false, true)) {
      // RFC 6749 §4.1.2: a reused code is an attack signal: revoke what its first use issued.
      Grant issuedFrom = code.grant;
      if (issuedFrom != null) {
        issuedFrom.revoked = true;
      }
      return invalidGrant("the authorization code was already used");
    }
    // Every attempt spends the code, as real servers do: a wrong verifier cannot be retried.
    if (now >= code.expiresAtMillis) {
      return invalidGrant("the authorization code expired");
    }
    if (!code.clientId.equals(client.id)) {
      return invalidGrant("the authorization code was issued to another client");
    }
    if (!code.redirectUri.equals(redirectUri)) {
      return invalidGrant("redirect_uri does not match the one authorized");
    }
    String verifier = form.get("code_verifier");
    if (code.challenge == null) {
      if (verifier != null) {
        return invalidGrant("code_verifier sent but no code_challenge was authorized");
      }
    } else {
      if (verifier == null) {
        return invalidGrant("code_verifier is required: a code_challenge was authorized");
      }
      if (!isValidVerifier(verifier)) {
        return oauthError(400, "invalid_request", "code_verifier is malformed (RFC 7636 §4.1)");
      }
      if (!MessageDigest.isEqual(
          OAuth2Emulator.s256(verifier).getBytes(StandardCharsets.US_ASCII),
          code.challenge.getBytes(StandardCharsets.US_ASCII))) {
        return invalidGrant("code_verifier does not match the code_challenge");
      }
    }
    Grant grant = new Grant(client.id, code.scope);
    // Recorded before issuing, so a concurrent reuse always finds (and revokes) this grant.
    code.grant = grant;
    return tokenResponse(tokens.issue(grant, true, now));
  }

  private MockResponse tokenResponse(Issued issued) {
    counters.tokensIssued.incrementAndGet();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", issued.accessToken);
    body.put("token_type", "Bearer");
    if (absoluteExpiry) {
      body.put("expires_at", (issued.issuedAtMillis + issued.accessLifetime.toMillis()) / 1000);
    } else {
      body.put("expires_in", wholeSeconds(issued.accessLifetime));
      body.put("expires_in_ms", issued.accessLifetime.toMillis());
    }
    if (issued.refreshToken != null) {
      body.put("refresh_token", issued.refreshToken);
      body.put("refresh_token_expires_in", wholeSeconds(issued.refreshLifetime));
      body.put("refresh_token_expires_in_ms", issued.refreshLifetime.toMillis());
    }
    body.put("scope", issued.scope);
    return noStore(EmulatorServer.json(200, body));
  }

  /** Whole seconds, rounded down but at least 1: a 0 would read as "already expired". */
  private static long wholeSeconds(Duration d) {
    return Math.max(1, d.getSeconds());
  }

  private MockResponse invalidGrant(String description) {
    counters.invalidGrantAnswers.incrementAndGet();
    return oauthError(400, "invalid_grant", description);
  }

  private static boolean isSubset(String requested, String granted) {
    List<String> have = Arrays.asList(granted.split(" "));
    for (String s : requested.trim().split("\\s+")) {
      if (!s.isEmpty() && !have.contains(s)) {
        return false;
      }
    }
    return true;
  }
}
