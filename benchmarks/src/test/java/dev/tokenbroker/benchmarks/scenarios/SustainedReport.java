package dev.tokenbroker.benchmarks.scenarios;

import dev.tokenbroker.TokenSet;
import dev.tokenbroker.benchmarks.scenarios.Contender.Kind;
import dev.tokenbroker.benchmarks.scenarios.Contender.Margins;
import dev.tokenbroker.benchmarks.scenarios.Contender.Setup;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Sustained load (issue 8): 8 threads ask one client for the access token in a loop for 10 s,
 * against a local token endpoint that issues 1-second access tokens, rotates refresh tokens and
 * answers after 20 ms. Real time throughout (the system clock for the emulator and the client).
 *
 * <p>Every contender renews 300 ms before expiry where it can be told to (tokenbroker: {@code
 * renewBefore} 300 ms and {@code expirySkew} 100 ms; google-auth: {@code refreshMargin} 300 ms and
 * {@code expirationMargin} 100 ms; Spring: {@code clockSkew} 300 ms — its one margin, inside which
 * callers wait for a refresh); the naive client refreshes once its token has expired.
 *
 * <p><b>Expiries</b> — how many times the token became due — are {@code elapsed / (lifetime −
 * margin + latency)}: a token received at {@code t} is due at {@code t + lifetime − margin}, and
 * the next one arrives one round trip (the 20 ms latency) after it was asked for. A contender that
 * asks exactly once per due token makes about one token request per expiry.
 *
 * <p>Usage: {@code SustainedReport [--quick] OUT.md} (also writes {@code OUT.json}). Full: 10 s per
 * contender after a 300 ms warm-up run of each; quick: 2 s, no warm-up.
 */
public final class SustainedReport {
  static final int THREADS = 8;
  static final Duration LIFETIME = Duration.ofSeconds(1);
  static final Duration LATENCY = Duration.ofMillis(20);
  static final Margins MARGINS = new Margins(Duration.ofMillis(300), Duration.ofMillis(100));
  static final Duration FULL_DURATION = Duration.ofSeconds(10);
  static final Duration QUICK_DURATION = Duration.ofSeconds(2);
  static final Duration WARM_UP = Duration.ofMillis(300);

  /** One token in this many handed-out tokens is checked against the emulator. */
  private static final int SAMPLE_EVERY = 16;

  private SustainedReport() {}

  /** What one contender's run measured. */
  static final class Run {
    final Kind kind;
    final double elapsedSeconds;
    final long expiries;
    final long tokenRequests;
    final long invalidGrants;
    final long calls;
    final long callerErrors;
    final double firstErrorSeconds; // NaN: none
    final double lastGoodSeconds; // NaN: none
    final long sampled;
    final long sampledExpired;
    final Map<String, Long> errorKinds;

    Run(
        Kind kind,
        double elapsedSeconds,
        long expiries,
        long tokenRequests,
        long invalidGrants,
        long calls,
        long callerErrors,
        double firstErrorSeconds,
        double lastGoodSeconds,
        long sampled,
        long sampledExpired,
        Map<String, Long> errorKinds) {
      this.kind = kind;
      this.elapsedSeconds = elapsedSeconds;
      this.expiries = expiries;
      this.tokenRequests = tokenRequests;
      this.invalidGrants = invalidGrants;
      this.calls = calls;
      this.callerErrors = callerErrors;
      this.firstErrorSeconds = firstErrorSeconds;
      this.lastGoodSeconds = lastGoodSeconds;
      this.sampled = sampled;
      this.sampledExpired = sampledExpired;
      this.errorKinds = errorKinds;
    }

    double requestsPerExpiry() {
      return expiries == 0 ? Double.NaN : (double) tokenRequests / expiries;
    }

    /**
     * Successful calls per second while the contender worked: until its last successful call, so
     * that one that broke early is not compared on the time it spent failing.
     */
    double callsPerSecond() {
      return calls == 0 ? 0 : calls / Math.min(elapsedSeconds, lastGoodSeconds);
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("contender", kind.label);
      m.put("margins", kind.marginText(MARGINS));
      m.put("elapsedSeconds", elapsedSeconds);
      m.put("expiries", expiries);
      m.put("tokenRequests", tokenRequests);
      m.put("requestsPerExpiry", requestsPerExpiry());
      m.put("invalidGrantAnswers", invalidGrants);
      m.put("successfulCalls", calls);
      m.put("callsPerSecond", callsPerSecond());
      m.put("callerErrors", callerErrors);
      m.put("firstErrorSeconds", Double.isNaN(firstErrorSeconds) ? null : firstErrorSeconds);
      m.put("lastSuccessfulCallSeconds", Double.isNaN(lastGoodSeconds) ? null : lastGoodSeconds);
      m.put("errorKinds", errorKinds);
      m.put("sampledTokens", sampled);
      m.put("sampledTokensRejectedByEmulator", sampledExpired);
      return m;
    }
  }

  /** One contender for {@code duration}, against a fresh emulator. */
  static Run run(Kind kind, Duration duration) throws Exception {
    Clock clock = Clock.systemUTC();
    Path dir = Contender.newWorkDir();
    try (OAuth2Emulator emulator =
        new OAuth2Emulator(clock)
            .registerClient(Contender.CLIENT_ID, Contender.CLIENT_SECRET, Contender.REDIRECT_URI)
            .rotateRefreshTokens(true)
            .accessTokenLifetime(LIFETIME)
            .allowClientSecretPost(true) // google-auth sends client_secret in the body
            .tokenLatency(LATENCY)
            .start()) {
      TokenSet initial = emulator.issueTokens(Contender.CLIENT_ID); // a fresh 1-second token
      try (Contender contender =
          kind.open(new Setup(emulator, clock, initial, true, MARGINS, dir))) {
        LongAdder calls = new LongAdder();
        LongAdder errors = new LongAdder();
        LongAdder sampled = new LongAdder();
        LongAdder sampledExpired = new LongAdder();
        AtomicLong firstError = new AtomicLong(Long.MAX_VALUE); // nanos after the start
        AtomicLong lastOk = new AtomicLong(Long.MIN_VALUE); // start of the last successful call
        Map<String, LongAdder> kinds = new ConcurrentHashMap<>();
        CyclicBarrier barrier = new CyclicBarrier(THREADS + 1);
        long[] window = new long[2]; // start and deadline, published by the barrier
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          Thread thread =
              new Thread(
                  () -> {
                    try {
                      barrier.await(30, TimeUnit.SECONDS); // main sets the window first
                      barrier.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                      return;
                    }
                    long start = window[0];
                    long deadline = window[1];
                    long n = 0;
                    long firstErrorAt = Long.MAX_VALUE;
                    long lastOkAt = Long.MIN_VALUE;
                    long now;
                    while ((now = System.nanoTime()) < deadline) {
                      @Nullable String problem;
                      try {
                        String token = contender.accessToken();
                        if (token == null || token.isEmpty()) {
                          problem = "no token";
                        } else {
                          problem = null;
                          calls.increment();
                          lastOkAt = now;
                          if (++n % SAMPLE_EVERY == 0) {
                            sampled.increment();
                            if (!emulator.isAccessTokenValid(token)) {
                              sampledExpired.increment();
                            }
                          }
                        }
                      } catch (Exception e) {
                        problem = Report.kind(e);
                      }
                      if (problem != null) {
                        errors.increment();
                        kinds.computeIfAbsent(problem, k -> new LongAdder()).increment();
                        firstErrorAt = Math.min(firstErrorAt, now);
                      }
                    }
                    long fe = firstErrorAt;
                    long lo = lastOkAt;
                    firstError.accumulateAndGet(fe == Long.MAX_VALUE ? fe : fe - start, Math::min);
                    lastOk.accumulateAndGet(lo == Long.MIN_VALUE ? lo : lo - start, Math::max);
                  },
                  "worker-" + t);
          thread.setDaemon(true);
          threads.add(thread);
          thread.start();
        }
        barrier.await(30, TimeUnit.SECONDS);
        long startWall = System.currentTimeMillis();
        long start = System.nanoTime();
        window[0] = start;
        window[1] = start + duration.toNanos();
        barrier.await(30, TimeUnit.SECONDS);
        for (Thread t : threads) {
          t.join(duration.toMillis() + TimeUnit.SECONDS.toMillis(60));
          if (t.isAlive()) {
            throw new IllegalStateException(t.getName() + " did not stop");
          }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long endWall = System.currentTimeMillis();
        long requests = emulator.tokenRequests();
        long invalidGrants = emulator.invalidGrantAnswers();
        long expiries = expiries(kind, initial, startWall, endWall);
        Map<String, Long> errorKinds = new TreeMap<>();
        kinds.forEach((k, v) -> errorKinds.put(k, v.sum()));
        long first = firstError.get();
        long last = lastOk.get();
        return new Run(
            kind,
            elapsed,
            expiries,
            requests,
            invalidGrants,
            calls.sum(),
            errors.sum(),
            first == Long.MAX_VALUE ? Double.NaN : first / 1e9,
            last == Long.MIN_VALUE ? Double.NaN : last / 1e9,
            sampled.sum(),
            sampledExpired.sum(),
            errorKinds);
      }
    } finally {
      Report.deleteTree(dir);
    }
  }

  /**
   * How many times a token fell due between {@code startWall} and {@code endWall} (epoch millis)
   * for {@code kind}'s margin, starting from {@code initial}: see the class comment.
   */
  static long expiries(Kind kind, TokenSet initial, long startWall, long endWall) {
    Duration margin = kind.renewMargin(MARGINS);
    long cycle = LIFETIME.minus(margin).plus(LATENCY).toMillis();
    long firstDue = Math.max(startWall, initial.expiresAt().toEpochMilli() - margin.toMillis());
    return endWall < firstDue ? 0 : 1 + (endWall - firstDue) / cycle;
  }

  static List<Run> runAll(List<Kind> kinds, Duration duration) throws Exception {
    List<Run> runs = new ArrayList<>();
    for (Kind kind : kinds) {
      Run r = run(kind, duration);
      runs.add(r);
      System.out.printf(
          "sustained %-32s %5.1f s: %4d requests / %3d expiries, %5d invalid_grant,"
              + " %,d errors%s, %,.0f calls/s, %d of %d sampled tokens rejected%n",
          kind.label,
          r.elapsedSeconds,
          r.tokenRequests,
          r.expiries,
          r.invalidGrants,
          r.callerErrors,
          r.callerErrors == 0 ? "" : " " + r.errorKinds,
          r.callsPerSecond(),
          r.sampledExpired,
          r.sampled);
    }
    return runs;
  }

  static String markdown(List<Run> runs, Duration duration) {
    List<List<String>> rows = new ArrayList<>();
    for (Run r : runs) {
      rows.add(
          List.of(
              r.kind == Kind.TOKENBROKER ? "**" + r.kind.label + "**" : r.kind.label,
              r.kind.marginText(MARGINS),
              Long.toString(r.expiries),
              Report.count(r.tokenRequests),
              Report.fmt(r.requestsPerExpiry(), 2),
              Report.count(r.invalidGrants),
              Report.count(r.callerErrors),
              Double.isNaN(r.firstErrorSeconds) ? "—" : Report.fmt(r.firstErrorSeconds, 2),
              Double.isNaN(r.lastGoodSeconds) ? "—" : Report.fmt(r.lastGoodSeconds, 2),
              Report.count(Math.round(r.callsPerSecond())),
              r.sampledExpired + " of " + Report.count(r.sampled)));
    }
    return "### Sustained load\n\n"
        + THREADS
        + " threads ask one client for the access token in a loop for "
        + duration.toSeconds()
        + " s against `OAuth2Emulator` on 127.0.0.1 issuing 1-second access tokens, rotating"
        + " refresh tokens and answering token requests after 20 ms (real time, a fresh emulator"
        + " per contender). Expiries: how often a new token fell due, 1 + ⌊(end − first due) ÷"
        + " (lifetime − the contender's renewal margin + 20 ms latency)⌋, the first due at the"
        + " initial token's expiry minus the margin; token requests and `invalid_grant`"
        + " answers are the emulator's counts; caller errors are calls that threw or got no token;"
        + " first error and last good token are seconds into the run; calls/s while working ="
        + " successful calls ÷ time until the last successful call; one token in "
        + SAMPLE_EVERY
        + " handed out was checked against the emulator (last column: rejected, i.e. already"
        + " expired or dead).\n\n"
        + Report.table(
            List.of(
                "Contender",
                "Renewal margins",
                "Expiries",
                "Token requests",
                "Requests per expiry",
                "`invalid_grant`",
                "Caller errors",
                "First error (s)",
                "Last good token (s)",
                "Calls/s while working",
                "Sampled tokens rejected"),
            List.of(false, false, true, true, true, true, true, true, true, true, true),
            rows)
        + "\n"
        + Report.errorNotes(errorTotals(runs));
  }

  private static Map<Kind, Map<String, Long>> errorTotals(List<Run> runs) {
    Map<Kind, Map<String, Long>> totals = new EnumMap<>(Kind.class);
    for (Run r : runs) {
      totals.computeIfAbsent(r.kind, k -> new TreeMap<>()).putAll(r.errorKinds);
    }
    return totals;
  }

  public static void main(String[] argv) throws Exception {
    Report.Args args = Report.Args.parse(argv, "SustainedReport [--quick] OUT.md");
    long started = System.nanoTime();
    Duration duration = args.quick ? QUICK_DURATION : FULL_DURATION;
    if (!args.quick) {
      for (Kind kind : Kind.values()) {
        run(kind, WARM_UP); // class loading and JIT, not measured
      }
    }
    List<Run> runs = runAll(List.of(Kind.values()), duration);
    String md = markdown(runs, duration);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("scenario", "sustained");
    json.put("quick", args.quick);
    json.put("threads", THREADS);
    json.put("durationSeconds", duration.toSeconds());
    json.put("accessTokenLifetimeMs", LIFETIME.toMillis());
    json.put("tokenLatencyMs", LATENCY.toMillis());
    json.put("runs", runs.stream().map(Run::toJson).collect(Collectors.toList()));
    Report.write(args, md, json);
    System.out.print(md);
    System.out.printf("sustained load took %.1f s%n", (System.nanoTime() - started) / 1e9);
  }
}
