package dev.tokenbroker.cli;

import static dev.tokenbroker.cli.DemoEnvironment.CAFE24;
import static dev.tokenbroker.cli.DemoEnvironment.CAFE24_CLIENT_ID;
import static dev.tokenbroker.cli.DemoEnvironment.MALL;
import static dev.tokenbroker.cli.DemoEnvironment.NEW_MALL;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.EmulatorServer.Gate;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tokenbroker demo}'s Cafe24 steps: connecting a mall through the loopback listener,
 * refresh-token rotation and encryption at rest, {@value #CALLERS} callers at an expiry, 13 idle
 * days survived by keep-alive, a revoke, and a mall installing the app at run time. Each step acts
 * through the broker and checks the platform's rule at the emulator.
 */
final class DemoCafe24Steps {
  static final int CALLERS = 200;

  private final DemoEnvironment env;
  private final DemoReport report;
  private final PrintWriter out;
  private final FakeClock clock;
  private volatile @Nullable String cafe24State;

  DemoCafe24Steps(DemoEnvironment env, DemoReport report) {
    this.env = env;
    this.report = report;
    this.out = report.out();
    this.clock = env.clock();
  }

  /** The state of the authorization in progress, for the redirect capture; null before it. */
  @Nullable String expectedState() {
    return cafe24State;
  }

  void cafe24Connect(RedirectCapture capture, HttpUrl redirect) throws IOException {
    AuthorizationRequest request = env.broker().startAuthorization(CAFE24);
    report.secret(request.state());
    cafe24State = request.state();
    HttpUrl authorize = Objects.requireNonNull(HttpUrl.parse(request.url().toString()));
    out.println(
        "  browser → "
            + authorize.newBuilder().query(null).build()
            + " → 302 → "
            + redirect
            + "?code=…&state=…");
    OkHttpClient browser = new OkHttpClient.Builder().followRedirects(true).build();
    String page;
    int status;
    HttpUrl landed;
    try (Response response =
        browser.newCall(new Request.Builder().url(authorize).build()).execute()) {
      status = response.code();
      ResponseBody body = response.body();
      page = body == null ? "" : body.string();
      landed = response.request().url();
    }
    TokenSet tokens = null;
    String failure = "no redirect reached the listener";
    try {
      // Published right after the page was sent: a moment after the browser has it.
      tokens = capture.outcome().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      failure = Failures.describe(e.getCause() == null ? e : e.getCause(), null).line;
    } catch (TimeoutException e) {
      failure = "no outcome within 30 s";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = "interrupted";
    }
    report.check(
        status == 200 && page.contains("Connected") && tokens != null,
        "the loopback listener took the redirect and exchanged the code at once",
        tokens != null
            ? "the browser was shown \"Connected\" (HTTP " + status + ")"
            : failure + " (browser shown HTTP " + status + ")");
    if (tokens == null) {
      return;
    }
    report.witness(tokens);
    RecordedRequest exchange = env.cafe24().lastRequest(env.cafe24().tokenPath(MALL));
    Map<String, String> form = exchange == null ? Map.of() : EmulatorServer.form(exchange);
    String auth = exchange == null ? null : exchange.getHeaders().get("Authorization");
    report.check(
        env.cafe24().codeExchanges() == 1
            && auth != null
            && auth.startsWith("Basic ")
            && !form.containsKey("client_secret")
            && "authorization_code".equals(form.get("grant_type")),
        "one code exchange, client authenticated with Basic, no secret in the body",
        "code exchanges at Cafe24: " + env.cafe24().codeExchanges());
    try (Response again = browser.newCall(new Request.Builder().url(landed).build()).execute()) {
      report.check(
          again.code() == 409 && env.cafe24().codeExchanges() == 1,
          "a reloaded redirect cannot spend the code twice",
          "second visit answered HTTP " + again.code());
    }
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
    report.check(
        MALL.equals(tokens.extra("mall_id"))
            && tokens.scopes().contains("mall.read_product")
            && tokens.lifetime().equals(Duration.ofHours(2))
            && tokens.refreshExpiresAt() != null
            && Duration.between(tokens.issuedAt(), tokens.refreshExpiresAt())
                .equals(Duration.ofDays(14)),
        "connected: mall " + tokens.extra("mall_id") + ", scopes " + tokens.scopes(),
        "access token 2 h, refresh token 14 days");
  }

  void cafe24Rotation() throws IOException {
    TokenSet before = env.broker().tokenSet(CAFE24);
    TokenSet after = env.broker().refresh(CAFE24);
    report.witness(before);
    report.witness(after);
    String oldRefresh = Objects.requireNonNull(before.refreshToken());
    String newRefresh = Objects.requireNonNull(after.refreshToken());
    report.check(
        !oldRefresh.equals(newRefresh),
        "the refresh returned a new refresh token",
        Secrets.fingerprint(oldRefresh) + " → " + Secrets.fingerprint(newRefresh));
    report.check(
        !env.cafe24().isRefreshTokenValid(oldRefresh)
            && env.cafe24().isRefreshTokenValid(newRefresh),
        "the old refresh token is dead at Cafe24 the moment the new one is issued",
        "a second, unsynchronised refresher would now get \"Invalid refresh_token\"");
    TokenSet stored = env.store().load(CAFE24);
    report.check(
        stored != null && newRefresh.equals(stored.refreshToken()),
        "saved before use: another process opening the store reads the new refresh token",
        "version " + (stored == null ? "none" : stored.version()) + " on disk");
    report.check(
        onDiskInClear(List.of(oldRefresh, newRefresh, after.accessToken())).isEmpty(),
        "encrypted at rest: no token appears in the store's files",
        env.tokensDir().getFileName() + "/" + fileNames());
  }

  /** The tokens among {@code tokens} that appear in clear in any file of the store. */
  private List<String> onDiskInClear(List<String> tokens) throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(env.tokensDir())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!Files.isRegularFile(f)) {
          continue; // a directory (once/, the one-time records), not a record file
        }
        String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        for (String t : tokens) {
          if (content.contains(t)) {
            found.add(Secrets.fingerprint(t));
          }
        }
      }
    }
    return found;
  }

  private List<String> fileNames() throws IOException {
    try (Stream<Path> files = Files.list(env.tokensDir())) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  void stampede() throws InterruptedException {
    Instant expiry = Objects.requireNonNull(env.broker().health(CAFE24).accessTokenExpiresAt());
    if (clock.instant().isBefore(expiry)) {
      clock.set(expiry);
    }
    out.println(
        "  the Cafe24 access token expired at "
            + Text.instant(expiry)
            + "; "
            + CALLERS
            + " threads ask for a token at once, the one refresh is held at Cafe24 meanwhile");
    int refreshes = env.cafe24().refreshes();
    int tokenRequests = env.cafe24().tokenRequests();
    Gate gate = env.cafe24().hold(env.cafe24().tokenPath(MALL));
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(CALLERS);
    Set<String> tokens = ConcurrentHashMap.newKeySet();
    AtomicInteger failures = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  go.await();
                  tokens.add(env.broker().accessToken(CAFE24));
                } catch (RuntimeException | InterruptedException e) {
                  failures.incrementAndGet();
                } finally {
                  done.countDown();
                }
              },
              "demo-caller-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    go.countDown();
    // The one renewal reaches Cafe24 and is held there while the other callers pile up behind it.
    boolean arrived = gate.awaitArrivals(1, 30, TimeUnit.SECONDS);
    gate.release();
    boolean finished = done.await(60, TimeUnit.SECONDS);
    report.secrets(tokens);
    report.check(
        arrived && finished && failures.get() == 0 && tokens.size() == 1,
        "all " + CALLERS + " callers got the same new token",
        tokens.size() == 1
            ? Secrets.fingerprint(tokens.iterator().next())
            : tokens.size() + " distinct tokens, " + failures.get() + " failures");
    report.check(
        env.cafe24().refreshes() - refreshes == 1
            && env.cafe24().tokenRequests() - tokenRequests == 1
            && env.cafe24().invalidRefreshAnswers() == 0,
        "Cafe24 saw exactly one refresh",
        (env.cafe24().tokenRequests() - tokenRequests)
            + " token request(s), "
            + env.cafe24().invalidRefreshAnswers()
            + " \"Invalid refresh_token\" answers");
  }

  void idleThirteenDays() {
    TokenSet dayZero = Objects.requireNonNull(env.store().load(CAFE24));
    report.witness(dayZero);
    String dayZeroRefresh = Objects.requireNonNull(dayZero.refreshToken());
    out.println(
        "  nobody calls Cafe24; its refresh token expires "
            + Text.instant(dayZero.refreshExpiresAt())
            + " (14 days). `tokenbroker run` makes a keep-alive pass; here one a day:");
    int refreshes = env.cafe24().refreshes();
    env.walkDays(13);
    report.check(
        env.cafe24().refreshes() > refreshes && !env.cafe24().isRefreshTokenValid(dayZeroRefresh),
        "keep-alive renewed the idle mall inside its 14-day window",
        (env.cafe24().refreshes() - refreshes) + " keep-alive refresh(es)");
    clock.advance(Duration.ofDays(1));
    out.println(
        "  day 14 ("
            + Text.instant(clock.instant())
            + "): the day-0 refresh token would have died today");
    Health health = env.broker().health(CAFE24);
    String token = env.broker().accessToken(CAFE24);
    report.secret(token);
    report.check(
        health.isActive() && env.cafe24().isAccessTokenValid(token),
        "the mall is still connected: a valid token, no browser needed",
        "refresh token now expires "
            + Text.relative(env.broker().health(CAFE24).refreshTokenExpiresAt(), clock.instant()));
  }

  void cafe24Revoke() {
    TokenSet current = env.broker().tokenSet(CAFE24);
    report.witness(current);
    env.broker().revoke(CAFE24);
    report.check(
        !env.cafe24().isAccessTokenValid(current.accessToken())
            && !env.cafe24().isRefreshTokenValid(Objects.requireNonNull(current.refreshToken())),
        "both tokens are dead at Cafe24",
        "access "
            + Secrets.fingerprint(current.accessToken())
            + ", refresh "
            + Secrets.fingerprint(current.refreshToken()));
    Health health = env.broker().health(CAFE24);
    String line;
    try {
      env.broker().accessToken(CAFE24);
      line = "a token was still handed out";
    } catch (ReauthorizationRequiredException e) {
      line = Failures.describe(e, null).line;
    }
    report.check(
        health.state() == Health.State.REAUTHORIZATION_REQUIRED
            && env.store().load(CAFE24) == null
            && line.contains("tokenbroker connect"),
        "the connection needs re-authorization and the store holds nothing",
        "`tokenbroker token` now says: " + line);
  }

  void cafe24InstallAtRunTime() throws IOException {
    // The operator of another mall installs the app: Cafe24 opens the App URL, signed.
    String launchUrl =
        env.cafe24().launchUrl("https://app.example.com/launch", CAFE24_CLIENT_ID, NEW_MALL);
    dev.tokenbroker.cafe24.Cafe24AppLaunch launches =
        dev.tokenbroker.cafe24.Cafe24AppLaunch.builder(env.cafe24Secret())
            .clock(clock)
            .replayGuard(env.broker()::claimOnce) // shared by every instance through the store
            .build();
    dev.tokenbroker.cafe24.Cafe24AppLaunch.Verified launch = launches.verify(launchUrl);
    String replay;
    try {
      launches.verify(launchUrl);
      replay = "accepted twice";
    } catch (dev.tokenbroker.cafe24.Cafe24LaunchException e) {
      replay = e.reason().toString();
    }
    report.check(
        launch.mallId().equals(NEW_MALL) && replay.equals("REPLAYED"),
        "the signed launch is verified, and a replayed one refused",
        "mall " + launch.mallId() + "; the replay: " + replay);

    ConnectionId mall = ConnectionId.of("cafe24", launch.mallId());
    AuthorizationRequest request = env.broker().startAuthorization(mall);
    report.secret(request.state());
    String redirected = env.cafe24().approve(request.url());
    // Whichever instance the redirect lands on completes it: the state is in the shared store.
    ConnectionId connected = env.broker().handleCallback(redirected);
    TokenSet tokens = env.broker().tokenSet(connected);
    report.witness(tokens);
    report.check(
        connected.equals(mall)
            && env.cafe24().isAccessTokenValid(tokens.accessToken())
            && env.store().load(mall) != null
            && env.broker().connections().contains(mall),
        "onboarded without a configuration change or restart",
        mall + " is served and saved (it was in no connections: line)");

    env.cafe24().uninstall(NEW_MALL);
    OkHttpClient api =
        new OkHttpClient.Builder().addInterceptor(env.broker().interceptor(mall)).build();
    int code;
    try (Response r =
        api.newCall(
                new Request.Builder()
                    .url(env.cafe24().mallBaseUrl(NEW_MALL) + "/api/v2/admin/products")
                    .build())
            .execute()) {
      code = r.code();
    }
    api.dispatcher().executorService().shutdown();
    api.connectionPool().evictAll();
    String after;
    try {
      env.broker().accessToken(mall);
      after = "still served";
    } catch (ConfigurationException e) {
      after = "no longer served";
    }
    report.check(
        code == 403
            && after.equals("no longer served")
            && !env.broker().connections().contains(mall),
        "the uninstall, seen in an API answer, removes the mall everywhere",
        "HTTP " + code + " \"app uninstalled\"; the mall is " + after);
  }
}
