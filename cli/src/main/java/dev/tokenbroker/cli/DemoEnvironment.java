package dev.tokenbroker.cli;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.FileTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tokenbroker demo}'s world: the three emulators registered with random secrets, an
 * encrypted file store with its key file, the {@code tokenbroker.yaml} the broker is built from
 * (and printed), a second store on the same directory playing another process, and the fake clock's
 * days passing with keep-alive passes. Also cleans up the temporary directory.
 */
final class DemoEnvironment {
  static final String MALL = "demo-mall";
  static final String NEW_MALL = "new-mall";
  static final String CAFE24_CLIENT_ID = "demo-cafe24-app";
  static final String NAVER_CLIENT_ID = "demo-naver-app";
  static final String KAKAO_REST_KEY = "demo-kakao-rest-key";
  static final long KAKAO_APP_ID = 1_234_567L;

  static final ConnectionId CAFE24 = ConnectionId.of("cafe24", MALL);
  static final ConnectionId NAVER = ConnectionId.of("naver", "self");
  static final ConnectionId KAKAO = ConnectionId.of("kakao", "shop-bot");

  private final DemoReport report;
  private final PrintWriter out;
  private final FakeClock clock;
  private final SecureRandom random = new SecureRandom();

  /** The Cafe24 app's client secret: what the App URL's launches are signed with. */
  private String cafe24Secret = "";

  private @Nullable Cafe24Emulator cafe24;
  private @Nullable NaverEmulator naver;
  private @Nullable KakaoEmulator kakao;
  private @Nullable TokenBroker broker;
  private @Nullable TokenStore store;
  private @Nullable Path tokensDir;

  DemoEnvironment(DemoReport report, FakeClock clock) {
    this.report = report;
    this.out = report.out();
    this.clock = clock;
  }

  /**
   * Registers the apps at the started emulators, writes the key file and the configuration in
   * {@code dir}, builds the broker and the second store, and prints the set-up.
   */
  void setUp(
      Path dir,
      String cafe24Redirect,
      Cafe24Emulator cafe24,
      NaverEmulator naver,
      KakaoEmulator kakao)
      throws IOException {
    this.cafe24 = cafe24;
    this.naver = naver;
    this.kakao = kakao;
    cafe24Secret = randomText(24);
    String naverSecret = "$2a$04$" + randomSalt();
    String kakaoSecret = randomText(24);
    report.secrets(List.of(cafe24Secret, naverSecret, kakaoSecret));
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
    report.secret(keyText);
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
            .listener(report::event)
            .withoutKeepAlive() // the demo runs its keep-alive passes itself, on its fake clock
            .build();
    // A second store on the same directory plays "another process": what it reads is on disk.
    store =
        FileTokenStore.builder(tokensDir)
            .clock(clock)
            .encryption(EncryptionKeys.parse(keyText))
            .build();

    report.step("Setup (in " + dir + ", deleted at the end)");
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

  /** Closes the broker and the second store, whichever were built. */
  void close() {
    if (broker != null) {
      broker.close();
    }
    if (store != null) {
      store.close();
    }
  }

  /** Moves the clock a day at a time, running a keep-alive pass each day. */
  void walkDays(long days) {
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

  /**
   * Remembers the tokens the store holds now, so that the last check can prove none was printed.
   */
  void witnessStore() {
    if (store == null) {
      return;
    }
    for (ConnectionId id : List.of(CAFE24, NAVER, KAKAO)) {
      try {
        report.witness(store.load(id));
      } catch (RuntimeException e) {
        // a closed store: nothing more to witness
      }
    }
  }

  FakeClock clock() {
    return clock;
  }

  String cafe24Secret() {
    return cafe24Secret;
  }

  Path tokensDir() {
    return Objects.requireNonNull(tokensDir);
  }

  TokenBroker broker() {
    return Objects.requireNonNull(broker);
  }

  TokenStore store() {
    return Objects.requireNonNull(store);
  }

  Cafe24Emulator cafe24() {
    return Objects.requireNonNull(cafe24);
  }

  NaverEmulator naver() {
    return Objects.requireNonNull(naver);
  }

  KakaoEmulator kakao() {
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

  private static void restrict(Path file) {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: the temporary directory is private enough for a demo
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }
}
