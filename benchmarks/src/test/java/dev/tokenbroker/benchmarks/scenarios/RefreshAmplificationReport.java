package dev.tokenbroker.benchmarks.scenarios;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.benchmarks.scenarios.Contender.Kind;
import dev.tokenbroker.benchmarks.scenarios.Contender.Setup;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * Refresh amplification (issue 8): {@code N} callers released at once on an expired access token,
 * against a local token endpoint with 20 ms latency, with refresh-token rotation on and off. For
 * each contender and case: token requests and {@code invalid_grant} answers (the emulator's
 * counters), caller errors, the time until every caller has returned, and whether the connection
 * still works afterwards.
 *
 * <p>Time: the emulator and the client share a {@link FakeClock} set to the real time (Spring
 * stamps new tokens with {@code Instant.now()}, so the fake time must agree with the real one while
 * callers run). The initial token set is issued two hours in the past with a 1-hour access token,
 * so at the start its access token is expired for the client and the server alike while its refresh
 * token is valid. "Usable afterwards": the clock jumps two more hours and one more caller asks; the
 * connection is usable if that caller gets a token the emulator accepts — a client that lost the
 * rotated refresh token fails here.
 *
 * <p>Usage: {@code RefreshAmplificationReport [--quick] OUT.md} (also writes {@code OUT.json}).
 * Full: N = 1, 16, 64, 256, median of 5 repetitions after one warm-up case per contender. Quick: N
 * = 1 and 16, one repetition, no warm-up.
 */
public final class RefreshAmplificationReport {
  static final Duration LATENCY = Duration.ofMillis(20);
  static final List<Integer> FULL_CALLERS = List.of(1, 16, 64, 256);
  static final List<Integer> QUICK_CALLERS = List.of(1, 16);
  static final int FULL_REPETITIONS = 5;

  private RefreshAmplificationReport() {}

  /** What one repetition of one case measured. */
  static final class Run {
    final Kind kind;
    final boolean rotating;
    final int callers;
    final long tokenRequests;
    final long invalidGrants;
    final int callerErrors;
    final long allReturnedMicros;
    final boolean usableAfterwards;
    final Map<String, Integer> errorKinds;

    Run(
        Kind kind,
        boolean rotating,
        int callers,
        long tokenRequests,
        long invalidGrants,
        int callerErrors,
        long allReturnedMicros,
        boolean usableAfterwards,
        Map<String, Integer> errorKinds) {
      this.kind = kind;
      this.rotating = rotating;
      this.callers = callers;
      this.tokenRequests = tokenRequests;
      this.invalidGrants = invalidGrants;
      this.callerErrors = callerErrors;
      this.allReturnedMicros = allReturnedMicros;
      this.usableAfterwards = usableAfterwards;
      this.errorKinds = errorKinds;
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("contender", kind.label);
      m.put("rotation", rotating);
      m.put("callers", callers);
      m.put("tokenRequests", tokenRequests);
      m.put("invalidGrantAnswers", invalidGrants);
      m.put("callerErrors", callerErrors);
      m.put("errorKinds", errorKinds);
      m.put("allCallersReturnedMs", allReturnedMicros / 1000.0);
      m.put("usableAfterwards", usableAfterwards);
      return m;
    }
  }

  /** One repetition: a fresh emulator, a fresh client, {@code callers} callers at once. */
  static Run run(Kind kind, boolean rotating, int callers) throws Exception {
    FakeClock clock = FakeClock.at(Instant.now().minus(Duration.ofHours(2)));
    Path dir = Contender.newWorkDir();
    try (OAuth2Emulator emulator =
        new OAuth2Emulator(clock)
            .registerClient(Contender.CLIENT_ID, Contender.CLIENT_SECRET, Contender.REDIRECT_URI)
            .rotateRefreshTokens(rotating)
            .allowClientSecretPost(true) // google-auth sends client_secret in the body
            .tokenLatency(LATENCY)
            .start()) {
      TokenSet initial = emulator.issueTokens(Contender.CLIENT_ID); // 1-hour access token
      clock.advance(Duration.ofHours(2)); // now: expired for client and server, refresh valid
      try (Contender contender =
          kind.open(new Setup(emulator, clock, initial, rotating, null, dir))) {
        Stampede s = Stampede.run(callers, contender::accessToken);
        long requests = emulator.tokenRequests();
        long invalidGrants = emulator.invalidGrantAnswers();
        int errors = 0;
        Map<String, Integer> kinds = new TreeMap<>();
        for (int i = 0; i < callers; i++) {
          String token = s.tokens[i];
          Throwable error = s.errors[i];
          String problem =
              error != null
                  ? Report.kind(error)
                  : token == null || token.isEmpty()
                      ? "no token"
                      : !emulator.isAccessTokenValid(token) ? "token rejected" : null;
          if (problem != null) {
            errors++;
            kinds.merge(problem, 1, Integer::sum);
          }
        }
        clock.advance(Duration.ofHours(2)); // expire the new token too, then ask once more
        boolean usable;
        try {
          String token = contender.accessToken();
          usable = token != null && emulator.isAccessTokenValid(token);
        } catch (Exception e) {
          usable = false;
        }
        return new Run(
            kind,
            rotating,
            callers,
            requests,
            invalidGrants,
            errors,
            s.allReturnedMicros(),
            usable,
            kinds);
      }
    } finally {
      Report.deleteTree(dir);
    }
  }

  /** Every case for {@code kinds}, {@code repetitions} times each, printing progress. */
  static List<Run> runAll(
      List<Kind> kinds, List<Integer> callerCounts, int repetitions, boolean warmUp)
      throws Exception {
    if (warmUp) {
      for (Kind kind : kinds) {
        run(kind, true, 16); // class loading and JIT, not measured
      }
    }
    List<Run> runs = new ArrayList<>();
    for (boolean rotating : new boolean[] {true, false}) {
      for (int n : callerCounts) {
        for (Kind kind : kinds) {
          for (int r = 0; r < repetitions; r++) {
            Run run = run(kind, rotating, n);
            runs.add(run);
            System.out.printf(
                "amplification %-32s rotation %-3s N=%3d: %3d requests, %3d invalid_grant,"
                    + " %3d errors, %7.1f ms, usable afterwards: %s%n",
                kind.label,
                rotating ? "on" : "off",
                n,
                run.tokenRequests,
                run.invalidGrants,
                run.callerErrors,
                run.allReturnedMicros / 1000.0,
                run.usableAfterwards);
          }
        }
      }
    }
    return runs;
  }

  /** The Markdown section: one row per contender, rotation and N (medians over repetitions). */
  static String markdown(List<Run> runs, int repetitions) {
    Map<String, List<Run>> cases = new LinkedHashMap<>();
    for (Run r : runs) {
      cases
          .computeIfAbsent(r.rotating + "/" + r.callers + "/" + r.kind, k -> new ArrayList<>())
          .add(r);
    }
    List<List<String>> rows = new ArrayList<>();
    for (List<Run> same : cases.values()) {
      Run first = same.get(0);
      long usable = same.stream().filter(r -> r.usableAfterwards).count();
      rows.add(
          List.of(
              first.kind == Kind.TOKENBROKER ? "**" + first.kind.label + "**" : first.kind.label,
              first.rotating ? "on" : "off",
              Integer.toString(first.callers),
              medianWithRange(same, r -> r.tokenRequests),
              medianWithRange(same, r -> r.invalidGrants),
              medianWithRange(same, r -> r.callerErrors),
              Report.fmt(
                  Report.median(
                          same.stream().map(r -> r.allReturnedMicros).collect(Collectors.toList()))
                      / 1000.0,
                  1),
              usable == same.size()
                  ? "yes"
                  : usable == 0 ? "**no**" : usable + " of " + same.size()));
    }
    String reps =
        repetitions == 1
            ? "one repetition"
            : "median of " + repetitions + " repetitions (min–max in brackets where they differ)";
    return "### Refresh amplification\n\n"
        + "N threads released at once (a `CyclicBarrier`) ask one client for the access token of"
        + " one connection whose access token has expired and whose refresh token is valid, against"
        + " `OAuth2Emulator` on 127.0.0.1 answering token requests after 20 ms; a fresh emulator"
        + " and client per repetition, "
        + reps
        + ". Token requests and `invalid_grant` answers are the emulator's counts; a caller error"
        + " is an exception, no token, or a token the emulator does not accept; \"usable"
        + " afterwards\": after the token expires again, one more caller gets a token the emulator"
        + " accepts. The libraries keep their default margins (1-hour tokens here), Spring its"
        + " default failure handler; the emulator also accepts `client_secret` in the body, which"
        + " is how google-auth authenticates.\n\n"
        + Report.table(
            List.of(
                "Contender",
                "Rotation",
                "N",
                "Token requests",
                "`invalid_grant`",
                "Caller errors",
                "All callers returned (ms)",
                "Usable afterwards"),
            List.of(false, false, true, true, true, true, true, false),
            rows)
        + "\n"
        + Report.errorNotes(errorTotals(runs));
  }

  private static Map<Kind, Map<String, Long>> errorTotals(List<Run> runs) {
    Map<Kind, Map<String, Long>> totals = new EnumMap<>(Kind.class);
    for (Run r : runs) {
      Map<String, Long> kinds = totals.computeIfAbsent(r.kind, k -> new TreeMap<>());
      r.errorKinds.forEach((error, n) -> kinds.merge(error, (long) n, Long::sum));
    }
    return totals;
  }

  private static String medianWithRange(List<Run> runs, ToLongFunction<Run> f) {
    List<Long> values = runs.stream().map(f::applyAsLong).collect(Collectors.toList());
    long min = values.stream().mapToLong(Long::longValue).min().orElse(0);
    long max = values.stream().mapToLong(Long::longValue).max().orElse(0);
    String median = Long.toString(Report.median(values));
    return min == max ? median : median + " (" + min + "–" + max + ")";
  }

  public static void main(String[] argv) throws Exception {
    Report.Args args = Report.Args.parse(argv, "RefreshAmplificationReport [--quick] OUT.md");
    long started = System.nanoTime();
    int repetitions = args.quick ? 1 : FULL_REPETITIONS;
    List<Run> runs =
        runAll(
            List.of(Kind.values()),
            args.quick ? QUICK_CALLERS : FULL_CALLERS,
            repetitions,
            !args.quick);
    String md = markdown(runs, repetitions);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("scenario", "refresh-amplification");
    json.put("quick", args.quick);
    json.put("tokenLatencyMs", LATENCY.toMillis());
    json.put("repetitions", repetitions);
    json.put("runs", runs.stream().map(Run::toJson).collect(Collectors.toList()));
    Report.write(args, md, json);
    System.out.print(md);
    System.out.printf("refresh amplification took %.1f s%n", (System.nanoTime() - started) / 1e9);
  }
}
