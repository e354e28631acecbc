package dev.tokenbroker.cli;

import static dev.tokenbroker.cli.DemoEnvironment.KAKAO;
import static dev.tokenbroker.cli.DemoEnvironment.KAKAO_APP_ID;
import static dev.tokenbroker.cli.DemoEnvironment.NAVER;

import dev.tokenbroker.AuthorizationRequest;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.testkit.EmulatorServer;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoEmulator;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tokenbroker demo}'s Naver Commerce and Kakao steps: Naver's bcrypt-signed client
 * credentials and its 30-minute rule; Kakao's PKCE, its partial rotation (early and late refreshes)
 * and token info; and Naver needing no keep-alive after a month idle. Each step acts through the
 * broker and checks the platform's rule at the emulator.
 */
final class DemoNaverKakaoSteps {
  private final DemoEnvironment env;
  private final DemoReport report;
  private final PrintWriter out;
  private final FakeClock clock;
  private @Nullable Instant kakaoConnectedAt;

  DemoNaverKakaoSteps(DemoEnvironment env, DemoReport report) {
    this.env = env;
    this.report = report;
    this.out = report.out();
    this.clock = env.clock();
  }

  void naverSignedTokens() {
    TokenSet first = env.broker().tokenSet(NAVER);
    report.witness(first);
    RecordedRequest request = env.naver().lastRequest(NaverEmulator.TOKEN_PATH);
    Map<String, String> form = request == null ? Map.of() : EmulatorServer.form(request);
    report.check(
        env.naver().tokenRequests() == 1
            && env.naver().badSignatures() == 0
            && form.containsKey("client_secret_sign")
            && !form.containsKey("client_secret"),
        "Naver verified the bcrypt signature of client_id_timestamp; the secret was never sent",
        "form fields: " + form.keySet());
    report.check(
        first.lifetime().equals(Duration.ofHours(3)),
        "a 3-hour token, no refresh token",
        "expires " + Text.instant(first.expiresAt()));

    clock.advance(Duration.ofHours(2));
    int requests = env.naver().tokenRequests();
    String cached = env.broker().accessToken(NAVER);
    report.check(
        cached.equals(first.accessToken()) && env.naver().tokenRequests() == requests,
        "1 h left: served from cache without asking (asking now would return the same token)",
        "Naver token requests still " + requests);
    TokenSet same = env.broker().refresh(NAVER);
    report.witness(same);
    report.check(
        same.accessToken().equals(first.accessToken())
            && same.expiresAt().equals(first.expiresAt()),
        "forced anyway with ≥ 30 min left: Naver hands back the same token; expiry kept",
        Secrets.fingerprint(same.accessToken()) + ", expires " + Text.instant(same.expiresAt()));

    clock.advance(Duration.ofMinutes(40));
    TokenSet renewed = env.broker().refresh(NAVER);
    report.witness(renewed);
    report.check(
        !renewed.accessToken().equals(first.accessToken())
            && renewed.lifetime().equals(Duration.ofHours(3)),
        "20 min left (inside the last 30): a new token, valid 3 h",
        Secrets.fingerprint(first.accessToken())
            + " → "
            + Secrets.fingerprint(renewed.accessToken()));
    report.check(
        env.naver().isValid(first.accessToken()),
        "the previous token keeps working until its own expiry",
        "so callers holding it are not cut off");
  }

  void kakaoPkceAndEarlyRefresh() {
    AuthorizationRequest request = env.broker().startAuthorization(KAKAO);
    report.secret(request.state());
    report.secret(Objects.requireNonNull(request.codeVerifier()));
    HttpUrl url = Objects.requireNonNull(HttpUrl.parse(request.url().toString()));
    String challenge = url.queryParameter("code_challenge");
    report.check(
        challenge != null
            && "S256".equals(url.queryParameter("code_challenge_method"))
            && request.codeVerifier() != null
            && challenge.equals(s256(request.codeVerifier())),
        "the authorization URL carries a PKCE S256 challenge",
        "the verifier stays in this process");
    String redirected = env.kakao().followAuthorization(request.url());
    out.println(
        "  operator approves and pastes the redirected URL (http://localhost:8765/…?code=…)");
    TokenSet tokens = env.broker().completeAuthorization(KAKAO, redirected);
    kakaoConnectedAt = clock.instant();
    report.witness(tokens);
    RecordedRequest exchange = env.kakao().lastRequest(KakaoEmulator.TOKEN_PATH);
    Map<String, String> form = exchange == null ? Map.of() : EmulatorServer.form(exchange);
    report.check(
        env.kakao().codeExchanges() == 1 && form.containsKey("code_verifier"),
        "code exchanged with the verifier; Kakao checked it against the challenge",
        "access token "
            + Text.duration(tokens.lifetime())
            + ", refresh token "
            + Text.left(tokens.refreshExpiresAt(), clock.instant()));

    TokenSet early = env.broker().refresh(KAKAO);
    report.witness(early);
    report.check(
        Objects.equals(early.refreshToken(), tokens.refreshToken())
            && Objects.equals(early.refreshExpiresAt(), tokens.refreshExpiresAt())
            && !early.accessToken().equals(tokens.accessToken())
            && env.kakao().rotations() == 0,
        "an early refresh renews the access token only; the refresh token and its expiry are kept",
        "Kakao rotates only in the refresh token's last month");

    int infos = env.kakao().tokenInfoRequests();
    TokenSet validated = env.broker().validate(KAKAO);
    report.witness(validated);
    report.check(
        env.kakao().tokenInfoRequests() == infos + 1
            && String.valueOf(KakaoEmulator.DEFAULT_USER_ID).equals(validated.extra("user_id"))
            && String.valueOf(KAKAO_APP_ID).equals(validated.extra("app_id")),
        "token info (`tokenbroker validate`): the token belongs to app "
            + validated.extra("app_id")
            + ", user "
            + validated.extra("user_id"),
        "a token minted for another app would be refused");
  }

  void kakaoLateRefresh() {
    Instant connected = Objects.requireNonNull(kakaoConnectedAt);
    TokenSet before = Objects.requireNonNull(env.store().load(KAKAO));
    report.witness(before);
    long days = Duration.between(clock.instant(), connected.plus(Duration.ofDays(31))).toDays() + 1;
    out.println(
        "  "
            + days
            + " more idle days with keep-alive: Kakao's refresh token (≈ 60 days) enters its last"
            + " month");
    env.walkDays(days);
    String oldRefresh = Objects.requireNonNull(before.refreshToken());
    out.println(
        "  "
            + Text.duration(Duration.between(connected, clock.instant()))
            + " after the Kakao login; refresh token has "
            + Text.left(before.refreshExpiresAt(), clock.instant())
            + " left");
    TokenSet late = env.broker().refresh(KAKAO);
    report.witness(late);
    report.check(
        late.refreshToken() != null
            && !oldRefresh.equals(late.refreshToken())
            && env.kakao().rotations() == 1
            && env.kakao().refreshTokenExpiresAt(oldRefresh) == null,
        "a refresh in the last month rotates: new refresh token, the old one is dead",
        Secrets.fingerprint(oldRefresh) + " → " + Secrets.fingerprint(late.refreshToken()));
    report.check(
        late.refreshExpiresAt() != null
            && late.refreshExpiresAt().isAfter(clock.instant().plus(Duration.ofDays(59))),
        "the new refresh token is good for about two months again",
        "expires " + Text.instant(late.refreshExpiresAt()));
    int requests = env.naver().tokenRequests();
    TokenSet naverToken = env.broker().tokenSet(NAVER);
    report.witness(naverToken);
    report.check(
        env.naver().tokenRequests() == requests + 1
            && naverToken.expiresAt().isAfter(clock.instant()),
        "Naver needs no keep-alive: after a month idle, one signed request gives a new token",
        "expires " + Text.relative(naverToken.expiresAt(), clock.instant()));
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
}
