package dev.tokenbroker.cli;

import static dev.tokenbroker.cli.DemoEnvironment.CAFE24;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * {@code tokenbroker demo}: the three platforms' real flows against the testkit's emulators, in
 * this process, on one fake clock that can jump days. Each step prints what it did and checks, at
 * the emulator, that the platform's rule held (✓ or ✗ with the reason). Returns 0 only if every
 * check passed. Prints fingerprints at most, never a token or secret — and checks that too.
 *
 * <p>This class runs the steps in order; {@link DemoEnvironment} sets up the emulators, store and
 * broker, {@link DemoCafe24Steps} and {@link DemoNaverKakaoSteps} hold the steps, and {@link
 * DemoReport} prints and counts the checks.
 */
final class Demo {
  private final DemoReport report;
  private final PrintWriter out;
  private final FakeClock clock = FakeClock.create();
  private final Instant start = clock.instant();

  Demo(PrintWriter console, boolean verbose) {
    this.report = new DemoReport(console, verbose);
    this.out = report.out();
  }

  /** Runs every step; 0 if every check passed, 1 otherwise. */
  int run() throws IOException {
    long began = System.nanoTime();
    Path dir = Files.createTempDirectory("tokenbroker-demo");
    out.println("tokenbroker demo — Cafe24, Naver Commerce and Kakao against embedded emulators");
    out.println(
        "(real HTTP on 127.0.0.1, one fake clock starting "
            + start
            + "; nothing leaves this machine)");
    DemoEnvironment env = new DemoEnvironment(report, clock);
    DemoCafe24Steps cafe24Steps = new DemoCafe24Steps(env, report);
    DemoNaverKakaoSteps naverKakaoSteps = new DemoNaverKakaoSteps(env, report);
    try (Cafe24Emulator c = new Cafe24Emulator(clock);
        NaverEmulator n = new NaverEmulator(clock);
        KakaoEmulator k = new KakaoEmulator(clock)) {
      AtomicReference<@Nullable TokenBroker> late = new AtomicReference<>();
      RedirectCapture capture =
          new RedirectCapture(
              cafe24Steps::expectedState,
              url -> Objects.requireNonNull(late.get()).completeAuthorization(CAFE24, url),
              out::println);
      try (LoopbackListener listener =
          LoopbackListener.startOnFreePort("/cafe24/callback", capture, CAFE24.toString())) {
        env.setUp(dir, listener.redirect().toString(), c, n, k);
        late.set(env.broker());
        report.step(
            "1. Cafe24 — connect a mall (authorization code, browser played by an HTTP client)");
        guarded(env, () -> cafe24Steps.cafe24Connect(capture, listener.redirect()));
        report.step("2. Cafe24 — every refresh rotates the refresh token");
        guarded(env, cafe24Steps::cafe24Rotation);
        report.step("3. Naver Commerce — bcrypt-signed client credentials and the 30-minute rule");
        guarded(env, naverKakaoSteps::naverSignedTokens);
        report.step("4. Kakao — PKCE, partial rotation, token info");
        guarded(env, naverKakaoSteps::kakaoPkceAndEarlyRefresh);
        report.step("5. " + DemoCafe24Steps.CALLERS + " callers at an expiry — one renewal");
        guarded(env, cafe24Steps::stampede);
        report.step("6. 13 idle days — keep-alive saves Cafe24's 14-day refresh token");
        guarded(env, cafe24Steps::idleThirteenDays);
        report.step("7. Kakao — a late refresh rotates the refresh token");
        guarded(env, naverKakaoSteps::kakaoLateRefresh);
        report.step("8. Cafe24 — revoke");
        guarded(env, cafe24Steps::cafe24Revoke);
        report.step("9. Cafe24 — a mall installs the app at run time (template cafe24:{mall})");
        guarded(env, cafe24Steps::cafe24InstallAtRunTime);
        report.step("Status (`tokenbroker status`)");
        StatusTable.of(env.broker(), clock.instant()).printTable(out);
      } finally {
        env.close();
      }
    } finally {
      DemoEnvironment.deleteTree(dir);
    }
    report.step("Secrets");
    env.witnessStore();
    report.checkNothingLeaked();
    Duration took = Duration.ofNanos(System.nanoTime() - began);
    String simulated = Text.duration(Duration.between(start, clock.instant()));
    return report.summary(simulated, took);
  }

  /** A step's body; an exception ends the step as one failed check, and the demo goes on. */
  private void guarded(DemoEnvironment env, Body body) {
    try {
      body.run();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      report.check(false, "the step ran to its end", Failures.describe(e, null).line);
    } finally {
      env.witnessStore();
    }
  }

  @FunctionalInterface
  private interface Body {
    void run() throws Exception;
  }
}
