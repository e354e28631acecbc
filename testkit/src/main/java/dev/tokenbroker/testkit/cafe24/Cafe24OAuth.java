package dev.tokenbroker.testkit.cafe24;

import static dev.tokenbroker.testkit.cafe24.Cafe24Answers.oauthError;
import static dev.tokenbroker.testkit.cafe24.Cafe24Answers.redirect;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Access;
import dev.tokenbroker.testkit.cafe24.Cafe24State.App;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Code;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Grant;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The {@link Cafe24Emulator}'s OAuth endpoints of one mall: {@code authorize} (approves at once, or
 * denies, and redirects with a single-use code), {@code token} (Basic client authentication, then
 * the code exchange or the rotating refresh, answered with Cafe24's offset-less timestamps) and
 * {@code revoke} (kills the whole grant). The switchable platform readings (the answer to a dead
 * refresh token, whether the old access token survives a refresh, denial) live here. Every method
 * runs under the emulator's lock.
 */
final class Cafe24OAuth {
  private static final Pattern SCOPE = Pattern.compile("mall\\.(read|write)_[a-z_]+");
  private static final String FORM = "application/x-www-form-urlencoded";

  private final Clock clock;
  private final Cafe24State platform;
  private final Cafe24Timestamps timestamps;
  private final Cafe24Counters counters;

  int invalidRefreshStatus = 401;
  String invalidRefreshError = "invalid_grant";
  boolean keepOldAccessToken;
  boolean denyAuthorizations;

  Cafe24OAuth(
      Clock clock, Cafe24State platform, Cafe24Timestamps timestamps, Cafe24Counters counters) {
    this.clock = clock;
    this.platform = platform;
    this.timestamps = timestamps;
    this.counters = counters;
  }

  MockResponse authorize(HttpUrl url, String mallId) {
    String clientId = url.queryParameter("client_id");
    App app = clientId == null ? null : platform.apps.get(clientId);
    if (app == null) {
      return oauthError(400, "invalid_client", "Invalid client_id");
    }
    String redirectUri = url.queryParameter("redirect_uri");
    if (!app.redirectUri.equals(redirectUri)) {
      // Never redirect to a URI that is not the registered one: answer with an error page.
      return oauthError(400, "invalid_request", "redirect_uri does not match the registered one");
    }
    String state = url.queryParameter("state");
    if (!"code".equals(url.queryParameter("response_type"))) {
      return redirect(redirectUri, "error", "unsupported_response_type", state);
    }
    String scope = url.queryParameter("scope");
    List<String> scopes = scope == null ? List.of() : List.of(scope.split(",", -1));
    if (scopes.isEmpty() || !scopes.stream().allMatch(s -> SCOPE.matcher(s).matches())) {
      return redirect(redirectUri, "error", "invalid_scope", state);
    }
    if (state == null || state.isEmpty()) {
      return redirect(redirectUri, "error", "invalid_request", null);
    }
    if (denyAuthorizations) {
      return redirect(redirectUri, "error", "access_denied", state);
    }
    String code = platform.randomToken(22);
    platform.codes.put(code, new Code(mallId, clientId, redirectUri, scopes, clock.instant()));
    platform.mall(mallId).uninstalled = false; // approving installs the app
    counters.authorizations.incrementAndGet();
    return redirect(redirectUri, "code", code, state);
  }

  MockResponse token(RecordedRequest request, String mallId) {
    if (!isForm(request)) {
      return oauthError(
          400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    String clientId = authenticate(request);
    if (clientId == null) {
      return clientError(request);
    }
    Map<String, String> form = EmulatorServer.form(request);
    String grantType = form.get("grant_type");
    if ("authorization_code".equals(grantType)) {
      return exchange(form, mallId, clientId);
    }
    if ("refresh_token".equals(grantType)) {
      return refresh(form, mallId, clientId);
    }
    return oauthError(400, "unsupported_grant_type", "Invalid grant_type");
  }

  private MockResponse exchange(Map<String, String> form, String mallId, String clientId) {
    String value = form.get("code");
    if (value == null) {
      return oauthError(400, "invalid_request", "code is required");
    }
    // The first presentation spends the code, whatever happens next.
    Code code = platform.codes.remove(value);
    if (code == null || !code.mallId.equals(mallId) || !code.clientId.equals(clientId)) {
      return oauthError(400, "invalid_grant", "Invalid authorization_code");
    }
    Instant now = clock.instant();
    if (now.isAfter(code.issuedAt.plus(platform.codeLifetime))) {
      return oauthError(400, "invalid_grant", "Expired authorization_code");
    }
    if (!code.redirectUri.equals(form.get("redirect_uri"))) {
      return oauthError(400, "invalid_request", "Invalid redirect_uri");
    }
    counters.codeExchanges.incrementAndGet();
    Grant grant = new Grant(mallId, clientId, code.scopes);
    platform.issue(grant, now);
    return tokenAnswer(grant);
  }

  private MockResponse refresh(Map<String, String> form, String mallId, String clientId) {
    String value = form.get("refresh_token");
    if (value == null) {
      return oauthError(400, "invalid_request", "refresh_token is required");
    }
    Instant now = clock.instant();
    Grant grant = platform.refreshTokens.get(value);
    if (grant == null
        || !grant.mallId.equals(mallId)
        || !grant.clientId.equals(clientId)
        || !now.isBefore(grant.refreshExpiresAt)) {
      counters.invalidRefreshAnswers.incrementAndGet();
      return oauthError(invalidRefreshStatus, invalidRefreshError, "Invalid refresh_token");
    }
    // Rotation: the presented refresh token dies now, no grace.
    platform.refreshTokens.remove(value);
    if (!keepOldAccessToken) {
      platform.accessTokens.remove(grant.accessToken);
    }
    counters.refreshes.incrementAndGet();
    platform.issue(grant, now);
    return tokenAnswer(grant);
  }

  MockResponse revoke(RecordedRequest request, String mallId) {
    if (!isForm(request)) {
      return oauthError(
          400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    String clientId = authenticate(request);
    if (clientId == null) {
      return clientError(request);
    }
    String token = EmulatorServer.form(request).get("token");
    if (token == null) {
      return oauthError(400, "invalid_request", "token is required");
    }
    Access access = platform.accessTokens.get(token);
    Grant grant = access != null ? access.grant : platform.refreshTokens.get(token);
    if (grant != null && grant.mallId.equals(mallId) && grant.clientId.equals(clientId)) {
      platform.accessTokens.values().removeIf(a -> a.grant == grant);
      platform.refreshTokens.values().removeIf(g -> g == grant);
      counters.revocations.incrementAndGet();
    }
    return new MockResponse().setResponseCode(200);
  }

  /** The documented answer of both grants. Caller holds the lock. */
  private MockResponse tokenAnswer(Grant grant) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", grant.accessToken);
    body.put("expires_at", timestamps.stamp(grant.accessExpiresAt));
    body.put("refresh_token", grant.refreshToken);
    body.put("refresh_token_expires_at", timestamps.stamp(grant.refreshExpiresAt));
    body.put("client_id", grant.clientId);
    body.put("mall_id", grant.mallId);
    body.put("user_id", "admin");
    body.put("scopes", grant.scopes);
    body.put("issued_at", timestamps.stamp(grant.issuedAt));
    body.put("shop_no", "1");
    body.put("token_type", "Bearer");
    return Cafe24Emulator.jsonAnswer(200, body);
  }

  /** The client id of a request with a correct Basic header, or null. Caller holds the lock. */
  private @Nullable String authenticate(RecordedRequest request) {
    String[] credentials = basicCredentials(request);
    if (credentials == null) {
      return null;
    }
    App app = platform.apps.get(credentials[0]);
    return app != null && app.secret.equals(credentials[1]) ? credentials[0] : null;
  }

  private MockResponse clientError(RecordedRequest request) {
    String[] credentials = basicCredentials(request);
    if (credentials == null) {
      return oauthError(401, "invalid_client", "Invalid client_id or client_secret");
    }
    if (!platform.apps.containsKey(credentials[0])) {
      return oauthError(401, "invalid_client", "Invalid client_id");
    }
    return oauthError(401, "invalid_client", "Invalid client_secret");
  }

  private static String @Nullable [] basicCredentials(RecordedRequest request) {
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    return colon < 0
        ? null
        : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
  }

  private static boolean isForm(RecordedRequest request) {
    String type = request.getHeader("Content-Type");
    return type != null && type.toLowerCase(Locale.ROOT).startsWith(FORM);
  }
}
