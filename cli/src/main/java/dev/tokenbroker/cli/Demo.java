package dev.tokenbroker.cli;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.ReauthorizationRequiredException;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.EmulatorServer.Gate;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * {@code tokenbroker demo}: the three platforms' real flows against the testkit's emulators, in
 * this process, on one fake clock that can jump days. Each step prints what it did and checks, at
 * the emulator, that the platform's rule held (✓ or ✗ with the reason). Returns 0 only if every
 * check passed. Prints fingerprints at most, never a token or secret — and checks that too.
 */
final class Demo {
  private static final String MALL = "demo-mall";
  private static final String NEW_MALL = "new-mall";

  /** The Cafe24 app's client secret: what the App URL's launches are signed with. */
  private String cafe24Secret = "";

  private static final String CAFE24_CLIENT_ID = "demo-cafe24-app";
  private static final String NAVER_CLIENT_ID = "demo-naver-app";
  private static final String KAKAO_REST_KEY = "demo-kakao-rest-key";
  private static final long KAKAO_APP_ID = 1_234_567L;
  private static final int CALLERS = 200;

  private static final ConnectionId CAFE24 = ConnectionId.of("cafe24", MALL);
  private static final ConnectionId NAVER = ConnectionId.of("naver", "self");
  private static final ConnectionId KAKAO = ConnectionId.of("kakao", "shop-bot");

  private final PrintWriter out;
  private final StringWriter transcript = new StringWriter();
  private final boolean verbose;
  private final FakeClock clock = FakeClock.create();
  private final Instant start = clock.instant();
  private final SecureRandom random = new SecureRandom();
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private int passed;
  private int failed;
  private volatile @Nullable String cafe24State;

  private @Nullable Cafe24Emulator cafe24;
  private @Nullable NaverEmulator naver;
  private @Nullable KakaoEmulator kakao;
  private @Nullable TokenBroker broker;
  private @Nullable TokenStore store;
  private @Nullable Instant kakaoConnectedAt;
  private @Nullable Path tokensDir;

  Demo(PrintWriter console, boolean verbose) {
    this.out = new PrintWriter(new Tee(console, transcript), true);
    this.verbose = verbose;
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
    try (Cafe24Emulator c = new Cafe24Emulator(clock);
        NaverEmulator n = new NaverEmulator(clock);
        KakaoEmulator k = new KakaoEmulator(clock)) {
      cafe24 = c;
      naver = n;
      kakao = k;
      AtomicReference<@Nullable TokenBroker> late = new AtomicReference<>();
      RedirectCapture capture =
          new RedirectCapture(
              () -> cafe24State,
              url -> Objects.requireNonNull(late.get()).completeAuthorization(CAFE24, url),
              out::println);
      try (LoopbackListener listener =
          LoopbackListener.startOnFreePort("/cafe24/callback", capture, CAFE24.toString())) {
        setUp(dir, listener.redirect().toString());
        late.set(broker);
        step("1. Cafe24 — connect a mall (authorization code, browser played by an HTTP client)");
        guarded(() -> cafe24Connect(capture, listener.redirect()));
        step("2. Cafe24 — every refresh rotates the refresh token");
        guarded(this::cafe24Rotation);
        step("3. Naver Commerce — bcrypt-signed client credentials and the 30-minute rule");
        guarded(this::naverSignedTokens);
        step("4. Kakao — PKCE, partial rotation, token info");
        guarded(this::kakaoPkceAndEarlyRefresh);
        step("5. " + CALLERS + " callers at an expiry — one renewal");
        guarded(this::stampede);
        step("6. 13 idle days — keep-alive saves Cafe24's 14-day refresh token");
        guarded(this::idleThirteenDays);
        step("7. Kakao — a late refresh rotates the refresh token");
        guarded(this::kakaoLateRefresh);
        step("8. Cafe24 — revoke");
        guarded(this::cafe24Revoke);
        step("9. Cafe24 — a mall installs the app at run time (template cafe24:{mall})");
        guarded(this::cafe24InstallAtRunTime);
        step("Status (`tokenbroker status`)");
        StatusTable.of(broker(), clock.instant()).printTable(out);
      } finally {
        if (broker != null) {
          broker.close();
        }
        if (store != null) {
          store.close();
        }
      }
    } finally {
      deleteTree(dir);
    }
    step("Secrets");
    witnessStore();
    String text = transcript.toString();
    List<String> leaked = new ArrayList<>();
    for (String s : secrets) {
      if (text.contains(s)) {
        leaked.add(Secrets.fingerprint(s));
      }
    }
    check(
        leaked.isEmpty(),
        "no token or secret appeared in this output",
        leaked.isEmpty()
            ? secrets.size() + " tokens and secrets checked; fingerprints at most"
            : "leaked: " + leaked);
    Duration took = Duration.ofNanos(System.nanoTime() - began);
    out.println();
    String simulated = Text.duration(Duration.between(start, clock.instant()));
    if (failed == 0) {
      out.println(
          "✓ all "
              + passed
              + " checks passed ("
              + simulated
              + " simulated in "
              + took.toMillis()
              + " ms)");
      return ExitCode.OK;
    }
    out.println("✗ " + failed + " of " + (passed + failed) + " checks failed");
    return ExitCode.FAILURE;
  }

  // ------------------------------------------------------------------------------------------
  // Setup

  private void setUp(Path dir, String cafe24Redirect) throws IOException {
    cafe24Secret = randomText(24);
    String naverSecret = "$2a$04$" + randomSalt();
    String kakaoSecret = randomText(24);
    secrets.addAll(List.of(cafe24Secret, naverSecret, kakaoSecret));
    String kakaoRedirect = "http://localhost:8765/kakao/callback";
    cafe24()
        .registerApp(CAFE24_CLIENT_ID, cafe24Secret, cafe24Redirect)
        .addMall(MALL, NEW_MALL)
        .start();
    naver().registerApplication(NAVER_CLIENT_ID, naverSecret).start();
    kakao().registerApp(KAKAO_REST_KEY, KAKAO_APP_ID, kakaoRedirect).start();
    kakao().clientSecret(KAKAO_REST_KEY, kakaoSecret);

    // An encrypted file store, as a real installation would use: the key in an owner-only file,
    // never in the configuration.
    byte[] key = new byte[32];
    random.nextBytes(key);
    String keyText = Base64.getEncoder().encodeToString(key);
    secrets.add(keyText);
    Path keyFile = dir.resolve("store.key");
    Files.writeString(keyFile, keyText + "\n", StandardCharsets.US_ASCII);
    restrict(keyFile);
    tokensDir = dir.resolve("tokens");
    Path config = dir.resolve("tokenbroker.yaml");
    String yaml =
        String.join(
            "\n",
            "store:",
            "  type: file",
            "  path: " + tokensDir,
            "  key-file: " + keyFile,
            "apps:",
            "  demo-cafe24-app:",
            "    provider: cafe24",
            "    client-id: " + CAFE24_CLIENT_ID,
            "    client-secret: ${DEMO_CAFE24_SECRET}",
            "    redirect-uri: " + cafe24Redirect,
            "    scopes: [mall.read_product]",
            "    base-url: " + cafe24().baseUrlTemplate(),
            "    template: cafe24:{mall}     # any mall that installs the app, at run time",
            "connections:",
            "  " + CAFE24 + ": { app: demo-cafe24-app, mall-id: " + MALL + " }",
            "  " + NAVER + ":",
            "    client-id: " + NAVER_CLIENT_ID,
            "    client-secret: ${DEMO_NAVER_SECRET}",
            "    base-url: " + naver().baseUrl(),
            "  " + KAKAO + ":",
            "    client-id: " + KAKAO_REST_KEY,
            "    client-secret: ${DEMO_KAKAO_SECRET}",
            "    redirect-uri: " + kakaoRedirect,
            "    app-id: \"" + KAKAO_APP_ID + "\"",
            "    auth-base-url: " + kakao().baseUrl(),
            "    api-base-url: " + kakao().baseUrl(),
            "");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    broker =
        TokenBroker.builder()
            .configFile(config)
            .environment(
                Map.of(
                    "DEMO_CAFE24_SECRET", cafe24Secret,
                    "DEMO_NAVER_SECRET", naverSecret,
                    "DEMO_KAKAO_SECRET", kakaoSecret))
            .clock(clock)
            .listener(this::onEvent)
            .withoutKeepAlive() // the demo runs its keep-alive passes itself, on its fake clock
            .build();
    // A second store on the same directory plays "another process": what it reads is on disk.
    store =
        FileTokenStore.builder(tokensDir)
            .clock(clock)
            .encryption(EncryptionKeys.parse(keyText))
            .build();

    step("Setup (in " + dir + ", deleted at the end)");
    out.println("  Cafe24 emulator   " + cafe24().baseUrl() + "  (mall " + MALL + ")");
    out.println("  Naver emulator    " + naver().baseUrl());
    out.println("  Kakao emulator    " + kakao().baseUrl());
    out.println(
        "  loopback          " + cafe24Redirect + "  (what `tokenbroker connect` listens on)");
    out.println(
        "  store             tokens/  (encrypted file store, AES-256-GCM; key in store.key)");
    out.println("  tokenbroker.yaml  (secrets come from ${VARS}, never from the file):");
    for (String line : yaml.split("\n")) {
      out.println("    │ " + line);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Steps

  private void cafe24Connect(RedirectCapture capture, HttpUrl redirect) throws IOException {
    AuthorizationRequest request = broker().startAuthorization(CAFE24);
    secrets.add(request.state());
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
    check(
        status == 200 && page.contains("Connected") && tokens != null,
        "the loopback listener took the redirect and exchanged the code at once",
        tokens != null
            ? "the browser was shown \"Connected\" (HTTP " + status + ")"
            : failure + " (browser shown HTTP " + status + ")");
    if (tokens == null) {
      return;
    }
    witness(tokens);
    RecordedRequest exchange = cafe24().lastRequest(cafe24().tokenPath(MALL));
    Map<String, String> form = exchange == null ? Map.of() : EmulatorServer.form(exchange);
    String auth = exchange == null ? null : exchange.getHeaders().get("Authorization");
    check(
        cafe24().codeExchanges() == 1
            && auth != null
            && auth.startsWith("Basic ")
            && !form.containsKey("client_secret")
            && "authorization_code".equals(form.get("grant_type")),
        "one code exchange, client authenticated with Basic, no secret in the body",
        "code exchanges at Cafe24: " + cafe24().codeExchanges());
    try (Response again = browser.newCall(new Request.Builder().url(landed).build()).execute()) {
      check(
          again.code() == 409 && cafe24().codeExchanges() == 1,
          "a reloaded redirect cannot spend the code twice",
          "second visit answered HTTP " + again.code());
    }
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
    check(
        MALL.equals(tokens.extra("mall_id"))
            && tokens.scopes().contains("mall.read_product")
            && tokens.lifetime().equals(Duration.ofHours(2))
            && tokens.refreshExpiresAt() != null
            && Duration.between(tokens.issuedAt(), tokens.refreshExpiresAt())
                .equals(Duration.ofDays(14)),
        "connected: mall " + tokens.extra("mall_id") + ", scopes " + tokens.scopes(),
        "access token 2 h, refresh token 14 days");
  }

  private void cafe24Rotation() throws IOException {
    TokenSet before = broker().tokenSet(CAFE24);
    TokenSet after = broker().refresh(CAFE24);
    witness(before);
    witness(after);
    String oldRefresh = Objects.requireNonNull(before.refreshToken());
    String newRefresh = Objects.requireNonNull(after.refreshToken());
    check(
        !oldRefresh.equals(newRefresh),
        "the refresh returned a new refresh token",
        Secrets.fingerprint(oldRefresh) + " → " + Secrets.fingerprint(newRefresh));
    check(
        !cafe24().isRefreshTokenValid(oldRefresh) && cafe24().isRefreshTokenValid(newRefresh),
        "the old refresh token is dead at Cafe24 the moment the new one is issued",
        "a second, unsynchronised refresher would now get \"Invalid refresh_token\"");
    TokenSet stored = store().load(CAFE24);
    check(
        stored != null && newRefresh.equals(stored.refreshToken()),
        "saved before use: another process opening the store reads the new refresh token",
        "version " + (stored == null ? "none" : stored.version()) + " on disk");
    check(
        onDiskInClear(List.of(oldRefresh, newRefresh, after.accessToken())).isEmpty(),
        "encrypted at rest: no token appears in the store's files",
        Objects.requireNonNull(tokensDir).getFileName() + "/" + fileNames());
  }

  /** The tokens among {@code tokens} that appear in clear in any file of the store. */
  private List<String> onDiskInClear(List<String> tokens) throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(Objects.requireNonNull(tokensDir))) {
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
    try (Stream<Path> files = Files.list(Objects.requireNonNull(tokensDir))) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private static void restrict(Path file) {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: the temporary directory is private enough for a demo
    }
  }

  private void naverSignedTokens() {
    TokenSet first = broker().tokenSet(NAVER);
    witness(first);
    RecordedRequest request = naver().lastRequest(NaverEmulator.TOKEN_PATH);
    Map<String, String> form = request == null ? Map.of() : EmulatorServer.form(request);
    check(
        naver().tokenRequests() == 1
            && naver().badSignatures() == 0
            && form.containsKey("client_secret_sign")
            && !form.containsKey("client_secret"),
        "Naver verified the bcrypt signature of client_id_timestamp; the secret was never sent",
        "form fields: " + form.keySet());
    check(
        first.lifetime().equals(Duration.ofHours(3)),
        "a 3-hour token, no refresh token",
        "expires " + Text.instant(first.expiresAt()));

    clock.advance(Duration.ofHours(2));
    int requests = naver().tokenRequests();
    String cached = broker().accessToken(NAVER);
    check(
        cached.equals(first.accessToken()) && naver().tokenRequests() == requests,
        "1 h left: served from cache without asking (asking now would return the same token)",
        "Naver token requests still " + requests);
    TokenSet same = broker().refresh(NAVER);
    witness(same);
    check(
        same.accessToken().equals(first.accessToken())
            && same.expiresAt().equals(first.expiresAt()),
        "forced anyway with ≥ 30 min left: Naver hands back the same token; expiry kept",
        Secrets.fingerprint(same.accessToken()) + ", expires " + Text.instant(same.expiresAt()));

    clock.advance(Duration.ofMinutes(40));
    TokenSet renewed = broker().refresh(NAVER);
    witness(renewed);
    check(
        !renewed.accessToken().equals(first.accessToken())
            && renewed.lifetime().equals(Duration.ofHours(3)),
        "20 min left (inside the last 30): a new token, valid 3 h",
        Secrets.fingerprint(first.accessToken())
            + " → "
            + Secrets.fingerprint(renewed.accessToken()));
    check(
        naver().isValid(first.accessToken()),
        "the previous token keeps working until its own expiry",
        "so callers holding it are not cut off");
  }

  private void kakaoPkceAndEarlyRefresh() {
    AuthorizationRequest request = broker().startAuthorization(KAKAO);
    secrets.add(request.state());
    secrets.add(Objects.requireNonNull(request.codeVerifier()));
    HttpUrl url = Objects.requireNonNull(HttpUrl.parse(request.url().toString()));
    String challenge = url.queryParameter("code_challenge");
    check(
        challenge != null
            && "S256".equals(url.queryParameter("code_challenge_method"))
            && request.codeVerifier() != null
            && challenge.equals(s256(request.codeVerifier())),
        "the authorization URL carries a PKCE S256 challenge",
        "the verifier stays in this process");
    String redirected = kakao().followAuthorization(request.url());
    out.println(
        "  operator approves and pastes the redirected URL (http://localhost:8765/…?code=…)");
    TokenSet tokens = broker().completeAuthorization(KAKAO, redirected);
    kakaoConnectedAt = clock.instant();
    witness(tokens);
    RecordedRequest exchange = kakao().lastRequest(KakaoEmulator.TOKEN_PATH);
    Map<String, String> form = exchange == null ? Map.of() : EmulatorServer.form(exchange);
    check(
        kakao().codeExchanges() == 1 && form.containsKey("code_verifier"),
        "code exchanged with the verifier; Kakao checked it against the challenge",
        "access token "
            + Text.duration(tokens.lifetime())
            + ", refresh token "
            + Text.left(tokens.refreshExpiresAt(), clock.instant()));

    TokenSet early = broker().refresh(KAKAO);
    witness(early);
    check(
        Objects.equals(early.refreshToken(), tokens.refreshToken())
            && Objects.equals(early.refreshExpiresAt(), tokens.refreshExpiresAt())
            && !early.accessToken().equals(tokens.accessToken())
            && kakao().rotations() == 0,
        "an early refresh renews the access token only; the refresh token and its expiry are kept",
        "Kakao rotates only in the refresh token's last month");

    int infos = kakao().tokenInfoRequests();
    TokenSet validated = broker().validate(KAKAO);
    witness(validated);
    check(
        kakao().tokenInfoRequests() == infos + 1
            && String.valueOf(KakaoEmulator.DEFAULT_USER_ID).equals(validated.extra("user_id"))
            && String.valueOf(KAKAO_APP_ID).equals(validated.extra("app_id")),
        "token info (`tokenbroker validate`): the token belongs to app "
            + validated.extra("app_id")
            + ", user "
            + validated.extra("user_id"),
        "a token minted for another app would be refused");
  }

  private void stampede() throws InterruptedException {
    Instant expiry = Objects.requireNonNull(broker().health(CAFE24).accessTokenExpiresAt());
    if (clock.instant().isBefore(expiry)) {
      clock.set(expiry);
    }
    out.println(
        "  the Cafe24 access token expired at "
            + Text.instant(expiry)
            + "; "
            + CALLERS
            + " threads ask for a token at once, the one refresh is held at Cafe24 meanwhile");
    int refreshes = cafe24().refreshes();
    int tokenRequests = cafe24().tokenRequests();
    Gate gate = cafe24().hold(cafe24().tokenPath(MALL));
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
                  tokens.add(broker().accessToken(CAFE24));
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
    secrets.addAll(tokens);
    check(
        arrived && finished && failures.get() == 0 && tokens.size() == 1,
        "all " + CALLERS + " callers got the same new token",
        tokens.size() == 1
            ? Secrets.fingerprint(tokens.iterator().next())
            : tokens.size() + " distinct tokens, " + failures.get() + " failures");
    check(
        cafe24().refreshes() - refreshes == 1
            && cafe24().tokenRequests() - tokenRequests == 1
            && cafe24().invalidRefreshAnswers() == 0,
        "Cafe24 saw exactly one refresh",
        (cafe24().tokenRequests() - tokenRequests)
            + " token request(s), "
            + cafe24().invalidRefreshAnswers()
            + " \"Invalid refresh_token\" answers");
  }

  private void idleThirteenDays() {
    TokenSet dayZero = Objects.requireNonNull(store().load(CAFE24));
    witness(dayZero);
    String dayZeroRefresh = Objects.requireNonNull(dayZero.refreshToken());
    out.println(
        "  nobody calls Cafe24; its refresh token expires "
            + Text.instant(dayZero.refreshExpiresAt())
            + " (14 days). `tokenbroker run` makes a keep-alive pass; here one a day:");
    int refreshes = cafe24().refreshes();
    walkDays(13);
    check(
        cafe24().refreshes() > refreshes && !cafe24().isRefreshTokenValid(dayZeroRefresh),
        "keep-alive renewed the idle mall inside its 14-day window",
        (cafe24().refreshes() - refreshes) + " keep-alive refresh(es)");
    clock.advance(Duration.ofDays(1));
    out.println(
        "  day 14 ("
            + Text.instant(clock.instant())
            + "): the day-0 refresh token would have died today");
    Health health = broker().health(CAFE24);
    String token = broker().accessToken(CAFE24);
    secrets.add(token);
    check(
        health.isActive() && cafe24().isAccessTokenValid(token),
        "the mall is still connected: a valid token, no browser needed",
        "refresh token now expires "
            + Text.relative(broker().health(CAFE24).refreshTokenExpiresAt(), clock.instant()));
  }

  private void kakaoLateRefresh() {
    Instant connected = Objects.requireNonNull(kakaoConnectedAt);
    TokenSet before = Objects.requireNonNull(store().load(KAKAO));
    witness(before);
    long days = Duration.between(clock.instant(), connected.plus(Duration.ofDays(31))).toDays() + 1;
    out.println(
        "  "
            + days
            + " more idle days with keep-alive: Kakao's refresh token (≈ 60 days) enters its last"
            + " month");
    walkDays(days);
    String oldRefresh = Objects.requireNonNull(before.refreshToken());
    out.println(
        "  "
            + Text.duration(Duration.between(connected, clock.instant()))
            + " after the Kakao login; refresh token has "
            + Text.left(before.refreshExpiresAt(), clock.instant())
            + " left");
    TokenSet late = broker().refresh(KAKAO);
    witness(late);
    check(
        late.refreshToken() != null
            && !oldRefresh.equals(late.refreshToken())
            && kakao().rotations() == 1
            && kakao().refreshTokenExpiresAt(oldRefresh) == null,
        "a refresh in the last month rotates: new refresh token, the old one is dead",
        Secrets.fingerprint(oldRefresh) + " → " + Secrets.fingerprint(late.refreshToken()));
    check(
        late.refreshExpiresAt() != null
            && late.refreshExpiresAt().isAfter(clock.instant().plus(Duration.ofDays(59))),
        "the new refresh token is good for about two months again",
        "expires " + Text.instant(late.refreshExpiresAt()));
    int requests = naver().tokenRequests();
    TokenSet naverToken = broker().tokenSet(NAVER);
    witness(naverToken);
    check(
        naver().tokenRequests() == requests + 1 && naverToken.expiresAt().isAfter(clock.instant()),
        "Naver needs no keep-alive: after a month idle, one signed request gives a new token",
        "expires " + Text.relative(naverToken.expiresAt(), clock.instant()));
  }

  private void cafe24Revoke() {
    TokenSet current = broker().tokenSet(CAFE24);
    witness(current);
    broker().revoke(CAFE24);
    check(
        !cafe24().isAccessTokenValid(current.accessToken())
            && !cafe24().isRefreshTokenValid(Objects.requireNonNull(current.refreshToken())),
        "both tokens are dead at Cafe24",
        "access "
            + Secrets.fingerprint(current.accessToken())
            + ", refresh "
            + Secrets.fingerprint(current.refreshToken()));
    Health health = broker().health(CAFE24);
    String line;
    try {
      broker().accessToken(CAFE24);
      line = "a token was still handed out";
    } catch (ReauthorizationRequiredException e) {
      line = Failures.describe(e, null).line;
    }
    check(
        health.state() == Health.State.REAUTHORIZATION_REQUIRED
            && store().load(CAFE24) == null
            && line.contains("tokenbroker connect"),
        "the connection needs re-authorization and the store holds nothing",
        "`tokenbroker token` now says: " + line);
  }

  private void cafe24InstallAtRunTime() throws IOException {
    // The operator of another mall installs the app: Cafe24 opens the App URL, signed.
    String launchUrl =
        cafe24().launchUrl("https://app.example.com/launch", CAFE24_CLIENT_ID, NEW_MALL);
    dev.tokenbroker.cafe24.Cafe24AppLaunch launches =
        dev.tokenbroker.cafe24.Cafe24AppLaunch.builder(cafe24Secret)
            .clock(clock)
            .replayGuard(broker()::claimOnce) // shared by every instance through the store
            .build();
    dev.tokenbroker.cafe24.Cafe24AppLaunch.Verified launch = launches.verify(launchUrl);
    String replay;
    try {
      launches.verify(launchUrl);
      replay = "accepted twice";
    } catch (dev.tokenbroker.cafe24.Cafe24LaunchException e) {
      replay = e.reason().toString();
    }
    check(
        launch.mallId().equals(NEW_MALL) && replay.equals("REPLAYED"),
        "the signed launch is verified, and a replayed one refused",
        "mall " + launch.mallId() + "; the replay: " + replay);

    ConnectionId mall = ConnectionId.of("cafe24", launch.mallId());
    AuthorizationRequest request = broker().startAuthorization(mall);
    secrets.add(request.state());
    String redirected = cafe24().approve(request.url());
    // Whichever instance the redirect lands on completes it: the state is in the shared store.
    ConnectionId connected = broker().handleCallback(redirected);
    TokenSet tokens = broker().tokenSet(connected);
    witness(tokens);
    check(
        connected.equals(mall)
            && cafe24().isAccessTokenValid(tokens.accessToken())
            && store().load(mall) != null
            && broker().connections().contains(mall),
        "onboarded without a configuration change or restart",
        mall + " is served and saved (it was in no connections: line)");

    cafe24().uninstall(NEW_MALL);
    OkHttpClient api =
        new OkHttpClient.Builder().addInterceptor(broker().interceptor(mall)).build();
    int code;
    try (Response r =
        api.newCall(
                new Request.Builder()
                    .url(cafe24().mallBaseUrl(NEW_MALL) + "/api/v2/admin/products")
                    .build())
            .execute()) {
      code = r.code();
    }
    api.dispatcher().executorService().shutdown();
    api.connectionPool().evictAll();
    String after;
    try {
      broker().accessToken(mall);
      after = "still served";
    } catch (ConfigurationException e) {
      after = "no longer served";
    }
    check(
        code == 403 && after.equals("no longer served") && !broker().connections().contains(mall),
        "the uninstall, seen in an API answer, removes the mall everywhere",
        "HTTP " + code + " \"app uninstalled\"; the mall is " + after);
  }

  // ------------------------------------------------------------------------------------------
  // Helpers

  /** Moves the clock a day at a time, running a keep-alive pass each day. */
  private void walkDays(long days) {
    for (long d = 1; d <= days; d++) {
      clock.advance(Duration.ofDays(1));
      List<ConnectionId> renewed = broker().keepAlive();
      witnessStore();
      if (!renewed.isEmpty()) {
        out.println(
            "  "
                + Text.instant(clock.instant())
                + "  keep-alive renewed "
                + renewed
                + " (refresh token "
                + Text.relative(
                    broker().health(renewed.get(0)).refreshTokenExpiresAt(), clock.instant())
                + ")");
      }
    }
  }

  private void onEvent(TokenEvent event) {
    if (verbose) {
      synchronized (out) {
        out.println("    · " + event);
      }
    }
  }

  private void step(String title) {
    out.println();
    out.println(title);
  }

  /** A step's body; an exception ends the step as one failed check, and the demo goes on. */
  private void guarded(Body body) {
    try {
      body.run();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      check(false, "the step ran to its end", Failures.describe(e, null).line);
    } finally {
      witnessStore();
    }
  }

  @FunctionalInterface
  private interface Body {
    void run() throws Exception;
  }

  private void check(boolean ok, String what, String detail) {
    if (ok) {
      passed++;
    } else {
      failed++;
    }
    out.println("  " + (ok ? "✓ " : "✗ ") + what + (detail.isEmpty() ? "" : " — " + detail));
  }

  /** Remembers a set's tokens, so that the last check can prove none was printed. */
  private void witness(@Nullable TokenSet tokens) {
    if (tokens != null) {
      secrets.add(tokens.accessToken());
      if (tokens.refreshToken() != null) {
        secrets.add(tokens.refreshToken());
      }
    }
  }

  private void witnessStore() {
    if (store == null) {
      return;
    }
    for (ConnectionId id : List.of(CAFE24, NAVER, KAKAO)) {
      try {
        witness(store.load(id));
      } catch (RuntimeException e) {
        // a closed store: nothing more to witness
      }
    }
  }

  private TokenBroker broker() {
    return Objects.requireNonNull(broker);
  }

  private TokenStore store() {
    return Objects.requireNonNull(store);
  }

  private Cafe24Emulator cafe24() {
    return Objects.requireNonNull(cafe24);
  }

  private NaverEmulator naver() {
    return Objects.requireNonNull(naver);
  }

  private KakaoEmulator kakao() {
    return Objects.requireNonNull(kakao);
  }

  private String randomText(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** 22 characters of bcrypt's alphabet: a Naver application secret is a bcrypt salt. */
  private String randomSalt() {
    String alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 22; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private static String s256(@Nullable String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(Objects.requireNonNull(verifier).getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }

  /** Writes to the console and keeps a transcript for the final secrets check. */
  private static final class Tee extends Writer {
    private final Writer console;
    private final StringWriter copy;

    Tee(Writer console, StringWriter copy) {
      this.console = console;
      this.copy = copy;
    }

    @Override
    public void write(char[] cbuf, int off, int len) throws IOException {
      console.write(cbuf, off, len);
      copy.write(cbuf, off, len);
    }

    @Override
    public void flush() throws IOException {
      console.flush();
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
