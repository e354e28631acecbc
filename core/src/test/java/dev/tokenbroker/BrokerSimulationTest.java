package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A deterministic, seeded simulation of several broker instances sharing one store and one
 * platform, with faults everywhere, checking invariants after every step.
 *
 * <h2>What is simulated</h2>
 *
 * <ul>
 *   <li>At least three {@link TokenBroker} instances ({@link SimInstance}, distinct instance ids)
 *       over one {@link dev.tokenbroker.store.InMemoryTokenStore} behind one fault-injecting {@link
 *       dev.tokenbroker.store.ForwardingTokenStore} ({@link SimStore}), one rotating-refresh
 *       platform ({@link SimPlatform}) and one {@link MutableClock}; two connections.
 *   <li>Renewals run inline on the calling thread ({@code executor(Runnable::run)}); keep-alive is
 *       an operation ({@code withoutKeepAlive()}); a lease wait lets fake time pass ({@code
 *       leasePause}); the durable saver's retries run on a timeline of fake time ({@code
 *       scheduler}, a package-private builder hook), when time passes or the step runs due work;
 *       backoff jitter is seeded. Every step takes at least a millisecond, every platform request
 *       one more. Nothing sleeps, nothing touches the network, one thread runs everything.
 *   <li>Operations, picked by a seeded random scheduler: {@code accessToken}, {@code refresh},
 *       {@code keepAlive}, {@code health}, {@code startAuthorization} then {@code
 *       completeAuthorization} (a person approves at the platform in between, PKCE checked), a
 *       person reconnecting a dead connection, {@code revoke}, clock jumps (a second to a day:
 *       lease, access token and refresh token expiry), running due timed work, an orderly restart
 *       of an instance, and an idle instance dropped.
 *   <li>Store faults: a "weather" of failing calls for a while (a read fails; a write fails before
 *       it takes effect, or takes effect and still reports failure: the reply was lost), a record
 *       forgotten ({@code InMemoryTokenStore.forget}, as a store restarted empty), a record rolled
 *       back to an older backup.
 *   <li>Platform faults: 503s (nothing processed), requests lost before processing and answers lost
 *       after it (both OUTCOME_UNKNOWN; a lost answer has rotated the refresh token; half the
 *       "lost" requests are only slow, and the platform processes them up to 4 s later), spurious
 *       {@code invalid_grant}s. A refresh with a dead refresh token (rotated away, revoked,
 *       expired) is answered {@code invalid_grant}, PERMANENT; {@code exchangeCode} starts a new
 *       chain; a revocation kills the chain of the access token it is given.
 *   <li>Concurrency: while a platform request is in flight, before or after the platform processes
 *       it, another instance may run an operation (connect, revoke, refresh, a store loss, …). It
 *       never waits for a lease (it gives up at once), so the request in flight never outlives its
 *       lease.
 *   <li>Crashes: an operation may crash its instance at one of its next store or platform calls,
 *       before or after the call takes effect: a platform call that never returns, a process gone
 *       before it saved. The instance is abandoned, never closed ({@link SimCrash} unwinds it past
 *       every clean-up), and a fresh one takes its place.
 * </ul>
 *
 * <h2>Invariants</h2>
 *
 * Checked after every step, invariant 1 also as the platform processes each refresh, invariant 3 on
 * every token handed out. "Killed" means rotated away by an earlier refresh the platform processed;
 * "the store lost data" means a forgotten or rolled-back record of that connection.
 *
 * <ol>
 *   <li><b>No killed refresh token is sent</b> (a request the platform processed), except (a) as
 *       the one deliberate retry after an unknown outcome: the sender's health then says DEGRADED
 *       {@code rotation-outcome-unknown}, and each killed token is sent so at most once — again
 *       only by another instance, when the one that sent it could not record the verdict (it
 *       crashed, or the store refused the health record, so nobody else can know); (b) by an
 *       explicit {@code refresh} of a connection its sender already knows needs re-authorization;
 *       (c) after the store lost data while that token lived (what the engine recorded about it may
 *       be gone). Each send is counted by cause; sends of revoked or expired refresh tokens are
 *       counted only.
 *   <li><b>No connection goes REAUTHORIZATION_REQUIRED without a cause</b> — in an exception, a
 *       {@code health()} result, the stored health record or any instance's view: {@code
 *       refresh-token-rejected} needs a PERMANENT answer from the platform; {@code
 *       rotation-outcome-unknown} an OUTCOME_UNKNOWN answer or a lease granted over a cut-short
 *       renewal; {@code revoked} a revoke; {@code not-authorized} a store read that found nothing;
 *       {@code store-lost-record} a store that lost data. Any other reason fails; DEGRADED must
 *       carry one of the documented reasons. An instance that holds a token set never gives the
 *       connection up as {@code not-authorized} or {@code store-lost-record}: it writes it back.
 *   <li><b>A revoked connection is never served</b>: after {@code revoke} returns, until a new
 *       authorization, no token of a chain authorized before the revoke is handed out — except, on
 *       an instance other than the revoker, the very token it had cached at that moment (the hot
 *       tier is not invalidated across instances) or a set it held unsaved (its store failed: it
 *       cannot know yet) — and the store never holds such a chain again. Not checked after the
 *       store lost data since the revoke, nor for an authorization completed before the revoke
 *       whose save failed and which was first saved after a new authorization reopened the
 *       connection (of two authorizations, the one saved last wins).
 *   <li><b>The stored set is the platform's live one, or the divergence is reported</b>: if the
 *       stored refresh token was rotated away, then some running instance holds an unsaved set
 *       ({@code health.unsaved}), or the rotation's answer was lost and ROTATION_OUTCOME_UNKNOWN
 *       was emitted after it, or the instance it went to crashed or closed (the lease's renewal
 *       marker reports it to the next holder), or the store lost data since, or the stored health
 *       record already says so. The store holds the chain of the newest completed authorization or
 *       one saved after it, and no tombstone older than it, unless that authorization is held
 *       unsaved, died with its instance, or the store lost data since. Stored versions never go
 *       back without a store loss.
 * </ol>
 *
 * Also, as the platform receives a refresh: a live refresh token is never sent while an earlier
 * request with it may still be in process at the platform (a slow request whose caller saw
 * OUTCOME_UNKNOWN), unless the store lost data since.
 *
 * <p>Every operation must end in a value or a {@link TokenBrokerException} that is not a wrapped
 * engine bug; timed work must not fail.
 *
 * <h2>Running</h2>
 *
 * <p>By default {@value #DEFAULT_SEEDS} seeds of {@value #DEFAULT_STEPS} steps each, seeds {@code
 * 1..n}, with the engine's logging silenced. A failing seed is reported with its last steps and a
 * one-line replay command:
 *
 * <pre>
 * ./mvnw -B -o -q -pl core test -Dtest=BrokerSimulationTest -Dtokenbroker.sim.seed=&lt;n&gt;
 * </pre>
 *
 * which runs only that seed and prints every step and the engine's log (surefire puts them in
 * {@code core/target/surefire-reports/dev.tokenbroker.BrokerSimulationTest-output.txt}); add {@code
 * -Dtokenbroker.sim.trace.errors} for the stack trace of every event's error and {@code
 * -Dtokenbroker.sim.trace.health} for the stored health records after each step. {@code
 * -Dtokenbroker.sim.seeds=<count>} runs more seeds (a soak; {@code -Dtokenbroker.sim.first=<seed>}
 * starts it elsewhere than at seed 1), {@code -Dtokenbroker.sim.steps=<count>} longer runs. A run
 * is a pure function of its seed ({@link #aSeed_replaysExactly}).
 */
class BrokerSimulationTest {
  static final int DEFAULT_SEEDS = 2000;
  static final int DEFAULT_STEPS = 200;

  @Test
  void seededSimulation_keepsEveryInvariant() {
    String one = System.getProperty("tokenbroker.sim.seed");
    int steps = Integer.getInteger("tokenbroker.sim.steps", DEFAULT_STEPS);
    if (one != null && !one.isBlank()) {
      long seed = Long.parseLong(one.trim());
      SimWorld w = new SimWorld(seed, true);
      String v = w.run(steps);
      System.out.println(w.stats);
      assertThat(v).as("simulation seed " + seed).isNull();
      return;
    }
    int seeds = Integer.getInteger("tokenbroker.sim.seeds", DEFAULT_SEEDS);
    SimWorld.Stats total = new SimWorld.Stats();
    long started = System.nanoTime();
    try (SimQuietLogs quiet = new SimQuietLogs()) {
      long first = Long.getLong("tokenbroker.sim.first", 1L);
      for (long seed = first; seed < first + seeds; seed++) {
        SimWorld w = new SimWorld(seed, false);
        String v = w.run(steps);
        total.add(w.stats);
        if (v != null) {
          throw new AssertionError(
              "simulation seed "
                  + seed
                  + " broke an invariant at "
                  + v
                  + "\nreplay: ./mvnw -B -o -q -pl core test -Dtest=BrokerSimulationTest"
                  + " -Dtokenbroker.sim.seed="
                  + seed
                  + (steps == DEFAULT_STEPS ? "" : " -Dtokenbroker.sim.steps=" + steps)
                  + "\nlast steps:\n"
                  + w.recentTrace());
        }
      }
    }
    System.out.println(
        "simulation: "
            + seeds
            + " seeds of "
            + steps
            + " steps in "
            + (System.nanoTime() - started) / 1_000_000
            + " ms: "
            + total);
  }

  /**
   * Seeds beyond the default range that once broke an invariant in a soak, each fixed since (most
   * also have a forced test in {@link CrossInstanceEdgesTest} or {@link OutcomeUnknownTest}): they
   * run in every build. Seed 641504 was the check's own fault, not the engine's: a STALE read
   * returned the token it found when it began, after a revoke made during the renewal it started.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(
      longs = {
        5689, 8446, 10180, 11563, 14200, 16271, 16954, 19466, 24713, 25546, 29465, 50462, 54106,
        69353, 115250, 8062, 22186, 26465, 4930, 100333, 493522, 616730, 652613, 812716, 641504,
        1304382, 1389769, 1551872
      })
  void seedsThatOnceFailed_keepEveryInvariant(long seed) {
    try (SimQuietLogs quiet = new SimQuietLogs()) {
      SimWorld w = new SimWorld(seed, false);
      assertThat(w.run(DEFAULT_STEPS)).as("simulation seed " + seed).isNull();
    }
  }

  /** Like {@link #seedsThatOnceFailed_keepEveryInvariant}, for seeds found by 1,000-step soaks. */
  @ParameterizedTest(name = "seed {0}, 1000 steps")
  @ValueSource(longs = {14483})
  void longSeedsThatOnceFailed_keepEveryInvariant(long seed) {
    try (SimQuietLogs quiet = new SimQuietLogs()) {
      SimWorld w = new SimWorld(seed, false);
      assertThat(w.run(1000)).as("simulation seed " + seed + ", 1000 steps").isNull();
    }
  }

  @Test
  void aSeed_replaysExactly() {
    try (SimQuietLogs quiet = new SimQuietLogs()) {
      for (long seed = 1; seed <= 3; seed++) {
        SimWorld a = new SimWorld(seed, false);
        a.run(DEFAULT_STEPS);
        SimWorld b = new SimWorld(seed, false);
        b.run(DEFAULT_STEPS);
        assertThat(b.fingerprint()).as("trace of seed " + seed).isEqualTo(a.fingerprint());
        assertThat(b.recentTrace()).isEqualTo(a.recentTrace());
      }
    }
  }
}
