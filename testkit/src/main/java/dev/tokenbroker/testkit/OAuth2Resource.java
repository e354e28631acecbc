package dev.tokenbroker.testkit;

import static dev.tokenbroker.testkit.EmulatorServer.json;
import static dev.tokenbroker.testkit.EmulatorServer.obj;

import dev.tokenbroker.testkit.OAuth2Tokens.AccessToken;
import java.time.Clock;
import java.util.Map;

/**
 * The {@link OAuth2Emulator}'s protected resource ({@code GET /api/resource}, RFC 6750): a valid,
 * unexpired, unrevoked Bearer access token gets 200 with the grant's client and scope; no
 * credentials get 401 {@code invalid_request}, anything else (or every call, with {@link
 * #rejectAll}) 401 {@code invalid_token}, each with its {@code WWW-Authenticate} header. It counts
 * calls and rejections.
 */
final class OAuth2Resource {
  private final Clock clock;
  private final Map<String, AccessToken> accessTokens;
  private final OAuth2Counters counters;

  volatile boolean rejectAll;

  OAuth2Resource(Clock clock, Map<String, AccessToken> accessTokens, OAuth2Counters counters) {
    this.clock = clock;
    this.accessTokens = accessTokens;
    this.counters = counters;
  }

  MockResponse handle(RecordedRequest request) {
    counters.apiCalls.incrementAndGet();
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      counters.apiRejections.incrementAndGet();
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      return json(401, obj("error", "invalid_request"))
          .setHeader("WWW-Authenticate", "Bearer realm=\"oauth2-emulator\"");
    }
    String token = header.substring(7).trim();
    AccessToken t = accessTokens.get(token);
    if (rejectAll || t == null || !t.isValid(clock.millis())) {
      counters.apiRejections.incrementAndGet();
      return json(
              401,
              obj(
                  "error",
                  "invalid_token",
                  "error_description",
                  "the access token is invalid, expired or revoked"))
          .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    return json(200, obj("ok", true, "client_id", t.grant.clientId, "scope", t.grant.scope));
  }
}
