package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The human step: {@code state} and the PKCE verifier for the URL a person opens, kept in the
 * shared store for 15 minutes so the redirect completes on any instance and only once, then the
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
    return start(conn, conn.id, null);
  }

  /**
   * Starts an authorization for {@code conn}; its state (and PKCE verifier) goes to the shared
   * store, so the redirect completes on whichever instance it lands, exactly once. For a subject
   * known only after the code exchange, {@code conn} is the app's connection and {@code app} names
   * it: the connection is named on completion.
   */
  AuthorizationRequest start(Connection conn, ConnectionId named, @Nullable String app) {
    if (conn.provider.grantType() != GrantType.AUTHORIZATION_CODE) {
      throw new AuthorizationException(
          named,
          conn.provider.name() + " uses client credentials: no authorization needed",
          null,
          null);
    }
    String state = randomToken(random, 32);
    String verifier = conn.provider.usesPkce() ? randomToken(random, 48) : null;
    String challenge = verifier == null ? null : s256(verifier);
    Instant now = clock.instant();
    AuthorizationRequest request =
        new AuthorizationRequest(
            named, conn.provider.authorizationUrl(state, challenge), state, verifier, now);
    PendingState record = new PendingState(app == null ? named : null, app, verifier, now);
    if (!store.putOnce(stateKey(state), record.encode(), now.plus(PENDING_TTL))) {
      // 256 random bits: a collision means a broken random source, not bad luck
      throw new IllegalStateException("authorization state collision");
    }
    return request;
  }

  /** What {@link #complete} found and did. */
  static final class Completed {
    final Connection conn;
    final TokenSet tokens;

    Completed(Connection conn, TokenSet tokens) {
      this.conn = conn;
      this.tokens = tokens;
    }
  }

  /** Finds the connection (or app) a redirect's state belongs to. */
  interface Target {
    Connection connection(ConnectionId id);

    Connection app(String app);

    ConnectionId named(String app, String subject);
  }

  /**
   * Completes the authorization the redirect's {@code state} belongs to: takes the state from the
   * shared store (once, across every instance), exchanges the code at once and saves the new chain.
   * With {@code expected} non-null, a state started for another connection is refused.
   */
  Completed complete(@Nullable ConnectionId expected, String redirectedUrl, Target target) {
    Objects.requireNonNull(redirectedUrl, "redirectedUrl");
    HttpUrl url = parseRedirect(redirectedUrl.trim());
    if (url == null) {
      throw new AuthorizationException(expected, "not a redirect URL or query string", null, null);
    }
    String error = url.queryParameter("error");
    if (error != null) {
      String description = url.queryParameter("error_description");
      throw new AuthorizationException(
          expected,
          "authorization was not granted: "
              + error
              + (description == null
                  ? ""
                  : " (" + Secrets.scrub(description, List.of(), 200) + ")"),
          error,
          null);
    }
    String state = url.queryParameter("state");
    if (state == null || state.isEmpty() || state.length() > 200) {
      throw new AuthorizationException(expected, "the redirect carries no valid state", null, null);
    }
    byte[] taken = store.takeOnce(stateKey(state));
    PendingState pending = taken == null ? null : PendingState.decode(taken);
    if (pending == null) {
      throw new AuthorizationException(
          expected,
          "unknown state: this redirect belongs to no authorization in progress (expired after "
              + PENDING_TTL.toMinutes()
              + " minutes, already completed, or started elsewhere); start a new one",
          null,
          null);
    }
    if (expected != null && !expected.equals(pending.connection)) {
      throw new AuthorizationException(
          expected,
          "state mismatch: this redirect belongs to another authorization ("
              + (pending.connection != null ? pending.connection : "app " + pending.app)
              + "); it is spent now, start a new one",
          null,
          null);
    }
    if (clock.instant().isAfter(pending.createdAt.plus(PENDING_TTL))) {
      throw new AuthorizationException(
          pending.connection,
          "the authorization started too long ago; start a new one",
          null,
          null);
    }
    String code = url.queryParameter("code");
    if (code == null || code.isEmpty()) {
      throw new AuthorizationException(
          pending.connection, "the redirect carries no code", null, null);
    }
    Connection conn;
    TokenSet issued;
    if (pending.connection != null) {
      conn = target.connection(pending.connection);
      issued = conn.provider.exchangeCode(code, pending.verifier);
    } else {
      String app = Objects.requireNonNull(pending.app);
      Connection appConn = target.app(app);
      issued = appConn.provider.exchangeCode(code, pending.verifier);
      String subject = appConn.provider.subjectOf(issued);
      if (subject == null) {
        throw new AuthorizationException(
            appConn.id,
            "the platform did not say whose tokens these are, so the connection cannot be named;"
                + " start the authorization for a named connection instead",
            null,
            null);
      }
      conn = target.connection(target.named(app, subject));
    }
    return new Completed(conn, save(conn, issued));
  }

  static String stateKey(String state) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(state.getBytes(StandardCharsets.UTF_8));
      return "tb-auth:" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An authorization in progress, as kept in the store under its state's hash. */
  static final class PendingState {
    final @Nullable ConnectionId connection;
    final @Nullable String app;
    final @Nullable String verifier;
    final Instant createdAt;

    PendingState(
        @Nullable ConnectionId connection,
        @Nullable String app,
        @Nullable String verifier,
        Instant createdAt) {
      this.connection = connection;
      this.app = app;
      this.verifier = verifier;
      this.createdAt = createdAt;
    }

    /** {@code tb-auth/1}, then one field per line: connection, app, verifier, created (ms). */
    byte[] encode() {
      String text =
          "tb-auth/1\n"
              + (connection == null ? "" : connection.toString())
              + "\n"
              + (app == null ? "" : app)
              + "\n"
              + (verifier == null ? "" : verifier)
              + "\n"
              + createdAt.toEpochMilli();
      return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The record, or null if it is not one (a corrupt or foreign value reads as unknown). */
    static @Nullable PendingState decode(byte[] bytes) {
      String[] f = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
      if (f.length != 5 || !f[0].equals("tb-auth/1")) {
        return null;
      }
      try {
        ConnectionId id = f[1].isEmpty() ? null : ConnectionId.parse(f[1]);
        String app = f[2].isEmpty() ? null : f[2];
        if ((id == null) == (app == null)) {
          return null;
        }
        return new PendingState(
            id, app, f[3].isEmpty() ? null : f[3], Instant.ofEpochMilli(Long.parseLong(f[4])));
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
  }

  /**
   * Renews {@code carrier}'s refresh token once and saves the result as the connection's first set,
   * under the lease and only over an empty (or tombstoned) record. Runs as the connection's
   * exclusive flight.
   */
  TokenSet importSet(Connection conn, TokenSet carrier) {
    Lease lease = store.seizeLease(conn.id, owner, leaseTtl, conn.highestFence());
    conn.sawFence(lease.fencingToken());
    // An import that stops before saving leaves a lease seized from a renewal cut short to lapse
    // with its marker, as a failed revocation does: released, the marker would be cleared and the
    // next renewal would send the stored refresh token that request may have spent.
    boolean release = lease.renewalCutShortAt() == null;
    try {
      StoredConnection stored = store.read(conn.id);
      if (stored.tokens() != null) {
        throw new TokenBrokerException(
            conn.id,
            "connection "
                + conn.id
                + ": the store already holds tokens (version "
                + stored.version()
                + "); an import never overwrites them — revoke or remove the connection first");
      }
      store.markRenewing(lease);
      TokenSet issued = conn.provider.refresh(carrier);
      if (issued.refreshToken() == null) {
        issued = issued.toBuilder().refreshToken(carrier.refreshToken()).build();
      }
      TokenSet saved;
      try {
        saved =
            stored.tombstone() != null
                ? store.authorize(conn.id, issued, lease)
                : store.compareAndSet(conn.id, 0, issued, lease);
      } catch (StaleLeaseException | VersionConflictException e) {
        throw e; // a new authorization won meanwhile: it decides
      } catch (RuntimeException e) {
        // the imported token is spent: the new set must not be lost with the store down; the
        // saver keeps it, with the lease, until the store takes it
        held(conn, issued, lease, e);
        release = false;
        return issued;
      }
      release = true; // saved: the save cleared any marker, the new set is the connection's now
      health.clearedInStore(conn);
      health.recoveredByAuthorization(conn, stored.tombstone() != null ? stored.health() : null);
      synchronized (conn) {
        conn.newest = null;
      }
      view.published(conn, saved, TokenEvent.Type.AUTHORIZED);
      return saved;
    } finally {
      if (release) {
        view.release(lease);
      }
    }
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
    HealthRecord was;
    try {
      was = store.read(conn.id).health(); // what this authorization clears, to say so once
      saved = store.authorize(conn.id, issued, lease);
    } catch (RuntimeException e) {
      held(conn, issued, lease, e);
      return issued;
    }
    view.release(lease);
    health.clearedInStore(conn);
    health.recoveredByAuthorization(conn, was);
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
