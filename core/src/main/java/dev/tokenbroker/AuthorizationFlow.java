package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The human step: {@code state} and the PKCE verifier for the URL a person opens, then the
 * redirect's checks and the code exchange. The code is exchanged at once (Cafe24's dies in about a
 * minute, less than a lease wait); only the save waits for nothing: it seizes the lease, so a
 * renewal of the old chain still in flight anywhere can no longer write (its fenced save is
 * rejected), and the new authorization wins.
 */
final class AuthorizationFlow {
  private static final Duration PENDING_TTL = Duration.ofMinutes(15);

  private final Clock clock;
  private final TokenStore store;
  private final StoreView view;
  private final DurableSaver saver;
  private final HealthBook health;
  private final String owner;
  private final Duration leaseTtl;
  private final SecureRandom random = new SecureRandom();

  AuthorizationFlow(
      Clock clock,
      TokenStore store,
      StoreView view,
      DurableSaver saver,
      HealthBook health,
      String owner,
      Duration leaseTtl) {
    this.clock = clock;
    this.store = store;
    this.view = view;
    this.saver = saver;
    this.health = health;
    this.owner = owner;
    this.leaseTtl = leaseTtl;
  }

  AuthorizationRequest start(Connection conn) {
    if (conn.provider.grantType() != GrantType.AUTHORIZATION_CODE) {
      throw new AuthorizationException(
          conn.id,
          conn.provider.name() + " uses client credentials: no authorization needed",
          null,
          null);
    }
    String state = randomToken(random, 32);
    String verifier = conn.provider.usesPkce() ? randomToken(random, 48) : null;
    String challenge = verifier == null ? null : s256(verifier);
    AuthorizationRequest request =
        new AuthorizationRequest(
            conn.id,
            conn.provider.authorizationUrl(state, challenge),
            state,
            verifier,
            clock.instant());
    synchronized (conn) {
      conn.pending = request;
    }
    return request;
  }

  TokenSet complete(Connection conn, String redirectedUrl) {
    ConnectionId id = conn.id;
    Objects.requireNonNull(redirectedUrl, "redirectedUrl");
    HttpUrl url = parseRedirect(redirectedUrl.trim());
    if (url == null) {
      throw new AuthorizationException(id, "not a redirect URL or query string", null, null);
    }
    String error = url.queryParameter("error");
    if (error != null) {
      String description = url.queryParameter("error_description");
      throw new AuthorizationException(
          id,
          "authorization was not granted: "
              + error
              + (description == null
                  ? ""
                  : " (" + Secrets.scrub(description, List.of(), 200) + ")"),
          error,
          null);
    }
    AuthorizationRequest pending;
    synchronized (conn) {
      pending = conn.pending;
    }
    if (pending == null) {
      throw new AuthorizationException(
          id,
          "no authorization was started for this connection here (run startAuthorization first)",
          null,
          null);
    }
    String state = url.queryParameter("state");
    if (state == null
        || !MessageDigest.isEqual(
            state.getBytes(StandardCharsets.UTF_8),
            pending.state().getBytes(StandardCharsets.UTF_8))) {
      throw new AuthorizationException(
          id,
          "state mismatch: this redirect does not belong to the authorization started here",
          null,
          null);
    }
    if (clock.instant().isAfter(pending.createdAt().plus(PENDING_TTL))) {
      throw new AuthorizationException(
          id, "the authorization started too long ago; start a new one", null, null);
    }
    String code = url.queryParameter("code");
    if (code == null || code.isEmpty()) {
      throw new AuthorizationException(id, "the redirect carries no code", null, null);
    }
    synchronized (conn) {
      if (conn.pending != pending) {
        throw new AuthorizationException(
            id, "this authorization was already completed or replaced", null, null);
      }
      conn.pending = null; // single use
    }
    TokenSet issued = conn.provider.exchangeCode(code, pending.codeVerifier());
    return save(conn, issued);
  }

  /** Saves a new chain over whatever the store holds, winning over renewals in flight. */
  private TokenSet save(Connection conn, TokenSet issued) {
    saver.drop(conn); // an unsaved set of the old chain is superseded
    Lease lease;
    try {
      lease = store.seizeLease(conn.id, owner, leaseTtl, conn.highestFence());
    } catch (RuntimeException e) {
      held(conn, issued, null, e);
      return issued;
    }
    conn.sawFence(lease.fencingToken());
    TokenSet saved;
    try {
      saved = store.authorize(conn.id, issued, lease);
    } catch (RuntimeException e) {
      held(conn, issued, lease, e);
      return issued;
    }
    view.release(lease);
    health.clearedInStore(conn);
    synchronized (conn) {
      conn.newest = null; // the new chain starts here, whatever version the old one reached
    }
    view.published(conn, saved, TokenEvent.Type.AUTHORIZED);
    return saved;
  }

  /**
   * The store would not take the new chain: the saver keeps it (with the lease, if one was seized)
   * and saves it. It is this instance's connection now: what was recorded about the old chain no
   * longer applies here.
   */
  private void held(Connection conn, TokenSet issued, @Nullable Lease lease, RuntimeException e) {
    saver.hold(conn, issued, 0, lease, true, e, issued.issuedAt(), null);
    health.clearedInStore(conn);
  }

  private static @Nullable HttpUrl parseRedirect(String text) {
    HttpUrl url = HttpUrl.parse(text);
    if (url != null) {
      return url;
    }
    String query = text.startsWith("?") ? text.substring(1) : text;
    return query.contains("=") ? HttpUrl.parse("http://localhost/?" + query) : null;
  }

  private static String s256(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String randomToken(SecureRandom random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
