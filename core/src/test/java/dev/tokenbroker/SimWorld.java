package dev.tokenbroker;

import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.StoredConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * One run of the simulation: a shared clock, store and platform, at least {@link #MIN_INSTANCES}
 * broker instances, and a seeded random schedule of operations and faults. A pure function of the
 * seed: one thread, fake time, seeded randomness everywhere (the only randomness the engine draws
 * itself — lease owner suffixes, authorization state — is compared, never ordered on).
 *
 * <p>See {@link BrokerSimulationTest} for what is modelled and the invariants checked after every
 * step.
 */
final class SimWorld {
  static final ConnectionId[] IDS = {ConnectionId.parse("sim:a"), ConnectionId.parse("sim:b")};
  static final OkHttpClient HTTP = new OkHttpClient();
  static final Duration LEASE_TTL = Duration.ofSeconds(20);
  static final Duration LEASE_WAIT = Duration.ofSeconds(15);
  static final Duration OUTCOME_UNKNOWN_PAUSE = Duration.ofSeconds(5);
  static final int MIN_INSTANCES = 3;

  /**
   * Percent chance that an operation crashes its instance at one of its next store/provider calls.
   */
  static final int CRASH_PERCENT = 3;

  /** Percent chance that another instance acts while a provider request is in flight. */
  static final int CONCURRENT_PERCENT = 12;

  private static final Set<String> DEGRADED_REASONS =
      Set.of(
          "transient",
          "rate-limited",
          "rotation-outcome-unknown",
          "store-unavailable",
          "lease-busy");

  enum StoreFault {
    NONE,
    FAIL_BEFORE,
    FAIL_AFTER
  }

  enum ProviderFault {
    NONE,
    UNAVAILABLE,
    LOST_REQUEST,
    LOST_ANSWER,
    INVALID_GRANT
  }

  /** What the world knows about one connection, for the invariants. */
  static final class Conn {
    final ConnectionId id;
    final SplittableRandom storeRng;
    final SplittableRandom providerRng;

    /** The platform answered a refresh for it with a PERMANENT error. */
    boolean sawPermanent;

    /** A provider call for it ended OUTCOME_UNKNOWN. */
    boolean sawOutcomeUnknown;

    /** The store granted its lease over a holder that had started a token request. */
    boolean sawCutShort;

    boolean revokeAttempted;
    boolean sawEmptyRead;
    boolean dataLoss;
    long lastDataLossSeq = -1;
    long lastUnknownReportSeq = -1;
    long revokedSeq = -1;

    /** The first authorization completed after the last successful revoke. */
    long reconnectedSeq = -1;

    long lastTombstoneSeq = -1;
    @Nullable SimInstance revoker;
    final Map<SimInstance, String> hotAtRevoke = new HashMap<>();
    final List<StoredConnection> backups = new ArrayList<>();
    long maxVersion;

    /** The chain of the newest authorization that completed. */
    SimPlatform.@Nullable Chain currentChain;

    Conn(ConnectionId id, long seed, int index) {
      this.id = id;
      this.storeRng = new SplittableRandom(seed * 7919 + 2L * index + 1);
      this.providerRng = new SplittableRandom(seed * 104_729 + 2L * index + 2);
    }
  }

  /** An authorization started on an instance and approved by a person, not yet completed. */
  private static final class PendingAuth {
    final SimInstance inst;
    final ConnectionId id;
    final AuthorizationRequest request;
    final String code;

    PendingAuth(SimInstance inst, ConnectionId id, AuthorizationRequest request, String code) {
      this.inst = inst;
      this.id = id;
      this.request = request;
      this.code = code;
    }
  }

  /** Counts over a run, summed over seeds by the test. */
  static final class Stats {
    long steps;
    long crashes;
    long concurrent;
    long lostAnswers;
    long deliberateRetries;
    long explicitOnDead;
    long deadAfterDataLoss;
    long revokedSends;
    long expiredSends;
    long unsavedSeen;
    long storeFaults;
    long providerFaults;
    long served;
    long reauthorizations;
    long nestedGaveUp;
    long servedUnsavedAfterRevoke;
    long servedReadBeforeRevoke;

    void add(Stats o) {
      steps += o.steps;
      crashes += o.crashes;
      concurrent += o.concurrent;
      lostAnswers += o.lostAnswers;
      deliberateRetries += o.deliberateRetries;
      explicitOnDead += o.explicitOnDead;
      deadAfterDataLoss += o.deadAfterDataLoss;
      revokedSends += o.revokedSends;
      expiredSends += o.expiredSends;
      unsavedSeen += o.unsavedSeen;
      storeFaults += o.storeFaults;
      providerFaults += o.providerFaults;
      served += o.served;
      reauthorizations += o.reauthorizations;
      nestedGaveUp += o.nestedGaveUp;
      servedUnsavedAfterRevoke += o.servedUnsavedAfterRevoke;
      servedReadBeforeRevoke += o.servedReadBeforeRevoke;
    }

    @Override
    public String toString() {
      return steps
          + " steps; "
          + served
          + " tokens served; "
          + crashes
          + " crashes; "
          + concurrent
          + " concurrent operations; "
          + storeFaults
          + " store faults; "
          + providerFaults
          + " provider faults ("
          + lostAnswers
          + " lost answers); killed refresh tokens sent: "
          + deliberateRetries
          + " deliberate retries, "
          + explicitOnDead
          + " explicit refreshes of a dead connection, "
          + deadAfterDataLoss
          + " after the store lost data; "
          + revokedSends
          + " revoked and "
          + expiredSends
          + " expired refresh tokens sent; "
          + unsavedSeen
          + " step-ends with an unsaved set; "
          + servedUnsavedAfterRevoke
          + " unsaved sets served after a revoke; "
          + servedReadBeforeRevoke
          + " tokens read before a revoke returned after it; "
          + nestedGaveUp
          + " concurrent lease waits given up; "
          + reauthorizations
          + " re-authorization-required outcomes";
    }
  }

  final long seed;
  final boolean verbose;
  final SplittableRandom rng;
  final MutableClock clock = new MutableClock();
  final InMemoryTokenStore inner = new InMemoryTokenStore(clock);
  final SimStore store = new SimStore(this, inner);
  final SimPlatform platform = new SimPlatform(this);
  final Conn[] conns = new Conn[IDS.length];
  final Stats stats = new Stats();
  private final List<SimInstance> live = new ArrayList<>();
  private final PriorityQueue<SimScheduler.Task> timeline = new PriorityQueue<>();
  private final List<PendingAuth> auths = new ArrayList<>();
  private final Deque<String> trace = new ArrayDeque<>();
  private long seq;
  private int nextInstance;
  private @Nullable SimInstance current;
  private @Nullable SimInstance crashTarget;
  private int crashCountdown;
  private int nesting;
  private int step;
  private long fingerprint = 17;
  private @Nullable String violation;
  private double storeFaultRate;
  private long storeWeatherUntil;
  private double p5xx;
  private double pLostRequest;
  private double pLostAnswer;
  private double pInvalidGrant;
  private long providerWeatherUntil;

  SimWorld(long seed, boolean verbose) {
    this.seed = seed;
    this.verbose = verbose;
    this.rng = new SplittableRandom(seed);
    for (int i = 0; i < IDS.length; i++) {
      conns[i] = new Conn(IDS[i], seed, i);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Running

  /** Runs {@code steps} steps; returns the first invariant violation, or null. */
  @Nullable String run(int steps) {
    while (live.size() < MIN_INSTANCES) {
      spawn();
    }
    for (Conn c : conns) {
      if (rng.nextInt(100) < 85) {
        connect(randomLive(), c.id);
      }
    }
    checkInvariants();
    for (step = 1; step <= steps && violation == null; step++) {
      stats.steps++;
      step();
      if (violation == null && rng.nextBoolean()) {
        runTasksUntil(clock.millis());
      }
      platform.processDue();
      for (SimInstance i : new ArrayList<>(live)) {
        if (!i.alive()) {
          live.remove(i);
        }
      }
      while (live.size() < MIN_INSTANCES) {
        spawn();
      }
      if (violation == null) {
        checkInvariants();
      }
    }
    return violation;
  }

  long fingerprint() {
    return fingerprint;
  }

  int failedStep() {
    return step;
  }

  String recentTrace() {
    return String.join("\n", trace);
  }

  private void step() {
    advance(1); // every operation takes a little time
    int roll = rng.nextInt(1000);
    if ((roll -= 280) < 0) {
      access(randomLive(), randomId());
    } else if ((roll -= 70) < 0) {
      refresh(randomLive(), randomId());
    } else if ((roll -= 40) < 0) {
      keepAlive(randomLive());
    } else if ((roll -= 40) < 0) {
      health(randomLive(), randomId());
    } else if ((roll -= 30) < 0) {
      startAuthorization(randomLive(), randomId());
    } else if ((roll -= 40) < 0) {
      completeAuthorization();
    } else if ((roll -= 15) < 0) {
      revoke(randomLive(), randomId());
    } else if ((roll -= 40) < 0) {
      reconnectDead();
    } else if ((roll -= 110) < 0) {
      jump(1_000 + rng.nextInt(20_000));
    } else if ((roll -= 70) < 0) {
      jump(30_000 + rng.nextInt(210_000));
    } else if ((roll -= 30) < 0) {
      jump(300_000 + rng.nextInt(1_500_000));
    } else if ((roll -= 5) < 0) {
      jump(7_200_000L + rng.nextLong(100_000_000L));
    } else if ((roll -= 40) < 0) {
      note("run due work");
      runTasksUntil(clock.millis());
    } else if ((roll -= 35) < 0) {
      storeWeather();
    } else if ((roll -= 35) < 0) {
      providerWeather();
    } else if ((roll -= 8) < 0) {
      forget(randomConn());
    } else if ((roll -= 20) < 0) {
      backup(randomConn());
    } else if ((roll -= 8) < 0) {
      rollback(randomConn());
    } else if ((roll -= 8) < 0) {
      restart(randomLive());
    } else if ((roll -= 6) < 0) {
      SimInstance i = randomLive();
      crash(i, "while idle");
    } else {
      access(randomLive(), randomId());
    }
  }

  /** Another instance acts while {@code outer}'s provider request is in flight. */
  void maybeConcurrently(SimInstance outer, String where) {
    if (nesting > 0 || rng.nextInt(100) >= CONCURRENT_PERCENT) {
      return;
    }
    List<SimInstance> others = new ArrayList<>();
    for (SimInstance i : live) {
      if (i != outer && i.alive()) {
        others.add(i);
      }
    }
    if (others.isEmpty()) {
      return;
    }
    SimInstance other = others.get(rng.nextInt(others.size()));
    stats.concurrent++;
    nesting++;
    try {
      note("  [" + other.name + " acts " + where + " (" + outer.name + ")]");
      int roll = rng.nextInt(100);
      if ((roll -= 25) < 0) {
        access(other, randomId());
      } else if ((roll -= 15) < 0) {
        refresh(other, randomId());
      } else if ((roll -= 20) < 0) {
        connect(other, randomId());
      } else if ((roll -= 12) < 0) {
        revoke(other, randomId());
      } else if ((roll -= 8) < 0) {
        health(other, randomId());
      } else if ((roll -= 5) < 0) {
        keepAlive(other);
      } else if ((roll -= 10) < 0) {
        jump(1 + rng.nextInt(3_000));
      } else if ((roll -= 3) < 0) {
        forget(randomConn());
      } else if ((roll -= 2) < 0) {
        rollback(randomConn());
      } else {
        note("  run due work");
        runTasksUntil(clock.millis());
      }
      note("  [" + outer.name + "'s request goes on]");
      requestTakesTime(); // the rest of the request is later than anything done meanwhile
    } finally {
      nesting--;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Operations

  private void access(SimInstance i, ConnectionId id) {
    perform(
        i,
        "accessToken " + id,
        true,
        () -> {
          // A cache read is lock-free: the call returns the token it found when it began, even
          // if something concurrent with it (here, another instance's revoke inside the STALE
          // renewal it started) happened before it returns.
          CachedToken atStart = i.alive() ? i.conn(id).hot : null;
          long startSeq = seq;
          String t = i.broker.accessToken(id);
          served(i, id, t, atStart != null ? atStart.accessToken() : null, startSeq);
          return "served " + t;
        });
  }

  private void refresh(SimInstance i, ConnectionId id) {
    perform(
        i,
        "refresh " + id,
        true,
        () -> {
          i.explicitRefresh = true;
          try {
            TokenSet s = i.broker.refresh(id);
            served(i, id, s.accessToken());
            return "refreshed: " + s.accessToken() + " v" + s.version();
          } finally {
            i.explicitRefresh = false;
          }
        });
  }

  private void keepAlive(SimInstance i) {
    perform(i, "keepAlive", true, () -> "renewed " + i.broker.keepAlive());
  }

  private void health(SimInstance i, ConnectionId id) {
    perform(
        i,
        "health " + id,
        true,
        () -> {
          Health h = i.broker.health(id);
          checkHealth(conn(id), h.state(), h.reasonCode(), i.name + "'s health()");
          if (h.unsaved() && i.unsaved(id) == null) {
            violation(i.name + "'s health() says unsaved but it holds no unsaved set");
          }
          return h.state() + (h.reasonCode() == null ? "" : " " + h.reasonCode());
        });
  }

  private void startAuthorization(SimInstance i, ConnectionId id) {
    perform(
        i,
        "startAuthorization " + id,
        true,
        () -> {
          AuthorizationRequest r = i.broker.startAuthorization(id);
          String code = platform.approve(r.state());
          auths.removeIf(a -> a.inst == i && a.id.equals(id));
          auths.add(new PendingAuth(i, id, r, code));
          return "approved as " + code;
        });
  }

  private void completeAuthorization() {
    auths.removeIf(a -> !a.inst.alive());
    if (auths.isEmpty()) {
      access(randomLive(), randomId());
      return;
    }
    PendingAuth a = auths.remove(rng.nextInt(auths.size()));
    complete(a);
  }

  private void complete(PendingAuth a) {
    perform(
        a.inst,
        "completeAuthorization " + a.id + " with " + a.code,
        true,
        () -> {
          TokenSet s =
              a.inst.broker.completeAuthorization(
                  a.id,
                  "https://app.example/callback?code=" + a.code + "&state=" + a.request.state());
          SimPlatform.Access at = platform.accessTokens.get(s.accessToken());
          if (at != null) {
            authorized(s, false);
            Conn c = conn(a.id);
            c.currentChain = at.chain;
            if (c.revokedSeq >= 0 && c.reconnectedSeq < c.revokedSeq) {
              c.reconnectedSeq = nextSeq();
            }
          }
          served(a.inst, a.id, s.accessToken());
          return "authorized: chain " + (at == null ? "?" : at.chain.no) + " v" + s.version();
        });
  }

  /** Start, approve and complete at once (a person quick at the browser). */
  private void connect(SimInstance i, ConnectionId id) {
    startAuthorization(i, id);
    for (PendingAuth a : auths) {
      if (a.inst == i && a.id.equals(id)) {
        auths.remove(a);
        if (i.alive()) {
          complete(a);
        }
        return;
      }
    }
  }

  /** A person reconnects a connection that needs one (the store holds no live set for it). */
  private void reconnectDead() {
    List<ConnectionId> dead = new ArrayList<>();
    for (Conn c : conns) {
      StoredConnection s = inner.read(c.id);
      HealthRecord h = s.health();
      if (s.tokens() == null || (h != null && h.state() == Health.State.REAUTHORIZATION_REQUIRED)) {
        dead.add(c.id);
      }
    }
    if (dead.isEmpty()) {
      access(randomLive(), randomId());
    } else {
      connect(randomLive(), dead.get(rng.nextInt(dead.size())));
    }
  }

  private void revoke(SimInstance i, ConnectionId id) {
    perform(
        i,
        "revoke " + id,
        true,
        () -> {
          conn(id).revokeAttempted = true;
          i.broker.revoke(id);
          Conn c = conn(id);
          c.revokedSeq = nextSeq();
          c.revoker = i;
          c.hotAtRevoke.clear();
          for (SimInstance j : live) {
            CachedToken hot = j.alive() ? j.conn(id).hot : null;
            if (hot != null) {
              c.hotAtRevoke.put(j, hot.accessToken());
            }
          }
          return "revoked";
        });
  }

  private void jump(long millis) {
    note("time +" + Duration.ofMillis(millis));
    advance(millis);
  }

  private void storeWeather() {
    int r = rng.nextInt(10);
    storeFaultRate = r < 4 ? 0 : r < 6 ? 0.03 : r < 8 ? 0.15 : r < 9 ? 0.4 : 1.0;
    storeWeatherUntil = clock.millis() + 5_000 + rng.nextInt(180_000);
    note(
        "store fault rate " + storeFaultRate + " until " + Instant.ofEpochMilli(storeWeatherUntil));
  }

  private void providerWeather() {
    int r = rng.nextInt(10);
    if (r < 3) {
      p5xx = pLostRequest = pLostAnswer = pInvalidGrant = 0;
    } else if (r < 7) {
      p5xx = 0.1;
      pLostRequest = 0.05;
      pLostAnswer = 0.08;
      pInvalidGrant = 0.01;
    } else if (r < 9) {
      p5xx = 0.25;
      pLostRequest = 0.1;
      pLostAnswer = 0.2;
      pInvalidGrant = 0.03;
    } else {
      p5xx = 1.0;
      pLostRequest = pLostAnswer = pInvalidGrant = 0;
    }
    providerWeatherUntil = clock.millis() + 5_000 + rng.nextInt(180_000);
    note(
        "provider faults 5xx="
            + p5xx
            + " lostRequest="
            + pLostRequest
            + " lostAnswer="
            + pLostAnswer
            + " invalidGrant="
            + pInvalidGrant
            + " until "
            + Instant.ofEpochMilli(providerWeatherUntil));
  }

  private void forget(Conn c) {
    inner.forget(c.id);
    dataLost(c, "store forgot " + c.id);
  }

  private void backup(Conn c) {
    StoredConnection s = inner.read(c.id);
    c.backups.add(s);
    if (c.backups.size() > 4) {
      c.backups.remove(0);
    }
    note("backup of " + c.id + " at v" + s.version());
  }

  /** The store comes back from an older copy of the connection's record (its lease table stays). */
  private void rollback(Conn c) {
    if (c.backups.isEmpty()) {
      return;
    }
    StoredConnection old = c.backups.get(rng.nextInt(c.backups.size()));
    inner.forget(c.id);
    if (old.tokens() != null) {
      inner.restore(c.id, old.tokens());
    }
    if (old.health() != null) {
      // forget keeps the health version (see there): the old record comes back above it.
      inner.compareAndSetHealth(c.id, inner.read(c.id).healthVersion(), old.health());
    }
    if (old.tombstone() != null) {
      var lease = inner.seizeLease(c.id, "sim-restore", Duration.ofSeconds(1), 0);
      inner.tombstone(c.id, old.tombstone(), lease);
      inner.releaseLease(lease);
    }
    dataLost(c, "store rolled " + c.id + " back to v" + old.version());
  }

  private void dataLost(Conn c, String what) {
    c.dataLoss = true;
    c.lastDataLossSeq = nextSeq();
    c.maxVersion = 0;
    note(what);
  }

  private void restart(SimInstance i) {
    perform(
        i,
        "close",
        false,
        () -> {
          i.broker.close();
          return "closed";
        });
    i.closed = true;
    i.scheduler.shutdown();
  }

  private void spawn() {
    SimInstance i = new SimInstance(this, nextInstance++);
    live.add(i);
    note("start " + i.name);
  }

  /** Runs one operation of {@code i} and checks how it ended. */
  private void perform(SimInstance i, String what, boolean mayCrash, Supplier<String> op) {
    if (!i.alive()) {
      return;
    }
    SimInstance previous = current;
    current = i;
    boolean armed = false;
    if (mayCrash && nesting == 0 && rng.nextInt(100) < CRASH_PERCENT) {
      crashTarget = i;
      crashCountdown = 1 + rng.nextInt(8);
      armed = true;
    }
    String outcome;
    try {
      outcome = op.get();
    } catch (Throwable t) {
      outcome = failed(i, t);
    } finally {
      current = previous;
      if (armed) {
        crashTarget = null;
      }
      // A concurrent operation that gave up its lease wait (see leasePause) left the flag set.
      Thread.interrupted();
    }
    note((nesting > 0 ? "  " : "") + i.name + " " + what + " -> " + outcome);
  }

  private String failed(SimInstance i, Throwable t) {
    if (i.dead) {
      return "crashed";
    }
    if (t instanceof ReauthorizationRequiredException) {
      Health h = ((ReauthorizationRequiredException) t).health();
      stats.reauthorizations++;
      ConnectionId id = ((ReauthorizationRequiredException) t).connection();
      if (id != null) {
        checkHealth(conn(id), h.state(), h.reasonCode(), i.name + "'s exception");
        if (("store-lost-record".equals(h.reasonCode()) || "not-authorized".equals(h.reasonCode()))
            && i.conn(id).newest() != null) {
          violation(
              i.name
                  + " gives "
                  + id
                  + " up as "
                  + h.reasonCode()
                  + " while it holds a token set the store lost: it must write it back");
        }
      }
      return "REAUTHORIZATION_REQUIRED " + h.reasonCode();
    }
    if (t instanceof TokenBrokerException) {
      Throwable cause = t.getCause();
      if (cause != null
          && !(cause instanceof TokenBrokerException)
          && !(cause instanceof SimCrash)
          && !(cause instanceof InterruptedException)) {
        violation(i.name + ": unexpected failure inside the engine: " + stackTrace(cause));
      }
      if (t instanceof TokenUnavailableException) {
        Health h = ((TokenUnavailableException) t).health();
        return "unavailable (" + h.state() + " " + h.reasonCode() + ")";
      }
      return t.getClass().getSimpleName();
    }
    violation(i.name + ": unexpected exception " + stackTrace(t));
    return "unexpected " + t;
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  // ------------------------------------------------------------------------------------------
  // Time and timed work

  /** The lease-wait hook: a wait lets fake time pass (and timed work run), never real time. */
  void leasePause(long millis) throws InterruptedException {
    if (nesting > 0) {
      // An operation running while another instance's request is in flight must not let that
      // request take longer than its lease: it gives up its wait instead.
      stats.nestedGaveUp++;
      throw new InterruptedException("concurrent operation gives up its lease wait");
    }
    advance(millis);
  }

  private void advance(long millis) {
    long target = clock.millis() + millis;
    runTasksUntil(target);
    if (clock.millis() < target) {
      clock.set(Instant.ofEpochMilli(target));
    }
  }

  SimScheduler.Task enqueue(SimScheduler s, long delayMillis, Runnable body) {
    SimScheduler.Task t = new SimScheduler.Task(s, clock.millis() + delayMillis, nextSeq(), body);
    timeline.add(t);
    return t;
  }

  private void runTasksUntil(long limit) {
    int ran = 0;
    SimScheduler.Task t;
    while (violation == null && (t = timeline.peek()) != null && t.due <= limit) {
      timeline.poll();
      SimInstance owner = t.scheduler.owner;
      if (t.cancelled || t.scheduler.shutdown || !owner.alive()) {
        continue;
      }
      if (++ran > 100_000) {
        violation("timed work keeps rescheduling itself without end");
        return;
      }
      if (t.due > clock.millis()) {
        clock.set(Instant.ofEpochMilli(t.due));
      }
      t.done = true;
      SimInstance previous = current;
      current = owner;
      try {
        t.body.run();
      } catch (Throwable e) {
        if (!owner.dead) {
          violation(owner.name + ": a scheduled task failed: " + stackTrace(e));
        }
      } finally {
        current = previous;
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Hooks for the store and the platform

  long nextSeq() {
    return ++seq;
  }

  SimInstance caller() {
    if (current == null) {
      throw new IllegalStateException("a store call outside any instance");
    }
    return current;
  }

  /**
   * Called at every store or provider call of {@code caller}: throws {@link SimCrash} if it has
   * crashed or crashes now, before the call; returns true if it is to crash right after the call
   * takes effect.
   */
  boolean enterCall(SimInstance caller, String what) {
    if (caller.dead) {
      throw new SimCrash("(already crashed) at " + what);
    }
    if (caller == crashTarget && --crashCountdown == 0) {
      crashTarget = null;
      if (rng.nextBoolean()) {
        throw crash(caller, "before " + what);
      }
      return true;
    }
    return false;
  }

  SimCrash crash(SimInstance i, String where) {
    if (!i.dead) {
      i.dead = true;
      stats.crashes++;
      note(i.name + " CRASHES " + where);
    }
    return new SimCrash(where);
  }

  StoreFault storeFault(ConnectionId id, boolean write) {
    if (clock.millis() >= storeWeatherUntil || storeFaultRate == 0) {
      return StoreFault.NONE;
    }
    Conn c = conn(id);
    if (c.storeRng.nextDouble() >= storeFaultRate) {
      return StoreFault.NONE;
    }
    stats.storeFaults++;
    return write && c.storeRng.nextBoolean() ? StoreFault.FAIL_AFTER : StoreFault.FAIL_BEFORE;
  }

  ProviderFault providerFault(ConnectionId id) {
    if (clock.millis() >= providerWeatherUntil) {
      return ProviderFault.NONE;
    }
    double r = conn(id).providerRng.nextDouble();
    ProviderFault f;
    if ((r -= p5xx) < 0) {
      f = ProviderFault.UNAVAILABLE;
    } else if ((r -= pLostRequest) < 0) {
      f = ProviderFault.LOST_REQUEST;
    } else if ((r -= pLostAnswer) < 0) {
      f = ProviderFault.LOST_ANSWER;
    } else if ((r -= pInvalidGrant) < 0) {
      f = ProviderFault.INVALID_GRANT;
    } else {
      return ProviderFault.NONE;
    }
    stats.providerFaults++;
    if (f == ProviderFault.LOST_REQUEST) {
      conn(id).sawOutcomeUnknown = true;
    }
    return f;
  }

  void readFromStore(ConnectionId id, StoredConnection s) {
    if (s.tokens() == null && s.tombstone() == null) {
      conn(id).sawEmptyRead = true;
    }
  }

  /** A chain's authorization took effect: it completed, or ({@code stored}) the store took it. */
  void authorized(TokenSet tokens, boolean stored) {
    SimPlatform.Access a = platform.accessTokens.get(tokens.accessToken());
    if (a == null) {
      return;
    }
    if (a.chain.authorizedSeq < 0) {
      a.chain.authorizedSeq = nextSeq();
    }
    if (stored && a.chain.storedSeq < 0) {
      a.chain.storedSeq = nextSeq();
    }
  }

  void tombstoned(ConnectionId id) {
    conn(id).lastTombstoneSeq = nextSeq();
  }

  /**
   * A platform request takes a millisecond: nothing at the platform happens at the same instant.
   */
  void requestTakesTime() {
    clock.advance(Duration.ofMillis(1));
  }

  /**
   * Whether the store lost data of {@code id} since {@code seq} (what was recorded may be gone).
   */
  boolean dataLostSince(ConnectionId id, long seq) {
    return conn(id).lastDataLossSeq > seq;
  }

  /** Whether a request the network lost is only slow (processed later by the platform). */
  boolean slowRequest(ConnectionId id) {
    return conn(id).providerRng.nextBoolean();
  }

  long slowDelayMillis(ConnectionId id) {
    return conn(id).providerRng.nextInt(4_000);
  }

  void cutShortReported(ConnectionId id) {
    conn(id).sawCutShort = true;
  }

  void permanentAnswer(ConnectionId id) {
    conn(id).sawPermanent = true;
  }

  void lostAnswer(ConnectionId id, SimPlatform.@Nullable Refresh issued) {
    conn(id).sawOutcomeUnknown = true;
    stats.lostAnswers++;
    note(
        "  (the answer is lost"
            + (issued == null ? "" : ": " + issued.value + " never arrives")
            + ")");
  }

  /**
   * Invariant 1, checked as the platform receives a refresh: a refresh token that a rotation
   * already killed is sent only as the one deliberate retry after an unknown outcome (the sender's
   * health says rotation-outcome-unknown), by an explicit refresh of a connection already known to
   * need re-authorization, or after the store lost data.
   */
  void refreshSent(SimInstance sender, ConnectionId id, SimPlatform.Refresh sent) {
    if (sent.successor == null) {
      if (sent.chain.revoked) {
        stats.revokedSends++;
      } else if (!clock.instant().isBefore(sent.expiresAt)) {
        stats.expiredSends++;
      }
      return;
    }
    Conn c = conn(id);
    if (c.lastDataLossSeq > sent.issuedSeq) {
      // The store lost data while this token lived: what the engine recorded about it (health,
      // lease marker, the newer set) may be gone with it.
      stats.deadAfterDataLoss++;
      return;
    }
    HealthRecord h = sender.conn(id).health();
    if (h != null
        && h.state() == Health.State.DEGRADED
        && "rotation-outcome-unknown".equals(h.reason())) {
      stats.deliberateRetries++;
      // Another one is allowed only if nobody could know the previous one was made: its sender
      // crashed before recording the answer, or it is another instance and the store never took
      // the verdict (its health write failed).
      SimInstance previous = sent.deliberateSender;
      HealthRecord stored = inner.read(id).health();
      boolean verdictStored =
          stored != null && stored.state() == Health.State.REAUTHORIZATION_REQUIRED;
      boolean unknowable =
          previous != null && (!previous.alive() || (previous != sender && !verdictStored));
      sent.deliberateSender = sender;
      if (++sent.deliberateSends > 1 && !unknowable) {
        violation(
            sender.name
                + " sent "
                + sent
                + " as a deliberate retry after an unknown outcome, but that retry was made"
                + " already");
      }
      return;
    }
    if (h != null && h.state() == Health.State.REAUTHORIZATION_REQUIRED && sender.explicitRefresh) {
      stats.explicitOnDead++;
      return;
    }
    violation(
        sender.name
            + " sent refresh token "
            + sent
            + ", already killed by a rotation, with no unknown outcome reported (its health: "
            + (h == null ? "ACTIVE" : h.state() + " " + h.reason())
            + ")");
  }

  void onEvent(SimInstance i, TokenEvent e) {
    if (i.dead) {
      return;
    }
    long s = nextSeq();
    Conn c = conn(e.connection());
    if (e.type() == TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN) {
      c.lastUnknownReportSeq = s;
    }
    if (verbose) {
      note("    event " + i.name + " " + e.type() + " " + e.connection() + ": " + e.message());
      if (e.error() != null && System.getProperty("tokenbroker.sim.trace.errors") != null) {
        note(stackTrace(e.error()));
      }
    }
  }

  void violation(String what) {
    if (violation == null) {
      violation = "step " + step + ": " + what;
      note("VIOLATION " + what);
      if (verbose) {
        note(stackTrace(new Throwable("where the violation was seen")));
      }
    }
  }

  void note(String line) {
    String l = "#" + step + " " + Instant.ofEpochMilli(clock.millis()) + " " + line;
    fingerprint = fingerprint * 31 + l.hashCode();
    if (verbose) {
      System.out.println(l);
    }
    trace.addLast(l);
    if (trace.size() > 150) {
      trace.removeFirst();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Invariants

  /** Invariant 3, checked on every token handed out. */
  private void served(SimInstance i, ConnectionId id, String token) {
    served(i, id, token, null, Long.MAX_VALUE);
  }

  /**
   * As {@link #served(SimInstance, ConnectionId, String)}, for a call that found {@code
   * cachedAtStart} in its instance's cache when it began, at sequence number {@code startSeq}: if a
   * revoke happened during the call, that token is one it may return (the call read it before).
   */
  private void served(
      SimInstance i, ConnectionId id, String token, @Nullable String cachedAtStart, long startSeq) {
    stats.served++;
    UnsavedSet unsaved = i.unsaved(id);
    if (unsaved != null) {
      i.heldUnsaved.add(unsaved.set.accessToken());
    }
    SimPlatform.Access a = platform.accessTokens.get(token);
    if (a == null || !a.chain.id.equals(id)) {
      violation(i.name + " served an access token the platform never issued for " + id);
      return;
    }
    if (!clock.instant().isBefore(a.expiresAt)) {
      violation(i.name + " served an expired access token for " + id);
    }
    Conn c = conn(id);
    if (c.revokedSeq >= 0
        && authorizedBefore(a.chain, c.revokedSeq)
        && !savedAfterReconnect(c, a.chain)
        && c.lastDataLossSeq < c.revokedSeq) {
      if (i.heldUnsaved.contains(token)) {
        // A set it could not save (the store failed, so it could not know of the revoke): served
        // from its cache like any cached token, while the store never takes it.
        stats.servedUnsavedAfterRevoke++;
      } else if (i == c.revoker) {
        violation(i.name + " served " + token + " for " + id + " after revoking it");
      } else if (token.equals(cachedAtStart) && c.revokedSeq > startSeq) {
        stats.servedReadBeforeRevoke++; // read before the revoke, returned after it
      } else if (!token.equals(c.hotAtRevoke.get(i))) {
        violation(
            i.name
                + " served "
                + token
                + " of chain "
                + a.chain.no
                + " for "
                + id
                + " after it was revoked, and it is not the token it had cached then");
      }
    }
  }

  /** Invariant 2 for one observed state. */
  private void checkHealth(Conn c, Health.State state, @Nullable String reason, String where) {
    if (state == Health.State.DEGRADED) {
      if (reason == null || !DEGRADED_REASONS.contains(reason)) {
        violation(where + ": DEGRADED for an unknown reason " + reason + " on " + c.id);
      }
      return;
    }
    if (state != Health.State.REAUTHORIZATION_REQUIRED) {
      return;
    }
    boolean justified;
    switch (reason == null ? "" : reason) {
      case "refresh-token-rejected":
        justified = c.sawPermanent;
        break;
      case "rotation-outcome-unknown":
        justified = c.sawOutcomeUnknown || c.sawCutShort;
        break;
      case "revoked":
      case "unlinked":
        justified = c.revokeAttempted;
        break;
      case "not-authorized":
        justified = c.sawEmptyRead;
        break;
      case "store-lost-record":
        justified = c.dataLoss;
        break;
      default:
        justified = false;
    }
    if (!justified) {
      violation(
          where
              + ": "
              + c.id
              + " is REAUTHORIZATION_REQUIRED ("
              + reason
              + ") with no cause for it: the platform never said so, no answer was lost, no"
              + " renewal was cut short, it was not revoked, the store lost nothing");
    }
  }

  private void checkInvariants() {
    for (Conn c : conns) {
      StoredConnection s = inner.read(c.id);
      TokenSet t = s.tokens();
      if (t != null) {
        if (t.version() < c.maxVersion) {
          violation("stored version of " + c.id + " went back to " + t.version());
        }
        c.maxVersion = Math.max(c.maxVersion, t.version());
      }
      if (s.health() != null) {
        checkHealth(c, s.health().state(), s.health().reason(), "the stored health record");
      }
      if (verbose && System.getProperty("tokenbroker.sim.trace.health") != null) {
        note("    store " + c.id + " v" + s.version() + " health " + s.health());
      }
      for (SimInstance i : live) {
        if (i.alive()) {
          HealthRecord h = i.conn(c.id).health();
          if (h != null) {
            checkHealth(c, h.state(), h.reason(), i.name + "'s view");
          }
        }
      }
      for (SimInstance i : live) {
        UnsavedSet p = i.alive() ? i.unsaved(c.id) : null;
        if (p != null) {
          i.heldUnsaved.add(p.set.accessToken());
        }
      }
      boolean unsaved = anyUnsaved(c.id);
      if (unsaved) {
        stats.unsavedSeen++;
      }
      if (t == null) {
        SimPlatform.Chain cur = c.currentChain;
        if (s.tombstone() != null
            && cur != null
            && cur.authorizedSeq > c.lastTombstoneSeq
            && !unsaved
            && cur.authorizedBy.alive()
            && c.lastDataLossSeq < cur.authorizedSeq
            // a revoke asked for it and the platform revoked that chain: a tombstone is right,
            // even the older one when the new one could not be written (seed 22186)
            && !(cur.revoked && c.revokeAttempted)) {
          violation(
              "the store holds the tombstone of "
                  + c.id
                  + " although chain "
                  + cur.no
                  + " was authorized after it and is not held unsaved");
        }
        continue;
      }
      SimPlatform.Refresh r = platform.refreshTokens.get(t.refreshToken());
      if (r == null || !r.chain.id.equals(c.id)) {
        violation("the store holds a refresh token the platform never issued for " + c.id);
        continue;
      }
      // Invariant 3: a revoked connection stays revoked in the store.
      if (c.revokedSeq >= 0
          && authorizedBefore(r.chain, c.revokedSeq)
          && !savedAfterReconnect(c, r.chain)
          && c.lastDataLossSeq < c.revokedSeq) {
        violation(
            "the store holds chain " + r.chain.no + " of " + c.id + " again after it was revoked");
      }
      // Invariant 4: the stored set is the platform's live one, or the divergence is reported.
      if (r.successor != null && !unsaved) {
        SimPlatform.Refresh next = r.successor;
        boolean explained =
            (next.delivery == SimPlatform.Delivery.LOST && c.lastUnknownReportSeq > next.requestSeq)
                || next.delivery == SimPlatform.Delivery.CRASHED
                || !next.issuedTo.alive()
                || c.lastDataLossSeq > next.issuedSeq
                || knownDead(s.health())
                // Revoked at the platform by a revoke whose tombstone the store refused: its
                // caller was told (the stored set is dead, run revoke again).
                || (r.chain.revoked && c.revokeAttempted);
        if (!explained) {
          violation(
              "the store holds "
                  + r
                  + " for "
                  + c.id
                  + ", which the platform killed: the live set is neither stored nor held"
                  + " unsaved by any instance, and no unknown outcome or store loss was reported");
        }
      }
      SimPlatform.Chain cur = c.currentChain;
      if (cur != null
          && r.chain != cur
          && r.chain.authorizedSeq >= 0
          && r.chain.authorizedSeq < cur.authorizedSeq
          && r.chain.storedSeq < cur.storedSeq
          && !unsaved
          && cur.authorizedBy.alive()
          && c.lastDataLossSeq < cur.authorizedSeq) {
        violation(
            "the store holds chain "
                + r.chain.no
                + " of "
                + c.id
                + ", older than chain "
                + cur.no
                + " of an authorization that completed and is not held unsaved");
      }
    }
  }

  /**
   * An authorization that completed before the revoke but could not be saved, first saved after a
   * new authorization had reopened the connection: of two authorizations, the one saved last wins
   * (no store write tells the engine which completed first once the tombstone is gone).
   */
  private static boolean savedAfterReconnect(Conn c, SimPlatform.Chain chain) {
    return c.reconnectedSeq > c.revokedSeq && chain.storedSeq > c.reconnectedSeq;
  }

  /** Whether {@code chain}'s authorization took effect before {@code seq}. */
  private static boolean authorizedBefore(SimPlatform.Chain chain, long seq) {
    return (chain.authorizedSeq >= 0 ? chain.authorizedSeq : chain.issuedSeq) < seq;
  }

  private static boolean knownDead(@Nullable HealthRecord h) {
    return h != null
        && (h.state() == Health.State.REAUTHORIZATION_REQUIRED
            || "rotation-outcome-unknown".equals(h.reason()));
  }

  private boolean anyUnsaved(ConnectionId id) {
    for (SimInstance i : live) {
      if (i.alive() && i.unsaved(id) != null) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------

  Conn conn(ConnectionId id) {
    for (Conn c : conns) {
      if (c.id.equals(id)) {
        return c;
      }
    }
    throw new IllegalArgumentException(String.valueOf(id));
  }

  private Conn randomConn() {
    return conns[rng.nextInt(conns.length)];
  }

  private ConnectionId randomId() {
    return IDS[rng.nextInt(IDS.length)];
  }

  private SimInstance randomLive() {
    List<SimInstance> alive = new ArrayList<>();
    for (SimInstance i : live) {
      if (i.alive()) {
        alive.add(i);
      }
    }
    if (alive.isEmpty()) {
      spawn();
      return live.get(live.size() - 1);
    }
    return alive.get(rng.nextInt(alive.size()));
  }
}
