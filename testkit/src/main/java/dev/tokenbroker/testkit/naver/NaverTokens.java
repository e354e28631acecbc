package dev.tokenbroker.testkit.naver;

import static dev.tokenbroker.testkit.naver.NaverEmulator.SAME_TOKEN_WINDOW;
import static dev.tokenbroker.testkit.naver.NaverEmulator.TOKEN_LIFETIME;

import dev.tokenbroker.testkit.naver.NaverEmulator.SameTokenExpiresIn;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The {@link NaverEmulator}'s tokens: one current token per {@code (client_id, type, account_id)},
 * handed out again while {@link NaverEmulator#SAME_TOKEN_WINDOW} or more remains and replaced below
 * that, the replaced one working on until it expires; plus the lookups by token. Counts the tokens
 * issued. Thread-safe: one lock guards both maps.
 */
final class NaverTokens {
  private final Object lock = new Object();
  private final Map<Resource, Issued> current = new HashMap<>(); // guarded by lock
  private final Map<String, Issued> byToken = new HashMap<>(); // guarded by lock
  private final SecureRandom random = new SecureRandom();
  private final AtomicInteger issuedTokens;

  volatile SameTokenExpiresIn sameTokenExpiresIn = SameTokenExpiresIn.FULL_LIFETIME;

  /**
   * @param issuedTokens counts the tokens issued
   */
  NaverTokens(AtomicInteger issuedTokens) {
    this.issuedTokens = issuedTokens;
  }

  /** A token handed out, and the {@code expires_in} its answer states. */
  record Handed(String token, long expiresIn) {}

  /** The token for {@code resource} at {@code now}: the held one, or a fresh one. */
  Handed hand(Resource resource, Instant now) {
    String token;
    long expiresIn;
    synchronized (lock) {
      Issued held = current.get(resource);
      long left = held == null ? 0 : held.expiresAt.toEpochMilli() - now.toEpochMilli();
      if (held != null && left >= SAME_TOKEN_WINDOW.toMillis()) {
        token = held.token;
        expiresIn =
            sameTokenExpiresIn == SameTokenExpiresIn.FULL_LIFETIME
                ? TOKEN_LIFETIME.getSeconds()
                : left / 1000;
      } else {
        // The old token, if any, stays in byToken and keeps working until it expires.
        Issued fresh = new Issued(newToken(), resource, now.plus(TOKEN_LIFETIME));
        current.put(resource, fresh);
        byToken.put(fresh.token, fresh);
        issuedTokens.incrementAndGet();
        token = fresh.token;
        expiresIn = TOKEN_LIFETIME.getSeconds();
      }
    }
    return new Handed(token, expiresIn);
  }

  /** The token's record if it is live at {@code now}, else null. */
  @Nullable Issued live(String token, Instant now) {
    synchronized (lock) {
      Issued i = byToken.get(token);
      return i != null && now.isBefore(i.expiresAt) ? i : null;
    }
  }

  /** The token {@code resource} holds now (possibly expired), or null. */
  @Nullable String current(Resource resource) {
    synchronized (lock) {
      Issued i = current.get(resource);
      return i == null ? null : i.token;
    }
  }

  /** When {@code token} expires, or null if it was never issued. */
  @Nullable Instant expiresAt(String token) {
    synchronized (lock) {
      Issued i = byToken.get(token);
      return i == null ? null : i.expiresAt;
    }
  }

  void invalidateAll() {
    synchronized (lock) {
      current.clear();
      byToken.clear();
    }
  }

  private String newToken() {
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** {@code (client_id, type, account_id)}: one token each. */
  static final class Resource {
    final String clientId;
    final String type;
    final @Nullable String accountId;

    Resource(String clientId, String type, @Nullable String accountId) {
      this.clientId = clientId;
      this.type = type;
      this.accountId = accountId;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Resource)) {
        return false;
      }
      Resource r = (Resource) o;
      return clientId.equals(r.clientId)
          && type.equals(r.type)
          && Objects.equals(accountId, r.accountId);
    }

    @Override
    public int hashCode() {
      return Objects.hash(clientId, type, accountId);
    }
  }

  static final class Issued {
    final String token;
    final Resource resource;
    final Instant expiresAt;

    Issued(String token, Resource resource, Instant expiresAt) {
      this.token = token;
      this.resource = resource;
      this.expiresAt = expiresAt;
    }
  }
}
