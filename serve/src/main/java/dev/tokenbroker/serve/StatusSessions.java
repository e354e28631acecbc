package dev.tokenbroker.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * The status page's signed-in browsers: sessions kept server-side by the SHA-256 hash of their
 * random id, ending {@link #IDLE} after their last use or {@link #LIFETIME} after sign-in, at most
 * {@link #MAX_SESSIONS} of them; the session cookie; the CSRF token comparison; and the limit of
 * {@link #ATTEMPTS_PER_WINDOW} sign-in attempts per {@link #WINDOW} and remote address.
 */
final class StatusSessions {
  static final String COOKIE = "tokenbroker_session";
  static final Duration IDLE = Duration.ofMinutes(30);
  static final Duration LIFETIME = Duration.ofHours(8);
  static final int ATTEMPTS_PER_WINDOW = 10;
  static final Duration WINDOW = Duration.ofMinutes(1);
  static final int MAX_SESSIONS = 1000;

  /** A signed-in browser: which client, its CSRF token, and when it ends. */
  static final class Session {
    final AccessControl.Caller caller;
    final String csrf;
    final Instant signedIn;
    Instant lastUsed;

    Session(AccessControl.Caller caller, String csrf, Instant now) {
      this.caller = caller;
      this.csrf = csrf;
      this.signedIn = now;
      this.lastUsed = now;
    }
  }

  private static final class Attempts {
    Instant windowStart;
    int count;

    Attempts(Instant windowStart) {
      this.windowStart = windowStart;
    }
  }

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  // Keyed by the hex SHA-256 of the session id: the id itself is never kept.
  private final Map<String, Session> sessions = new HashMap<>();
  private final Map<String, Attempts> attempts = new HashMap<>();

  StatusSessions(Clock clock) {
    this.clock = clock;
  }

  /**
   * A new session for {@code caller}, kept by its id's hash; the least recently used one is dropped
   * when {@link #MAX_SESSIONS} are open. Returns the new session id, for the cookie.
   */
  String start(AccessControl.Caller caller) {
    String id = randomToken();
    Instant now = clock.instant();
    synchronized (sessions) {
      prune(now);
      if (sessions.size() >= MAX_SESSIONS) {
        // Drop the least recently used: a flood of sign-ins cannot grow the map without bound.
        String oldest = null;
        Instant oldestUse = null;
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
          if (oldestUse == null || e.getValue().lastUsed.isBefore(oldestUse)) {
            oldest = e.getKey();
            oldestUse = e.getValue().lastUsed;
          }
        }
        sessions.remove(oldest);
      }
      sessions.put(hash(id), new Session(caller, randomToken(), now));
    }
    return id;
  }

  /** The session {@code request}'s cookie names, if it has not ended; marks it used now. */
  @Nullable Session find(Request request) {
    String id = cookieValue(request);
    if (id == null) {
      return null;
    }
    String key = hash(id);
    Instant now = clock.instant();
    synchronized (sessions) {
      Session s = sessions.get(key);
      if (s == null) {
        return null;
      }
      if (expired(s, now)) {
        sessions.remove(key);
        return null;
      }
      s.lastUsed = now;
      return s;
    }
  }

  private static boolean expired(Session s, Instant now) {
    return !now.isBefore(s.lastUsed.plus(IDLE)) || !now.isBefore(s.signedIn.plus(LIFETIME));
  }

  private void prune(Instant now) {
    for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
      if (expired(it.next(), now)) {
        it.remove();
      }
    }
  }

  /** Ends the session {@code request}'s cookie names, if any. */
  void end(Request request) {
    String id = cookieValue(request);
    if (id != null) {
      synchronized (sessions) {
        sessions.remove(hash(id));
      }
    }
  }

  int count() {
    synchronized (sessions) {
      return sessions.size();
    }
  }

  private static @Nullable String cookieValue(Request request) {
    for (String header : request.getHeaders().getValuesList(HttpHeader.COOKIE)) {
      for (String part : header.split(";")) {
        String p = part.strip();
        if (p.startsWith(COOKIE + "=")) {
          String v = p.substring(COOKIE.length() + 1);
          return v.isEmpty() || v.length() > 100 ? null : v;
        }
      }
    }
    return null;
  }

  static String cookie(Request request, String value, Duration maxAge, boolean clear) {
    return COOKIE
        + "="
        + value
        + "; Path=/status; Max-Age="
        + (clear ? 0 : maxAge.toSeconds())
        + "; HttpOnly; SameSite=Strict"
        + (request.isSecure() ? "; Secure" : "");
  }

  static boolean csrfMatches(Session session, @Nullable String presented) {
    return presented != null
        && MessageDigest.isEqual(
            session.csrf.getBytes(StandardCharsets.US_ASCII),
            presented.getBytes(StandardCharsets.UTF_8));
  }

  private String randomToken() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String hash(String value) {
    byte[] h = AccessControl.sha256(value.getBytes(StandardCharsets.UTF_8));
    StringBuilder b = new StringBuilder();
    for (byte x : h) {
      b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return b.toString();
  }

  /** Counts an attempt; the seconds to wait when over the limit, else 0. */
  long attempt(String address) {
    Instant now = clock.instant();
    synchronized (attempts) {
      if (attempts.size() > 10_000) {
        attempts.values().removeIf(a -> !now.isBefore(a.windowStart.plus(WINDOW)));
      }
      Attempts a = attempts.computeIfAbsent(address, k -> new Attempts(now));
      if (!now.isBefore(a.windowStart.plus(WINDOW))) {
        a.windowStart = now;
        a.count = 0;
      }
      if (a.count >= ATTEMPTS_PER_WINDOW) {
        return Math.max(1, Duration.between(now, a.windowStart.plus(WINDOW)).toSeconds());
      }
      a.count++;
      return 0;
    }
  }
}
