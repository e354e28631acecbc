package dev.tokenbroker.testkit.cafe24;

import dev.tokenbroker.testkit.cafe24.Cafe24Emulator.Issued;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link Cafe24Emulator}'s platform state: registered apps, malls (and whether the app is
 * installed on each), unspent authorization codes, and the grants with their current access and
 * refresh tokens, plus the lifetimes new tokens get and the minting of tokens for a grant. Not
 * thread-safe by itself: every access holds the emulator's lock.
 */
final class Cafe24State {
  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final SecureRandom random = new SecureRandom();
  final Map<String, App> apps = new LinkedHashMap<>();
  final Map<String, Mall> malls = new HashMap<>();
  final Map<String, Code> codes = new HashMap<>();
  final Map<String, Access> accessTokens = new HashMap<>();
  final Map<String, Grant> refreshTokens = new HashMap<>();
  Duration accessLifetime = Cafe24Emulator.DEFAULT_ACCESS_TOKEN_LIFETIME;
  Duration refreshLifetime = Cafe24Emulator.DEFAULT_REFRESH_TOKEN_LIFETIME;
  Duration codeLifetime = Cafe24Emulator.DEFAULT_CODE_LIFETIME;

  /** Issues a fresh access and refresh token for {@code grant}. Caller holds the lock. */
  Issued issue(Grant grant, Instant now) {
    grant.accessToken = randomToken(22);
    grant.refreshToken = randomToken(22);
    grant.issuedAt = now;
    grant.accessExpiresAt = now.plus(accessLifetime);
    grant.refreshExpiresAt = now.plus(refreshLifetime);
    accessTokens.put(grant.accessToken, new Access(grant, grant.accessExpiresAt));
    refreshTokens.put(grant.refreshToken, grant);
    return new Issued(
        grant.mallId,
        grant.accessToken,
        grant.refreshToken,
        now,
        grant.accessExpiresAt,
        grant.refreshExpiresAt,
        grant.scopes);
  }

  Mall mall(String mallId) {
    Mall mall = malls.get(mallId);
    if (mall == null) {
      throw new IllegalArgumentException("no such mall; call addMall first");
    }
    return mall;
  }

  String randomToken(int length) {
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(out);
  }

  static final class App {
    final String secret;
    final String redirectUri;

    App(String secret, String redirectUri) {
      this.secret = secret;
      this.redirectUri = redirectUri;
    }
  }

  static final class Mall {
    boolean uninstalled;
  }

  static final class Code {
    final String mallId;
    final String clientId;
    final String redirectUri;
    final List<String> scopes;
    final Instant issuedAt;

    Code(
        String mallId, String clientId, String redirectUri, List<String> scopes, Instant issuedAt) {
      this.mallId = mallId;
      this.clientId = clientId;
      this.redirectUri = redirectUri;
      this.scopes = scopes;
      this.issuedAt = issuedAt;
    }
  }

  /** One operator approval: its current tokens change with every rotation. */
  static final class Grant {
    final String mallId;
    final String clientId;
    final List<String> scopes;
    String accessToken = "";
    String refreshToken = "";
    Instant issuedAt = Instant.EPOCH;
    Instant accessExpiresAt = Instant.EPOCH;
    Instant refreshExpiresAt = Instant.EPOCH;

    Grant(String mallId, String clientId, List<String> scopes) {
      this.mallId = mallId;
      this.clientId = clientId;
      this.scopes = scopes;
    }
  }

  static final class Access {
    final Grant grant;
    final Instant expiresAt;

    Access(Grant grant, Instant expiresAt) {
      this.grant = grant;
      this.expiresAt = expiresAt;
    }
  }
}
