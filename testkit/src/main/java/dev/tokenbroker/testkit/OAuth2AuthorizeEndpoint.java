package dev.tokenbroker.testkit;

import dev.tokenbroker.testkit.OAuth2Clients.Client;
import dev.tokenbroker.testkit.OAuth2Tokens.Code;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The {@link OAuth2Emulator}'s authorization endpoint ({@code GET /oauth/authorize}, RFC 6749
 * §4.1.1): it approves at once, or denies when {@link #denyAuthorization} is set, and redirects
 * with a fresh single-use code bound to the client, the redirect URI, the scope and the PKCE
 * challenge. An unknown client or an unregistered redirect URI gets an error page, never a redirect
 * (RFC 6749 §4.1.2.1); a challenge other than a well-formed S256 one is refused. It counts
 * authorize requests.
 */
final class OAuth2AuthorizeEndpoint {
  private final Clock clock;
  private final OAuth2Clients clients;
  private final OAuth2Tokens tokens;
  private final OAuth2Counters counters;

  volatile Duration codeLifetime = Duration.ofSeconds(60);
  volatile boolean denyAuthorization;

  OAuth2AuthorizeEndpoint(
      Clock clock, OAuth2Clients clients, OAuth2Tokens tokens, OAuth2Counters counters) {
    this.clock = clock;
    this.clients = clients;
    this.tokens = tokens;
    this.counters = counters;
  }

  MockResponse handle(RecordedRequest request) {
    counters.authorizeRequests.incrementAndGet();
    if (!"GET".equals(request.getMethod())) {
      return page(405, "the authorization endpoint accepts GET only");
    }
    HttpUrl url = Objects.requireNonNull(request.getRequestUrl());
    for (String name : url.queryParameterNames()) {
      if (url.queryParameterValues(name).size() > 1) {
        return page(400, "parameter '" + name + "' is repeated");
      }
    }
    Client client = clients.get(String.valueOf(url.queryParameter("client_id")));
    if (client == null) {
      return page(400, "unknown client_id");
    }
    String redirectUri = url.queryParameter("redirect_uri");
    HttpUrl redirect = redirectUri == null ? null : HttpUrl.parse(redirectUri);
    if (redirect == null
        || (!client.redirectUris.isEmpty() && !client.redirectUris.contains(redirectUri))) {
      // RFC 6749 §4.1.2.1: never redirect to an unverified URI.
      return page(400, "redirect_uri is missing, malformed or not registered for this client");
    }
    String state = url.queryParameter("state");
    if (!"code".equals(url.queryParameter("response_type"))) {
      return redirectError(redirect, state, "unsupported_response_type");
    }
    String challenge = url.queryParameter("code_challenge");
    String method = url.queryParameter("code_challenge_method");
    if (challenge != null || method != null) {
      // RFC 7636: without a method the server assumes "plain", which this emulator refuses.
      if (challenge == null
          || !"S256".equals(method)
          || !OAuth2Protocol.isValidChallenge(challenge)) {
        return redirectError(redirect, state, "invalid_request");
      }
    }
    if (denyAuthorization) {
      return redirectError(redirect, state, "access_denied");
    }
    String scope = url.queryParameter("scope");
    String value = tokens.randomToken("code_", 24);
    tokens.codes.put(
        value,
        new Code(
            client.id,
            Objects.requireNonNull(redirectUri),
            challenge,
            scope == null || scope.isBlank() ? tokens.defaultScope : scope,
            clock.millis() + codeLifetime.toMillis()));
    HttpUrl.Builder location = redirect.newBuilder().addQueryParameter("code", value);
    if (state != null) {
      location.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.build());
  }

  private static MockResponse redirectError(HttpUrl redirect, @Nullable String state, String e) {
    HttpUrl.Builder location = redirect.newBuilder().addQueryParameter("error", e);
    if (state != null) {
      location.addQueryParameter("state", state);
    }
    return new MockResponse().setResponseCode(302).setHeader("Location", location.build());
  }

  private static MockResponse page(int status, String message) {
    return new MockResponse()
        .setResponseCode(status)
        .setHeader("Content-Type", "text/html;charset=UTF-8")
        .setBody("<html><body><h1>Authorization error</h1><p>" + message + "</p></body></html>");
  }
}
