package dev.tokenbroker.testkit;

import dev.tokenbroker.TokenSet;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The {@link OAuth2Emulator}'s token and grant bookkeeping: the live access tokens, refresh tokens
 * and authorization codes, the lifetimes and default scope new ones get, and the minting itself.
 * Every token of one authorization shares a {@link Grant}, so revoking the grant (a reused code, a
 * revoked refresh token) ends them all at once. Expired entries are swept now and then, so long
 * benchmarks do not grow without bound. Thread-safe: the maps are concurrent and the settings
 * volatile.
 */
final class OAuth2Tokens {
  private static final int SWEEP_EVERY = 4096;

  private final SecureRandom random = new SecureRandom();
  final Map<String, AccessToken> accessTokens = new ConcurrentHashMap<>();
  final Map<String, RefreshToken> refreshTokens = new ConcurrentHashMap<>();
  final Map<String, Code> codes = new ConcurrentHashMap<>();
  private final AtomicLong issueCount = new AtomicLong();

  volatile Duration accessLifetime = Duration.ofHours(1);
  volatile Duration refreshLifetime = Duration.ofDays(14);
  volatile String defaultScope = "api";

  /** Issues an access token (and a refresh token when {@code withRefresh}) for {@code grant}. */
  Issued issue(Grant grant, boolean withRefresh, long now) {
    maybeSweep(now);
    Duration access = accessLifetime;
    Duration refresh = refreshLifetime;
    String accessToken = randomToken("at_", 32);
    accessTokens.put(accessToken, new AccessToken(grant, now + access.toMillis()));
    String refreshToken = null;
    if (withRefresh) {
      refreshToken = randomToken("rt_", 32);
      refreshTokens.put(refreshToken, new RefreshToken(grant, now + refresh.toMillis()));
    }
    return new Issued(accessToken, refreshToken, grant.scope, now, access, refresh);
  }

  private void maybeSweep(long now) {
    if (issueCount.incrementAndGet() % SWEEP_EVERY != 0) {
      return;
    }
    // Long benchmarks issue many tokens; forget the dead ones. Removal during iteration is safe
    // on ConcurrentHashMap, and a concurrent issue is never touched (it is not expired).
    accessTokens.values().removeIf(t -> !t.isValid(now));
    refreshTokens.values().removeIf(t -> !t.isValid(now));
    long keepCodesUntil = now - Duration.ofMinutes(10).toMillis();
    codes.values().removeIf(c -> c.expiresAtMillis < keepCodesUntil);
  }

  String randomToken(String prefix, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** One authorization (or client-credentials grant): what its tokens share. */
  static final class Grant {
    final String clientId;
    final String scope;
    volatile boolean revoked;

    Grant(String clientId, String scope) {
      this.clientId = clientId;
      this.scope = scope;
    }
  }

  static final class AccessToken {
    final Grant grant;
    final long expiresAtMillis;

    AccessToken(Grant grant, long expiresAtMillis) {
      this.grant = grant;
      this.expiresAtMillis = expiresAtMillis;
    }

    boolean isValid(long now) {
      return now < expiresAtMillis && !grant.revoked;
    }
  }

  static final class RefreshToken {
    final Grant grant;
    final long expiresAtMillis;

    RefreshToken(Grant grant, long expiresAtMillis) {
      this.grant = grant;
      this.expiresAtMillis = expiresAtMillis;
    }

    boolean isValid(long now) {
      return now < expiresAtMillis && !grant.revoked;
    }
  }

  static final class Code {
    final String clientId;
    final String redirectUri;
    final @Nullable String challenge;
    final String scope;
    final long expiresAtMillis;
    final AtomicBoolean used = new AtomicBoolean();
    volatile @Nullable Grant grant;

    Code(
        String clientId,
        String redirectUri,
        @Nullable String challenge,
        String scope,
        long expiresAtMillis) {
      this.clientId = clientId;
      this.redirectUri = redirectUri;
      this.challenge = challenge;
      this.scope = scope;
      this.expiresAtMillis = expiresAtMillis;
    }
  }

  static final class Issued {
    final String accessToken;
    final @Nullable String refreshToken;
    final String scope;
    final long issuedAtMillis;
    final Duration accessLifetime;
    final Duration refreshLifetime;

    Issued(
        String accessToken,
        @Nullable String refreshToken,
        String scope,
        long issuedAtMillis,
        Duration accessLifetime,
        Duration refreshLifetime) {
      this.accessToken = accessToken;
      this.refreshToken = refreshToken;
      this.scope = scope;
      this.issuedAtMillis = issuedAtMillis;
      this.accessLifetime = accessLifetime;
      this.refreshLifetime = refreshLifetime;
    }

    TokenSet toTokenSet() {
      Instant at = Instant.ofEpochMilli(issuedAtMillis);
      return TokenSet.builder()
          .accessToken(accessToken)
          .tokenType("Bearer")
          .issuedAt(at)
          .expiresAt(at.plus(accessLifetime))
          .refreshToken(refreshToken)
          .refreshExpiresAt(refreshToken == null ? null : at.plus(refreshLifetime))
          .scopes(List.of(scope.split(" ")))
          .build();
    }
  }
}
