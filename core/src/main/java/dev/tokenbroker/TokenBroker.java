package dev.tokenbroker;

import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.TokenStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import okhttp3.Interceptor;

/**
 * Keeps the OAuth tokens of many connections alive and hands out valid access tokens.
 *
 * <p>Every token takes one path:
 *
 * <pre>
 * accessToken(id)
 *   cache hit and FRESH ─────────────────────────────► return  (no lock, no allocation)
 *   STALE: return the current token; start one background renewal
 *   EXPIRED / missing: wait for the single in-flight renewal of this id (on the broker's threads)
 *     renewal = load from the TokenStore (another instance may have renewed already)
 *             → take the store lease → load again → mark the renewal started
 *             → provider call (never while holding a JVM lock)
 *             → fenced compare-and-set of the new set   ← saved before anyone uses it
 *             → put in the cache → release the lease → complete the waiters
 * </pre>
 *
 * <p>This class is the facade: each step is a part of its own (the {@link HotTier}, the {@link
 * SingleFlight}, the {@link StoreRenewal}, the {@link DurableSaver}, the {@link HealthBook}, {@link
 * KeepAlive}, the {@link AuthorizationFlow} and the {@link Revoker}), and so is each group of calls
 * ({@link TokenCalls}, {@link AsyncCalls}, {@link RuntimeConnections}, {@link HealthReader}, {@link
 * Reconfiguration}, {@link Lifecycle}), assembled by {@link TokenBrokerBuilder} ({@link
 * EngineParts}). The facade only delegates; no part holds it.
 *
 * <p>Thread-safe. {@link #accessToken} blocks only when no valid token is cached, and then at most
 * for the renewal timeout; interrupting a waiting caller ends its wait and nothing else. Every
 * method throws {@link TokenBrokerException} subclasses: {@link ReauthorizationRequiredException}
 * when a person must act, {@link TokenUnavailableException} when waiting may help, {@link
 * ConfigurationException} for an unknown connection. No message, log line or {@code toString}
 * contains a token or secret.
 */
public final class TokenBroker implements AutoCloseable {
  private final TokenStore store;
  private final String owner;
  private final ConnectionRegistry registry;
  private final SingleFlight flights;
  private final KeepAlive keepAlive;
  private final AuthorizationFlow authorization;
  private final Revoker revoker;
  private final Lifecycle life;
  private final TokenCalls tokens;
  private final AsyncCalls async;
  private final RuntimeConnections runtime;
  private final HealthReader healthReader;
  private final Reconfiguration reconfiguration;
  // Not used here: the simulation test (SimInstance) reads it by reflection.
  private final DurableSaver saver;

  TokenBroker(EngineParts p) {
    this.store = p.store;
    this.owner = p.owner;
    this.registry = p.registry;
    this.flights = p.flights;
    this.keepAlive = p.keepAlive;
    this.authorization = p.authorization;
    this.revoker = p.revoker;
    this.life = p.life;
    this.tokens = p.tokens;
    this.async = p.async;
    this.runtime = p.runtime;
    this.healthReader = p.healthReader;
    this.reconfiguration = p.reconfiguration;
    this.saver = p.saver;
  }

  /**
   * A new builder.
   *
   * @return a new builder
   */
  public static TokenBrokerBuilder builder() {
    return new TokenBrokerBuilder();
  }

  /**
   * A broker configured from a YAML ({@code .yaml}, {@code .yml}) or {@code .properties} file, with
   * {@code ${ENV_VAR}} replaced from the environment.
   *
   * @param configFile the YAML ({@code .yaml}, {@code .yml}) or {@code .properties} file
   * @return a started broker; close it when done
   */
  public static TokenBroker fromConfig(Path configFile) {
    return builder().configFile(configFile).build();
  }

  // ------------------------------------------------------------------------------------------
  // Handing out tokens

  /**
   * A valid access token for {@code id}.
   *
   * <p>FRESH: returned from the cache with no lock and no allocation. STALE: returned at once, and
   * one background renewal starts. EXPIRED or missing: waits for the connection's single renewal
   * (at most the renewal timeout); every caller waiting on it gets its result or its error.
   *
   * @param id the connection
   * @return a valid access token for {@code id}
   * @throws ReauthorizationRequiredException if a person must act first
   * @throws TokenUnavailableException if no valid token can be had now (see its health), or the
   *     calling thread was interrupted while waiting (its interrupt flag is set again)
   * @throws ConfigurationException if {@code id} is not configured
   */
  public String accessToken(ConnectionId id) {
    return tokens.current(id).accessToken();
  }

  /**
   * Like {@link #accessToken} but returns the whole valid {@link TokenSet}.
   *
   * @param id the connection
   * @return the whole valid token set
   */
  public TokenSet tokenSet(ConnectionId id) {
    return tokens.current(id).tokenSet();
  }

  /**
   * {@link #accessToken} without blocking, for reactive and asynchronous callers (an event-loop
   * thread must never wait for a renewal).
   *
   * <p>FRESH and STALE: an already completed future (STALE also starts the one background renewal).
   * EXPIRED or missing: joins the connection's single renewal, or starts it, and returns at once;
   * the future completes when the renewal does, with the same token or the same exception a
   * blocking caller would get ({@link ReauthorizationRequiredException}, {@link
   * TokenUnavailableException}, …), or with a {@link TokenUnavailableException} once the renewal
   * timeout has passed. Cancelling the future ends nothing but this caller's interest.
   *
   * <p>Never throws (but for a null id): an unknown connection or a closed broker completes the
   * future exceptionally. Stages chained on the future without an executor run on the broker thread
   * that completed the renewal: keep them short, or chain them with {@code *Async(…, executor)}.
   *
   * @param id the connection
   * @return a future of a valid access token for {@code id}
   */
  public CompletableFuture<String> accessTokenAsync(ConnectionId id) {
    return async.current(id).thenApply(CachedToken::accessToken);
  }

  /**
   * Like {@link #accessTokenAsync} but completes with the whole valid {@link TokenSet}.
   *
   * @param id the connection
   * @return a future of the whole valid token set
   */
  public CompletableFuture<TokenSet> tokenSetAsync(ConnectionId id) {
    return async.current(id).thenApply(CachedToken::tokenSet);
  }

  /**
   * For HTTP integrations other than OkHttp's: the platform's API rejected {@code
   * rejectedAccessToken} (the provider's {@link TokenProvider#classifyApiResponse} said {@code
   * TOKEN_REJECTED}). Returns a valid set with a different token: the current one if someone
   * renewed already, else after one renewal that every caller reporting the same token shares. A
   * caller replays its request once with it; never in a loop.
   *
   * @param id the connection
   * @param rejectedAccessToken the access token the API rejected
   * @return a valid token set, already saved
   * @throws ReauthorizationRequiredException if a person must act first
   * @throws TokenUnavailableException if no valid token can be had now
   */
  public TokenSet tokenSetAfterRejection(ConnectionId id, String rejectedAccessToken) {
    return tokens.afterRejection(id, rejectedAccessToken);
  }

  /**
   * {@link #tokenSetAfterRejection} without blocking, completed like {@link #tokenSetAsync}.
   *
   * @param id the connection
   * @param rejectedAccessToken the access token the API rejected
   * @return a future of a valid token set carrying a different access token
   */
  public CompletableFuture<TokenSet> tokenSetAfterRejectionAsync(
      ConnectionId id, String rejectedAccessToken) {
    return async.afterRejection(id, rejectedAccessToken);
  }

  /**
   * For HTTP integrations other than OkHttp's: the platform's API said the connection itself is
   * dead (the provider's {@link TokenProvider#classifyApiResponse} returned {@code
   * CONNECTION_DEAD}: app uninstalled, IP not allowed). The connection becomes
   * REAUTHORIZATION_REQUIRED with the verdict's reason, as the OkHttp interceptor does. Other
   * verdicts are ignored.
   *
   * @param id the connection
   * @param verdict what the provider made of the API's answer
   */
  public void reportApiVerdict(ConnectionId id, ApiVerdict verdict) {
    Objects.requireNonNull(verdict, "verdict");
    Connection conn = registry.get(id);
    if (verdict.kind() == ApiVerdict.Kind.CONNECTION_DEAD) {
      runtime.markDead(conn, verdict);
    }
  }

  /**
   * Renews {@code id} now, whatever its token's age, and returns the new set: a set counts as
   * renewed only if it is a new version. Joins an explicit refresh already in flight. Also tries a
   * connection that is DEGRADED or needs re-authorization (after an operator fixed the cause) — but
   * sends nothing during the pause after a refresh whose answer was lost, while the platform may
   * still be processing it.
   *
   * @param id the connection
   * @return the new token set, already saved
   * @throws TokenUnavailableException if no renewal happened (say, another instance held the lease
   *     and did not renew within the lease wait)
   */
  public TokenSet refresh(ConnectionId id) {
    return tokens.refresh(id);
  }

  /**
   * One keep-alive pass: renews every connection whose refresh token is inside its provider's
   * keep-alive window, at most the configured concurrency at a time. Safe on every instance at
   * once. Blocks until the pass is done. Failures go to health and events, never thrown. The broker
   * runs passes on its own unless built {@linkplain TokenBrokerBuilder#withoutKeepAlive() without
   * keep-alive}.
   *
   * @return the connections renewed in this pass
   */
  public List<ConnectionId> keepAlive() {
    life.checkOpen();
    return keepAlive.pass();
  }

  // ------------------------------------------------------------------------------------------
  // The human step and the end of a connection

  /**
   * Starts an authorization-code flow: a fresh unguessable {@code state} (and a PKCE verifier when
   * the provider uses PKCE) and the URL a person opens. The state is kept in the shared store for
   * 15 minutes, so the redirect may land on any instance sharing it, and is good for one
   * completion; starting another leaves earlier ones valid until they are used or expire.
   *
   * <p>{@code id} may be a configured connection or one an app's template names ({@code
   * cafe24:mall-a} under {@code cafe24:{mall}}): onboarding a new mall starts here.
   *
   * @param id the connection
   * @return the URL to open in a browser, with the state and PKCE verifier kept for the callback
   * @throws AuthorizationException if the connection's provider uses client credentials
   * @throws ConfigurationException if {@code id} is neither configured nor named by a template
   */
  public AuthorizationRequest startAuthorization(ConnectionId id) {
    life.checkOpen();
    return authorization.start(registry.open(id));
  }

  /**
   * Starts an authorization for a new connection of {@code app} whose subject is known only after
   * the code exchange (a Kakao user): the connection is named on completion, from what the platform
   * says ({@link dev.tokenbroker.spi.TokenProvider#subjectOf}), and {@link #handleCallback} returns
   * its id.
   *
   * @param app the app, as named in the configuration's {@code apps:} section, with a template
   * @return the URL to open in a browser; its {@link AuthorizationRequest#connection()} is the
   *     app's template ({@code kakao:{user}}), not a connection
   * @throws ConfigurationException if no app of that name has a template
   */
  public AuthorizationRequest startAuthorization(String app) {
    life.checkOpen();
    Connection appConn = registry.appConnection(Objects.requireNonNull(app, "app"));
    return authorization.start(appConn, appConn.id, app);
  }

  /**
   * Completes the flow with the URL the browser was redirected to (or just its query string):
   * rejects an {@code error=} redirect, takes the {@code state} from the shared store — once, on
   * whichever instance, before any network call — then exchanges the code at once and saves the
   * first token set over whatever the store held, winning over any renewal still in flight
   * anywhere.
   *
   * @param id the connection the authorization was started for
   * @param redirectedUrl the URL the browser was redirected to, carrying {@code code} (or {@code
   *     error}) and {@code state}
   * @return the new token set, already saved
   * @throws AuthorizationException for a denied, unknown, expired, reused or foreign state, or a
   *     code-less redirect
   * @throws TokenEndpointException if the platform refused the code (reused, expired)
   */
  public TokenSet completeAuthorization(ConnectionId id, String redirectedUrl) {
    Objects.requireNonNull(id, "id");
    life.checkOpen();
    return authorization.complete(id, redirectedUrl, runtime).tokens;
  }

  /**
   * The callback of a web application: completes whichever authorization the redirect's {@code
   * state} belongs to, started on any instance sharing the store, and returns the connection it
   * authorized. What a web framework's callback endpoint calls with the request's URL (or query);
   * the code is exchanged here and now (Cafe24's lives about a minute).
   *
   * @param redirectedUrl the URL the browser was redirected to, or its query string
   * @return the connection now authorized (for {@link #startAuthorization(String)}, the one named
   *     after the platform's subject)
   * @throws AuthorizationException for a denied, unknown, expired or reused state, or no code
   * @throws TokenEndpointException if the platform refused the code
   */
  public ConnectionId handleCallback(String redirectedUrl) {
    life.checkOpen();
    return authorization.complete(null, redirectedUrl, runtime).conn.id;
  }

  /**
   * Adds the connection of {@code subject} under {@code app}'s template ({@code cafe24:{mall}} with
   * subject {@code mall-a} is {@code cafe24:mall-a}) here, without a store write: it is then served
   * like a configured one, and needs an authorization (or imported tokens) before it has a token.
   * Other instances learn of it once it has tokens in the store.
   *
   * @param app the app, as named in the configuration's {@code apps:} section
   * @param subject the mall id, seller account id or user id
   * @return the connection's id
   * @throws ConfigurationException if the app has no template
   * @throws IllegalArgumentException if {@code subject} is not a valid subject
   * @throws TokenUnavailableException if a client-credentials connection's first token cannot be
   *     had (it stays added here, and is retried on use)
   */
  public ConnectionId connect(String app, String subject) {
    return runtime.connect(app, subject);
  }

  /**
   * Removes a connection made at run time, everywhere: revokes its tokens at the platform (when it
   * can), leaves a {@code removed} tombstone in the store, and stops serving it here at once and on
   * every other instance within the discovery bound ({@link TokenBrokerBuilder#discovery}).
   *
   * @param id the connection
   * @throws ConfigurationException if {@code id} is a configured connection (remove it from the
   *     configuration) or unknown
   */
  public void remove(ConnectionId id) {
    runtime.remove(id, null);
  }

  /**
   * Removes a connection whose link the platform already ended: the app was uninstalled from the
   * mall ({@code uninstalled}), the user unlinked the app ({@code unlinked}). Sends the platform
   * nothing; otherwise the same as {@link #remove(ConnectionId)}.
   *
   * @param id the connection
   * @param reason {@code uninstalled}, {@code unlinked} or {@code removed}
   */
  public void removeEnded(ConnectionId id, String reason) {
    runtime.removeEnded(id, reason);
  }

  /**
   * Imports a live refresh token obtained elsewhere (a script's {@code tokens.json}), so the
   * connection needs no new browser login: renews once with it — which proves it live, and on a
   * rotating platform spends it — and saves the new set as the connection's first. Never overwrites
   * a stored set: if the store holds tokens for the connection, nothing is sent.
   *
   * @param id a configured connection, or one a template names
   * @param refreshToken the refresh token
   * @return the new token set, saved
   * @throws TokenBrokerException if the store already holds tokens for {@code id}
   * @throws TokenEndpointException if the platform refused the refresh token (or its answer was
   *     lost: {@link TokenEndpointException.Kind#OUTCOME_UNKNOWN}, the token may be spent)
   */
  public TokenSet importRefreshToken(ConnectionId id, String refreshToken) {
    return runtime.importRefreshToken(id, refreshToken);
  }

  /**
   * Records {@code key} as used until {@code until}, across every instance sharing the store: true
   * the first time, false for a replay. A replay guard for signed requests the platform sends or
   * opens (a Cafe24 app launch, a Kakao unlink callback): pass a key derived from the request's
   * signature and a time past the end of its freshness window.
   *
   * @param key 1 to 150 printable ASCII characters (kept under a prefix of the broker's)
   * @param until when the record may be forgotten
   * @return true if the key was not used before
   */
  public boolean claimOnce(String key, Instant until) {
    return runtime.claimOnce(key, until);
  }

  // ------------------------------------------------------------------------------------------
  // Settings that change under a running service

  /**
   * Serves the configured connection {@code id} with new settings from now on (a client secret
   * reissued at the platform): the provider is rebuilt and checked as at start-up; stored tokens,
   * health and the cache stay; a call already in flight finishes with the old settings.
   *
   * @param id a configured connection
   * @param settings its complete new settings, as in a configuration file
   * @throws ConfigurationException naming the setting, if they are invalid (then nothing changes)
   */
  public void reconfigure(ConnectionId id, Map<String, ?> settings) {
    life.checkOpen();
    reconfiguration.connection(id, settings);
  }

  /**
   * Serves every connection of the template app {@code app} (and those onboarded later) with new
   * settings from now on; otherwise as {@link #reconfigure}.
   *
   * @param app an app with a {@code template:}
   * @param settings the app's complete new settings (its template stays)
   * @throws ConfigurationException if they are invalid (then nothing changes)
   */
  public void reconfigureApp(String app, Map<String, ?> settings) {
    life.checkOpen();
    reconfiguration.app(app, settings);
  }

  /**
   * Reads the configuration file the broker was built from again and applies changed settings of
   * its connections and template apps ({@link #reconfigure}, {@link #reconfigureApp}). Connections
   * or apps added to or removed from the file need a restart; they are reported, not applied.
   *
   * @return what changed, one line per connection or app
   * @throws ConfigurationException if the file is invalid (then nothing changes)
   */
  public List<String> reload() {
    life.checkOpen();
    return reconfiguration.reload();
  }

  /**
   * Asks the store now which run-time connections other instances added or removed (what the
   * background discovery does every interval), and applies it here. The first call (when the
   * background discovery is off, or has not started) also learns every connection in the store a
   * template names. Does nothing without templates.
   *
   * @return how many connections were added or removed here
   */
  public int discover() {
    return runtime.discover();
  }

  /**
   * Same as {@code revoke(id, Revocation.TOKENS)}.
   *
   * @param id the connection
   */
  public void revoke(ConnectionId id) {
    revoke(id, Revocation.TOKENS);
  }

  /**
   * Revokes the connection's tokens at the platform and leaves a tombstone in the store, so no
   * instance serves or writes it back. Waits for a renewal in flight here and wins over one
   * anywhere else. An authorization-code connection then needs a new authorization; a
   * client-credentials one obtains a new token next time. If the platform refuses, nothing changes.
   *
   * @param id the connection
   * @param revocation how far to go
   */
  public void revoke(ConnectionId id, Revocation revocation) {
    Connection conn = registry.get(id);
    life.checkOpen();
    Objects.requireNonNull(revocation, "revocation");
    flights.exclusive(conn, (c, flight) -> revoker.revoke(c, revocation));
  }

  /**
   * Checks the current token with the platform ({@link TokenProvider#validate}; Kakao token info)
   * and returns the set with what the platform reported (e.g. the user id) in its extras.
   *
   * @param id the connection
   * @return the current token set, with what the platform reported in its extras
   * @throws ReauthorizationRequiredException if the platform says the token must not be used
   */
  public TokenSet validate(ConnectionId id) {
    return tokens.validate(id);
  }

  // ------------------------------------------------------------------------------------------
  // Looking at connections

  /**
   * The connection's health as every instance sees it: reads the connection's record in the store
   * (health record, tombstone, token expiries) once, and never contacts the platform. If the store
   * cannot be read, this instance's last view.
   *
   * @param id the connection
   * @return the connection's health; never null
   */
  public Health health(ConnectionId id) {
    return healthReader.read(registry.get(id));
  }

  /**
   * Every configured connection, sorted.
   *
   * @return every connection known here, sorted: the configured ones and those made at run time
   *     from a template (onboarded here, used here, or learnt from the store)
   */
  public Set<ConnectionId> connections() {
    return registry.ids();
  }

  /**
   * The provider serving {@code id}.
   *
   * @param id the connection
   * @return the provider serving {@code id}
   */
  public TokenProvider provider(ConnectionId id) {
    return registry.open(id).provider;
  }

  /**
   * A {@link TokenSource} bound to {@code id}: the same tokens as {@link #accessToken}, with the id
   * resolved once. Without an application cache (the default) a FRESH token is then read from the
   * connection itself, with no lookup by id.
   *
   * @param id the connection
   * @return a token source bound to {@code id}
   * @throws ConfigurationException if {@code id} is not configured
   */
  public TokenSource tokenSource(ConnectionId id) {
    return new TokenSource(tokens, registry.get(id));
  }

  /**
   * An OkHttp interceptor for application clients calling {@code id}'s platform API: adds {@code
   * Authorization}, and when the provider says the token was rejected, renews once and replays the
   * request once. Failures to get a token surface as {@link TokenUnavailableIOException}.
   *
   * @param id the connection
   * @return an interceptor to add to the application's OkHttp client
   */
  public Interceptor interceptor(ConnectionId id) {
    return new BrokerInterceptor(tokens, runtime, registry.get(id));
  }

  /**
   * After the API rejected {@code rejected}: returns a different valid token, renewing once if the
   * rejected one is still the current one.
   */
  CachedToken renewAfterRejection(Connection conn, CachedToken rejected) {
    return tokens.renewAfterRejection(conn, rejected);
  }

  Connection connection(ConnectionId id) {
    return registry.get(id);
  }

  /**
   * Stops background work: keep-alive stops, renewals in flight finish (bounded by the renewal
   * timeout) and are saved, and token sets that could not be saved get one last save attempt; any
   * still unsaved are reported in the log by connection (never by value). Closes a store that the
   * broker created from configuration.
   */
  @Override
  public void close() {
    life.close();
  }

  @Override
  public String toString() {
    return "TokenBroker{"
        + registry.size()
        + " connections, store="
        + store
        + ", owner="
        + owner
        + '}';
  }
}
