package dev.tokenbroker.testkit.kakao;

import static dev.tokenbroker.testkit.kakao.KakaoAnswers.errorPage;
import static dev.tokenbroker.testkit.kakao.KakaoAnswers.kauth;
import static dev.tokenbroker.testkit.kakao.KakaoAnswers.redirectError;
import static dev.tokenbroker.testkit.kakao.KakaoState.B64URL;

import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoState.App;
import dev.tokenbroker.testkit.kakao.KakaoState.Code;
import dev.tokenbroker.testkit.kakao.KakaoState.Grant;
import dev.tokenbroker.testkit.kakao.KakaoState.Issued;
import dev.tokenbroker.testkit.kakao.KakaoState.Link;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/**
 * The {@link KakaoEmulator}'s authorization server (kauth): authorize auto-approves as the current
 * user, records the consents (minus declined items) and redirects with a single-use code, or
 * denies, or shows an error page for an unknown client or redirect URI; the token endpoint checks
 * the client (and its secret), then exchanges a code (expiry, {@code redirect_uri}, PKCE S256) or
 * refreshes, rotating the refresh token only inside the rotation window, optionally with an {@code
 * id_token}. The consent-screen switches live here. Takes the emulator's lock for the state.
 */
final class KakaoAuth {
  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9._~-]{43,128}");
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}");

  private final Object lock;
  private final Clock clock;
  private final KakaoState platform;
  private final KakaoCounters counters;

  // Guarded by lock.
  boolean deny;
  Set<String> declined = Set.of();
  List<String> defaultScopes = List.of("profile_nickname");
  boolean idToken;

  KakaoAuth(Object lock, Clock clock, KakaoState platform, KakaoCounters counters) {
    this.lock = lock;
    this.clock = clock;
    this.platform = platform;
    this.counters = counters;
  }

  MockResponse authorize(RecordedRequest request) {
    if (!"GET".equals(request.getMethod())) {
      return errorPage(405, "KOE002", "authorize takes GET");
    }
    Map<String, String> q = EmulatorServer.query(request);
    synchronized (lock) {
      App app = platform.apps.get(q.get("client_id"));
      if (app == null) {
        return errorPage(400, "KOE101", "invalid client_id");
      }
      String redirect = q.get("redirect_uri");
      if (redirect == null || !app.redirectUris.contains(redirect)) {
        return errorPage(400, "KOE006", "redirect_uri is not registered for this app");
      }
      if (!"code".equals(q.get("response_type"))) {
        return errorPage(400, "KOE001", "response_type must be code");
      }
      String state = q.get("state");
      String challenge = q.get("code_challenge");
      if (challenge != null) {
        if (!"S256".equals(q.get("code_challenge_method"))) {
          return redirectError(redirect, state, "invalid_request", "code_challenge_method S256");
        }
        if (!CHALLENGE.matcher(challenge).matches()) {
          return redirectError(redirect, state, "invalid_request", "malformed code_challenge");
        }
      }
      if (deny) {
        return redirectError(redirect, state, "access_denied", "User denied access");
      }
      List<String> requested = defaultScopes;
      String scope = q.get("scope");
      if (scope != null) {
        requested = new ArrayList<>();
        // Kakao joins scopes with commas in the authorize URL.
        for (String s : scope.split(",")) {
          if (!s.isBlank()) {
            requested.add(s.trim());
          }
        }
      }
      Link link = platform.link(app, platform.currentUser);
      for (String s : requested) {
        if (!declined.contains(s)) {
          link.scopes.add(s);
        }
      }
      String code = platform.randomToken(64);
      platform.codes.put(
          code,
          new Code(
              app,
              platform.currentUser,
              redirect,
              challenge,
              clock.instant().plus(platform.codeLifetime)));
      HttpUrl.Builder to =
          Objects.requireNonNull(HttpUrl.parse(redirect))
              .newBuilder()
              .addQueryParameter("code", code);
      if (state != null) {
        to.addQueryParameter("state", state);
      }
      return new MockResponse().setResponseCode(302).setHeader("Location", to.build().toString());
    }
  }

  MockResponse token(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return kauth(405, "invalid_request", "token requests are POST", "KOE002");
    }
    String type = request.getHeader("Content-Type");
    if (type == null
        || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return kauth(400, "invalid_request", "Content-Type must be a form", "KOE001");
    }
    Map<String, String> f = EmulatorServer.form(request);
    for (String name : f.keySet()) {
      if (EmulatorServer.formFieldCount(request, name) > 1) {
        return kauth(400, "invalid_request", "duplicate parameter " + name, "KOE001");
      }
    }
    synchronized (lock) {
      String clientId = f.get("client_id");
      App app = clientId == null ? null : platform.apps.get(clientId);
      if (app == null) {
        return kauth(
            401,
            "invalid_client",
            "Not exist client_id [" + (clientId == null ? "" : clientId) + "]",
            "KOE101");
      }
      if (app.clientSecret != null && !app.clientSecret.equals(f.get("client_secret"))) {
        return kauth(401, "invalid_client", "Bad client credentials", "KOE010");
      }
      String grant = f.get("grant_type");
      if ("authorization_code".equals(grant)) {
        return exchange(app, f);
      }
      if ("refresh_token".equals(grant)) {
        return refresh(app, f);
      }
      return kauth(400, "unsupported_grant_type", "unsupported grant_type", null);
    }
  }

  // Called under lock.
  private MockResponse exchange(App app, Map<String, String> f) {
    String value = f.get("code");
    Code code = value == null ? null : platform.codes.get(value);
    Instant now = clock.instant();
    if (code == null || code.app != app) {
      return kauth(
          400, "invalid_grant", "authorization code not found for code=" + value, "KOE320");
    }
    platform.codes.remove(value); // single-use: spent by its first presentation, whatever follows
    if (!now.isBefore(code.expiresAt)) {
      return kauth(
          400, "invalid_grant", "authorization code not found for code=" + value, "KOE320");
    }
    if (!code.redirectUri.equals(f.get("redirect_uri"))) {
      return kauth(400, "invalid_grant", "Redirect URI mismatch.", "KOE303");
    }
    if (code.challenge != null) {
      String verifier = f.get("code_verifier");
      if (verifier == null
          || !VERIFIER.matcher(verifier).matches()
          || !code.challenge.equals(OAuth2Emulator.s256(verifier))) {
        // Kakao's KOE code for a PKCE mismatch is undocumented [open]: answer without one.
        return kauth(400, "invalid_grant", "PKCE verification failed", null);
      }
    }
    Link link = platform.link(app, code.userId);
    Issued issued = platform.issue(app, code.userId, true);
    counters.codeExchanges.incrementAndGet();
    return KakaoEmulator.jsonAnswer(
        200,
        KakaoEmulator.jsonObject(
            "token_type",
            "bearer",
            "access_token",
            issued.access,
            "expires_in",
            platform.accessLifetime.getSeconds(),
            "refresh_token",
            issued.refresh,
            "refresh_token_expires_in",
            platform.refreshLifetime.getSeconds(),
            "scope",
            link.scopes.isEmpty() ? null : String.join(" ", link.scopes),
            "id_token",
            idToken ? idToken(app, code.userId) : null));
  }

  // Called under lock.
  private MockResponse refresh(App app, Map<String, String> f) {
    String value = f.get("refresh_token");
    Grant grant = value == null ? null : platform.refreshTokens.get(value);
    Instant now = clock.instant();
    if (grant != null && !now.isBefore(grant.expiresAt)) {
      platform.refreshTokens.remove(value);
      grant = null;
    }
    if (grant == null || grant.app != app) {
      return kauth(400, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322");
    }
    boolean rotate = Duration.between(now, grant.expiresAt).compareTo(platform.rotationWindow) < 0;
    if (rotate) {
      platform.refreshTokens.remove(value);
      counters.rotations.incrementAndGet();
    }
    Issued issued = platform.issue(app, grant.userId, rotate);
    counters.refreshes.incrementAndGet();
    return KakaoEmulator.jsonAnswer(
        200,
        KakaoEmulator.jsonObject(
            "token_type",
            "bearer",
            "access_token",
            issued.access,
            "expires_in",
            platform.accessLifetime.getSeconds(),
            "refresh_token",
            issued.refresh,
            "refresh_token_expires_in",
            rotate ? platform.refreshLifetime.getSeconds() : null,
            "id_token",
            idToken ? idToken(app, grant.userId) : null));
  }

  private String idToken(App app, long userId) {
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", "https://kauth.kakao.com");
    claims.put("aud", app.restApiKey);
    claims.put("sub", Long.toString(userId));
    claims.put("iat", now);
    claims.put("exp", now + platform.accessLifetime.getSeconds());
    return B64URL.encodeToString(
            "{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
        + '.'
        + B64URL.encodeToString(KakaoEmulator.write(claims).getBytes(StandardCharsets.UTF_8))
        + '.'
        + platform.randomToken(64);
  }
}
