package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The simulated platform: authorization-code grants with rotating refresh tokens, as Cafe24 runs
 * them. Each authorization starts a <em>chain</em>; a refresh with the chain's live refresh token
 * rotates it (the old one dies, a new set is issued); a refresh with a dead one (rotated away,
 * revoked, expired) is answered {@code invalid_grant}, PERMANENT. Chains are independent: a new
 * authorization does not kill an older chain. A revocation kills the chain of the access token it
 * is given.
 *
 * <p>Every call first asks the world for a fault: a 503 before processing (TRANSIENT), a request
 * lost before processing (OUTCOME_UNKNOWN, nothing rotated), an answer lost after processing
 * (OUTCOME_UNKNOWN, rotated), or a spurious {@code invalid_grant}. The world may also run another
 * instance's operation while a request is in flight (before or after the platform processes it), or
 * crash the calling instance there. The platform remembers who was issued which token and whether
 * the answer reached its caller, for the invariants.
 */
final class SimPlatform {
  static final Duration ACCESS_LIFE = Duration.ofMinutes(10);
  static final Duration REFRESH_LIFE = Duration.ofDays(1);
  static final RenewalPolicy POLICY =
      RenewalPolicy.of(Duration.ofMinutes(2), Duration.ofSeconds(30))
          .withKeepAliveBefore(Duration.ofHours(6));

  /** What became of the answer that carried a token. */
  enum Delivery {
    DELIVERED,
    /** The platform processed the request but the answer never reached the caller. */
    LOST,
    /** The caller crashed before it could use the answer. */
    CRASHED
  }

  /** One authorization's sequence of refresh tokens. */
  static final class Chain {
    final int no;
    final ConnectionId id;
    final long issuedSeq;
    final SimInstance authorizedBy;

    /**
     * When its authorization took effect: its completion returned, or the store first took it
     * (whichever came first); -1 before.
     */
    long authorizedSeq = -1;

    /** When the store first took it (an authorize), or -1. */
    long storedSeq = -1;

    boolean revoked;
    @Nullable Refresh live;

    Chain(int no, ConnectionId id, long issuedSeq, SimInstance authorizedBy) {
      this.no = no;
      this.id = id;
      this.issuedSeq = issuedSeq;
      this.authorizedBy = authorizedBy;
    }
  }

  /** One issued refresh token. */
  static final class Refresh {
    final String value;
    final Chain chain;
    final long issuedSeq;
    final SimInstance issuedTo;
    final Instant expiresAt;
    Delivery delivery = Delivery.DELIVERED;

    /** The token that replaced this one when it was rotated; null while not rotated. */
    @Nullable Refresh successor;

    /** How often it was sent, dead, as a deliberate retry after an unknown outcome. */
    int deliberateSends;

    /** Who sent it last as a deliberate retry. */
    @Nullable SimInstance deliberateSender;

    /** When the request that produced it reached the platform (later than that, if delayed). */
    long requestSeq;

    /** Until when a delayed request with this token may still be processed; -1: none. */
    long inFlightUntilMillis = -1;

    /** When that delayed request reached the platform. */
    long inFlightSeq = -1;

    Refresh(String value, Chain chain, long issuedSeq, SimInstance issuedTo, Instant expiresAt) {
      this.value = value;
      this.chain = chain;
      this.issuedSeq = issuedSeq;
      this.issuedTo = issuedTo;
      this.expiresAt = expiresAt;
      this.requestSeq = issuedSeq;
    }

    boolean live(Instant now) {
      return successor == null && !chain.revoked && now.isBefore(expiresAt);
    }

    @Override
    public String toString() {
      return value
          + "(chain "
          + chain.no
          + ", to "
          + issuedTo.name
          + " at #"
          + issuedSeq
          + ", "
          + delivery
          + (successor == null ? "" : ", rotated to " + successor.value)
          + (chain.revoked ? ", revoked" : "")
          + ")";
    }
  }

  /** One issued access token. */
  static final class Access {
    final Chain chain;
    final Instant expiresAt;

    Access(Chain chain, Instant expiresAt) {
      this.chain = chain;
      this.expiresAt = expiresAt;
    }
  }

  private static final class Grant {
    final ConnectionId id;
    final @Nullable String challenge;

    Grant(ConnectionId id, @Nullable String challenge) {
      this.id = id;
      this.challenge = challenge;
    }
  }

  /** A refresh request the platform has received but not processed yet (a slow request). */
  private static final class Late {
    final Refresh sent;
    final SimInstance from;
    final long dueMillis;
    final long requestSeq;

    Late(Refresh sent, SimInstance from, long dueMillis, long requestSeq) {
      this.sent = sent;
      this.from = from;
      this.dueMillis = dueMillis;
      this.requestSeq = requestSeq;
    }
  }

  private final SimWorld world;
  private final List<Late> late = new ArrayList<>();
  final Map<String, Refresh> refreshTokens = new HashMap<>();
  final Map<String, Access> accessTokens = new HashMap<>();
  private final Map<String, Grant> started = new HashMap<>();
  private final Map<String, Grant> codes = new HashMap<>();
  private int serial;
  private int chains;

  SimPlatform(SimWorld world) {
    this.world = world;
  }

  /** The provider instance {@code inst} uses for {@code id}: the platform, seen from there. */
  TokenProvider client(SimInstance inst, ConnectionId id) {
    return new Client(inst, id);
  }

  /**
   * A person approves the authorization started with {@code state}: the code the redirect carries.
   */
  String approve(String state) {
    Grant g = started.remove(state);
    if (g == null) {
      throw new IllegalStateException("no authorization started with that state");
    }
    String code = "code" + ++serial;
    codes.put(code, g);
    return code;
  }

  private Instant now() {
    return world.clock.instant();
  }

  private TokenSet issue(Chain chain, SimInstance to) {
    Instant now = now();
    String access = "a" + ++serial;
    String refresh = "r" + serial;
    Refresh r = new Refresh(refresh, chain, world.nextSeq(), to, now.plus(REFRESH_LIFE));
    refreshTokens.put(refresh, r);
    accessTokens.put(access, new Access(chain, now.plus(ACCESS_LIFE)));
    if (chain.live != null) {
      chain.live.successor = r;
    }
    chain.live = r;
    return TokenSet.builder()
        .accessToken(access)
        .refreshToken(refresh)
        .expiresAt(now.plus(ACCESS_LIFE))
        .refreshExpiresAt(now.plus(REFRESH_LIFE))
        .issuedAt(now)
        .build();
  }

  TokenSet exchange(SimInstance inst, ConnectionId id, String code, @Nullable String verifier) {
    boolean crashAfter = world.enterCall(inst, "exchangeCode " + id);
    world.maybeConcurrently(inst, "before the platform took code " + code);
    SimWorld.ProviderFault f = world.providerFault(id);
    throwIfNotProcessed(f);
    world.requestTakesTime();
    Grant g = codes.remove(code);
    if (g == null || !g.id.equals(id)) {
      world.violation(inst.name + " exchanged an unknown or already used code for " + id);
      throw invalidGrant("authorization code unknown or already used");
    }
    if (g.challenge != null && (verifier == null || !s256(verifier).equals(g.challenge))) {
      world.violation(inst.name + " sent a PKCE verifier that does not match its challenge");
      throw invalidGrant("PKCE verification failed");
    }
    if (f == SimWorld.ProviderFault.INVALID_GRANT) {
      throw invalidGrant("authorization code expired");
    }
    Chain chain = new Chain(++chains, id, world.nextSeq(), inst);
    TokenSet set = issue(chain, inst);
    Refresh r = chain.live;
    world.note(
        inst.name + " exchanged " + code + ": chain " + chain.no + " starts with " + r.value);
    world.maybeConcurrently(inst, "while the answer to the code exchange is on its way");
    return answer(inst, f, crashAfter, r, set, "code exchange");
  }

  /**
   * Processes the slow requests whose time has come, in order: each rotates its refresh token if it
   * is still live, and its answer goes nowhere (its caller gave up long ago).
   */
  void processDue() {
    long now = world.clock.millis();
    late.sort((a, b) -> Long.compare(a.dueMillis, b.dueMillis));
    while (!late.isEmpty() && late.get(0).dueMillis <= now) {
      Late l = late.remove(0);
      l.sent.inFlightUntilMillis = -1;
      if (l.sent.live(world.clock.instant())) {
        issue(l.sent.chain, l.from);
        Refresh r = l.sent.chain.live;
        r.delivery = Delivery.LOST;
        r.requestSeq = l.requestSeq;
        world.note(
            "  (a slow request is processed at last: " + l.sent.value + " -> " + r.value + ")");
      }
    }
  }

  TokenSet refresh(SimInstance inst, ConnectionId id, TokenSet current) {
    boolean crashAfter = world.enterCall(inst, "refresh " + id);
    world.maybeConcurrently(inst, "before the platform took refresh " + current.refreshToken());
    processDue();
    Refresh sent = refreshTokens.get(current.refreshToken());
    if (sent == null || !sent.chain.id.equals(id)) {
      world.violation(inst.name + " sent a refresh token the platform never issued for " + id);
      throw invalidGrant("unknown refresh token");
    }
    if (sent.inFlightUntilMillis > world.clock.millis()
        && sent.live(now())
        && !world.dataLostSince(id, sent.inFlightSeq)) {
      // (A live token: the two requests race, and whichever comes second spends a dead token.)
      world.violation(
          inst.name
              + " sent "
              + sent.value
              + " again while an earlier request with it may still be in process at the platform"
              + " (until "
              + Instant.ofEpochMilli(sent.inFlightUntilMillis)
              + ")");
    }
    SimWorld.ProviderFault f = world.providerFault(id);
    if (f == SimWorld.ProviderFault.LOST_REQUEST && world.slowRequest(id)) {
      // Not lost: slow. The platform processes it later, up to 4 s from now (less than the pause
      // the engine waits before its one deliberate retry); its caller sees OUTCOME_UNKNOWN now.
      long due = world.clock.millis() + 1 + world.slowDelayMillis(id);
      sent.inFlightUntilMillis = due;
      sent.inFlightSeq = world.nextSeq();
      late.add(new Late(sent, inst, due, sent.inFlightSeq));
    }
    throwIfNotProcessed(f);
    world.requestTakesTime();
    world.refreshSent(inst, id, sent); // what the platform processes, not what the network dropped
    if (f == SimWorld.ProviderFault.INVALID_GRANT || !sent.live(now())) {
      world.permanentAnswer(id);
      if (f == SimWorld.ProviderFault.LOST_ANSWER) {
        world.lostAnswer(id, null);
        throw lost("refresh");
      }
      throw invalidGrant("refresh token expired or already used");
    }
    TokenSet set = issue(sent.chain, inst);
    Refresh r = sent.chain.live;
    world.note(inst.name + " rotated " + sent.value + " -> " + r.value);
    world.maybeConcurrently(inst, "while the answer to refresh " + sent.value + " is on its way");
    return answer(inst, f, crashAfter, r, set, "refresh");
  }

  private TokenSet answer(
      SimInstance inst,
      SimWorld.ProviderFault f,
      boolean crashAfter,
      Refresh r,
      TokenSet set,
      String what) {
    if (f == SimWorld.ProviderFault.LOST_ANSWER) {
      r.delivery = Delivery.LOST;
      world.lostAnswer(r.chain.id, r);
      throw lost(what);
    }
    if (crashAfter || inst.dead) {
      r.delivery = Delivery.CRASHED;
      throw world.crash(inst, "after the platform answered a " + what + " with " + r.value);
    }
    return set;
  }

  void revoke(SimInstance inst, ConnectionId id, TokenSet current) {
    boolean crashAfter = world.enterCall(inst, "revoke " + id);
    world.maybeConcurrently(inst, "before the platform took a revocation");
    SimWorld.ProviderFault f = world.providerFault(id);
    throwIfNotProcessed(f);
    world.requestTakesTime();
    Access a = accessTokens.get(current.accessToken());
    if (a == null || !a.chain.id.equals(id)) {
      world.violation(inst.name + " revoked with an access token never issued for " + id);
      throw rejected();
    }
    if (a.chain.revoked || !now().isBefore(a.expiresAt)) {
      if (f == SimWorld.ProviderFault.LOST_ANSWER) {
        throw lost("revocation");
      }
      throw rejected();
    }
    a.chain.revoked = true;
    world.note(inst.name + " revoked chain " + a.chain.no + " at the platform");
    world.maybeConcurrently(inst, "while the answer to a revocation is on its way");
    if (f == SimWorld.ProviderFault.LOST_ANSWER) {
      throw lost("revocation");
    }
    if (crashAfter || inst.dead) {
      throw world.crash(inst, "after the platform revoked chain " + a.chain.no);
    }
  }

  private static void throwIfNotProcessed(SimWorld.ProviderFault f) {
    if (f == SimWorld.ProviderFault.UNAVAILABLE) {
      throw TokenEndpointException.builder("sim")
          .httpStatus(503)
          .kind(TokenEndpointException.Kind.TRANSIENT)
          .reason("token endpoint unavailable")
          .build();
    }
    if (f == SimWorld.ProviderFault.LOST_REQUEST) {
      throw lost("request (never processed)");
    }
  }

  private static TokenEndpointException lost(String what) {
    return TokenEndpointException.builder("sim")
        .kind(TokenEndpointException.Kind.OUTCOME_UNKNOWN)
        .reason("connection reset after the " + what + " was sent")
        .build();
  }

  private static TokenEndpointException invalidGrant(String reason) {
    return TokenEndpointException.builder("sim")
        .httpStatus(400)
        .error("invalid_grant")
        .kind(TokenEndpointException.Kind.PERMANENT)
        .reason(reason)
        .build();
  }

  private static TokenEndpointException rejected() {
    return TokenEndpointException.builder("sim")
        .httpStatus(401)
        .error("invalid_token")
        .kind(TokenEndpointException.Kind.TOKEN_REJECTED)
        .reason("access token expired or revoked")
        .build();
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

  /** One instance's provider for one connection. */
  private final class Client implements TokenProvider {
    private final SimInstance inst;
    private final ConnectionId id;

    Client(SimInstance inst, ConnectionId id) {
      this.inst = inst;
      this.id = id;
    }

    @Override
    public String name() {
      return "sim";
    }

    @Override
    public GrantType grantType() {
      return GrantType.AUTHORIZATION_CODE;
    }

    @Override
    public RenewalPolicy renewalPolicy() {
      return POLICY;
    }

    @Override
    public boolean usesPkce() {
      return true;
    }

    @Override
    public URI authorizationUrl(String state, @Nullable String codeChallenge) {
      started.put(state, new Grant(id, codeChallenge));
      return URI.create("https://sim.example/authorize?state=" + state);
    }

    @Override
    public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
      return exchange(inst, id, code, codeVerifier);
    }

    @Override
    public TokenSet refresh(TokenSet current) {
      return SimPlatform.this.refresh(inst, id, current);
    }

    @Override
    public void revoke(TokenSet current, Revocation revocation) {
      SimPlatform.this.revoke(inst, id, current);
    }
  }
}
