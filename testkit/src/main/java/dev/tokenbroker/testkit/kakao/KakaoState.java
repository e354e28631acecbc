package dev.tokenbroker.testkit.kakao;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@link KakaoEmulator}'s platform state: registered apps, the links between apps and users
 * (with the user's consents), unspent codes, live access and refresh tokens, the current user, the
 * lifetimes new tokens get, and the minting and ending of tokens. Not thread-safe by itself: every
 * access holds the emulator's lock.
 */
final class KakaoState {
  static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  final Map<String, App> apps = new HashMap<>();
  final Map<String, Link> links = new HashMap<>();
  final Map<String, Code> codes = new HashMap<>();
  final Map<String, Grant> accessTokens = new HashMap<>();
  final Map<String, Grant> refreshTokens = new HashMap<>();
  long currentUser = KakaoEmulator.DEFAULT_USER_ID;
  Duration accessLifetime = Duration.ofSeconds(KakaoEmulator.DEFAULT_ACCESS_TOKEN_SECONDS);
  Duration refreshLifetime = Duration.ofSeconds(KakaoEmulator.DEFAULT_REFRESH_TOKEN_SECONDS);
  Duration rotationWindow = Duration.ofDays(30);
  Duration codeLifetime = Duration.ofMinutes(10);

  KakaoState(Clock clock) {
    this.clock = clock;
  }

  // Called under lock.
  Issued issue(App app, long userId, boolean withRefresh) {
    Instant now = clock.instant();
    String access = randomToken(40);
    accessTokens.put(access, new Grant(app, userId, now.plus(accessLifetime)));
    String refresh = null;
    if (withRefresh) {
      refresh = randomToken(40);
      refreshTokens.put(refresh, new Grant(app, userId, now.plus(refreshLifetime)));
    }
    return new Issued(access, refresh);
  }

  // Called under lock: logout and unlink end every token of the user for the app.
  void expireTokens(App app, long userId) {
    for (Map<String, Grant> tokens : List.of(accessTokens, refreshTokens)) {
      for (Iterator<Grant> it = tokens.values().iterator(); it.hasNext(); ) {
        Grant g = it.next();
        if (g.app == app && g.userId == userId) {
          it.remove();
        }
      }
    }
  }

  // Called under lock.
  Link link(App app, long userId) {
    return links.computeIfAbsent(linkKey(app, userId), k -> new Link());
  }

  App app(String restApiKey) {
    App app = apps.get(restApiKey);
    if (app == null) {
      throw new IllegalArgumentException("no app registered with that REST API key");
    }
    return app;
  }

  static String linkKey(App app, long userId) {
    return app.restApiKey + '/' + userId;
  }

  String randomToken(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return B64URL.encodeToString(b);
  }

  static final class App {
    final String restApiKey;
    final long appId;
    final Set<String> redirectUris;
    @Nullable String clientSecret;
    @Nullable String adminKey;

    App(String restApiKey, long appId, Set<String> redirectUris) {
      this.restApiKey = restApiKey;
      this.appId = appId;
      this.redirectUris = redirectUris;
    }
  }

  /** The link between an app and a user, holding the user's consents. */
  static final class Link {
    final Set<String> scopes = new LinkedHashSet<>();
  }

  static final class Code {
    final App app;
    final long userId;
    final String redirectUri;
    final @Nullable String challenge;
    final Instant expiresAt;

    Code(App app, long userId, String redirectUri, @Nullable String challenge, Instant expiresAt) {
      this.app = app;
      this.userId = userId;
      this.redirectUri = redirectUri;
      this.challenge = challenge;
      this.expiresAt = expiresAt;
    }
  }

  static final class Grant {
    final App app;
    final long userId;
    final Instant expiresAt;

    Grant(App app, long userId, Instant expiresAt) {
      this.app = app;
      this.userId = userId;
      this.expiresAt = expiresAt;
    }
  }

  static final class Issued {
    final String access;
    final @Nullable String refresh;

    Issued(String access, @Nullable String refresh) {
      this.access = access;
      this.refresh = refresh;
    }
  }
}
