package dev.tokenbroker.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cluster test, for any store: three broker JVMs ({@link ClusterChild}) × 32 threads share the
 * store that the store settings describe, against a rotating-refresh-token emulator whose access
 * tokens live one second, for at least 15 expiries (26 periods). The refresh requests match the
 * expiries (within one), no token is renewed twice, no refresh token is used after its rotation (no
 * {@code invalid_grant}), no caller sees an error, and every renewal is saved before use (one store
 * version per refresh).
 *
 * <p>The children inherit the caller's class path, so the store module's test calls {@link #run}
 * with its settings and the store's factory is found there. {@link #measure} runs the same scenario
 * without asserting and returns what it counted (the benchmarks' cluster report).
 */
public final class ClusterScenario {
  public static final int PROCESSES = 3;
  public static final int THREADS = 32;
  public static final Duration LIFETIME = Duration.ofSeconds(1);

  /** A token is renewed once it has lived this long (lifetime minus the 300 ms margin). */
  public static final long PERIOD_MILLIS = 700;

  public static final int RENEWALS = 26;

  private ClusterScenario() {}

  /**
   * What one run of the scenario counted.
   *
   * @param storeType the store settings' {@code type}
   * @param processes broker JVMs
   * @param threads caller threads in each JVM
   * @param calls {@code accessToken} calls that returned a token, over all JVMs
   * @param callerErrors {@code accessToken} calls that threw, over all JVMs
   * @param expiries tokens of the renewal chain that became due for renewal before the deadline
   *     (see {@link #expiries})
   * @param refreshRequests {@code refresh_token} requests the emulator processed
   * @param tokenRequests token-endpoint requests the emulator processed, of any grant
   * @param invalidGrantAnswers the emulator's {@code invalid_grant} answers
   * @param durationMillis from the start of the run to the callers' deadline
   * @param renewalChain issue times (epoch millis) of the seeded token and then of each renewal
   *     (the children's {@code REFRESHED} events), in order
   * @param storeVersions how far the stored set's version moved from the seeded one
   * @param childrenFinished JVMs that reported {@code DONE}
   * @param exitCodes each JVM's exit status
   * @param problems lines the JVMs printed that were neither {@code DONE} nor {@code REFRESHED}
   *     (such as {@code ERROR} lines of caller errors)
   */
  public record Result(
      String storeType,
      int processes,
      int threads,
      long calls,
      long callerErrors,
      long expiries,
      long refreshRequests,
      long tokenRequests,
      long invalidGrantAnswers,
      long durationMillis,
      List<Long> renewalChain,
      long storeVersions,
      int childrenFinished,
      List<Integer> exitCodes,
      List<String> problems) {
    public Result {
      renewalChain = List.copyOf(renewalChain);
      exitCodes = List.copyOf(exitCodes);
      problems = List.copyOf(problems);
    }

    /** Renewals the children reported ({@code REFRESHED} events). */
    public long refreshedEvents() {
      return renewalChain.size() - 1L;
    }

    /** Refresh requests per expiry; 1.0 is the target. */
    public double requestsPerExpiry() {
      return expiries == 0 ? Double.NaN : (double) refreshRequests / expiries;
    }
  }

  /**
   * Runs the scenario on the store {@code storeSettings} describe ({@code type} plus that type's
   * settings, as in a configuration file's {@code store:} section) and asserts its promises (see
   * the class comment). The parent opens the store first (so a store that creates its schema does
   * so before the children start), seeds it, and closes it at the end; the caller cleans up what
   * the store left behind.
   */
  public static void run(Map<String, String> storeSettings) throws Exception {
    Result r = measure(storeSettings);
    assertThat(r.childrenFinished()).as("children finished").isEqualTo(r.processes());
    assertThat(r.callerErrors()).as("caller errors").isZero();
    assertThat(r.exitCodes()).as("exit codes").containsOnly(0);
    assertThat(r.problems()).isEmpty();
    long renewals = r.refreshRequests();
    List<Long> chain = r.renewalChain();
    assertThat(r.invalidGrantAnswers()).as("invalid_grant answers").isZero();
    assertThat(r.tokenRequests()).as("token requests").isEqualTo(renewals);
    assertThat(r.refreshedEvents()).as("one REFRESHED event per request").isEqualTo(renewals);
    // The run has RENEWALS periods of real time; JVMs slow to start on a loaded machine see fewer
    // (19 of 26 seen once beside a full build): enough to prove the counts, not a speed test.
    assertThat(r.expiries()).as("expiries in the run").isGreaterThanOrEqualTo(15);
    assertThat(renewals)
        .as("refresh requests vs expiries")
        .isBetween(r.expiries() - 1, r.expiries() + 1);
    // No token was renewed twice: consecutive renewals are a token's life apart, not moments
    // (half a period leaves room for the gap between a token's issue and its event).
    for (int i = 1; i < chain.size(); i++) {
      assertThat(chain.get(i) - chain.get(i - 1))
          .as("time between renewal %d and the one before", i)
          .isGreaterThanOrEqualTo(PERIOD_MILLIS / 2);
    }
    // Every renewal was saved before use: one store version per refresh.
    assertThat(r.storeVersions()).isEqualTo(renewals);
  }

  /** The scenario as {@link #run} runs it ({@value #RENEWALS} renewal periods), not asserted. */
  public static Result measure(Map<String, String> storeSettings) throws Exception {
    return measure(storeSettings, RENEWALS);
  }

  /**
   * The scenario for {@code periods} renewal periods of {@value #PERIOD_MILLIS} ms (plus half a
   * period), counted but not asserted. Fails only if a child does not start or does not end.
   */
  public static Result measure(Map<String, String> storeSettings, int periods) throws Exception {
    if (periods < 1) {
      throw new IllegalArgumentException("periods must be at least 1: " + periods);
    }
    try (TokenStore parentStore = TestStores.open(storeSettings);
        OAuth2Emulator emulator =
            new OAuth2Emulator(Clock.systemUTC())
                .registerClient(ClusterChild.CLIENT, ClusterChild.SECRET, ClusterChild.REDIRECT)
                .accessTokenLifetime(LIFETIME)
                .start()) {
      List<ChildJvm> children = new ArrayList<>();
      try {
        for (int p = 0; p < PROCESSES; p++) {
          children.add(
              ClusterChild.start(emulator.baseUrl(), "instance-" + p, THREADS, storeSettings));
        }
        for (ChildJvm child : children) {
          child.await("READY", 120);
        }
        long start = System.currentTimeMillis();
        TokenSet seeded = emulator.seed(parentStore, ClusterChild.ID, ClusterChild.CLIENT);
        long deadline = start + periods * PERIOD_MILLIS + PERIOD_MILLIS / 2;
        for (ChildJvm child : children) {
          child.send("GO " + deadline);
        }

        List<String> problems = new ArrayList<>();
        List<Long> refreshedAt = new ArrayList<>();
        List<Integer> exitCodes = new ArrayList<>();
        long calls = 0;
        long callerErrors = 0;
        int finished = 0;
        for (ChildJvm child : children) {
          String line;
          String done = null;
          while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
            if (line.startsWith("DONE ")) {
              done = line;
            } else if (line.startsWith("REFRESHED ")) {
              refreshedAt.add(Long.parseLong(line.substring(10)));
            } else {
              problems.add(line);
            }
          }
          if (done != null) {
            String[] parts = done.split(" ");
            calls += Long.parseLong(parts[1]);
            callerErrors += Long.parseLong(parts[2]);
            finished++;
          }
          exitCodes.add(child.waitFor(30));
        }

        refreshedAt.sort(null);
        List<Long> chain = new ArrayList<>();
        chain.add(seeded.issuedAt().toEpochMilli());
        chain.addAll(refreshedAt);
        long expiries = expiries(chain, deadline);
        long renewals = emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN);
        System.out.printf(
            "%d calls; %d expiries in %d ms; %d refresh requests; %d invalid_grant%n",
            calls, expiries, deadline - start, renewals, emulator.invalidGrantAnswers());
        TokenSet last = parentStore.load(ClusterChild.ID);
        return new Result(
            storeSettings.getOrDefault("type", "?"),
            PROCESSES,
            THREADS,
            calls,
            callerErrors,
            expiries,
            renewals,
            emulator.tokenRequests(),
            emulator.invalidGrantAnswers(),
            deadline - start,
            chain,
            last.version() - seeded.version(),
            finished,
            exitCodes,
            problems);
      } finally {
        for (ChildJvm child : children) {
          child.close();
        }
      }
    }
  }

  /**
   * The expiries of a run: every token of the chain (issue times in epoch millis, in order: the
   * seeded one, then each renewal's) that became due for renewal before the deadline. Counted from
   * the tokens' own times, so a slow machine that renews a little late does not change what is
   * expected of it.
   */
  public static long expiries(List<Long> chain, long deadlineMillis) {
    long expiries = 0;
    for (long issued : chain) {
      if (issued + PERIOD_MILLIS <= deadlineMillis) {
        expiries++;
      }
    }
    return expiries;
  }
}
