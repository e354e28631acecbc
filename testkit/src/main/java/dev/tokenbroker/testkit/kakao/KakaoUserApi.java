package dev.tokenbroker.testkit.kakao;

import static dev.tokenbroker.testkit.kakao.KakaoAnswers.kapi;
import static dev.tokenbroker.testkit.kakao.KakaoEmulator.jsonAnswer;
import static dev.tokenbroker.testkit.kakao.KakaoEmulator.jsonObject;

import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.kakao.KakaoState.Grant;
import dev.tokenbroker.testkit.kakao.KakaoState.Link;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The {@link KakaoEmulator}'s user API (kapi): token info, logout (ends the user's tokens for the
 * app), unlink (also removes the link and its consents), "get user information" and the memo call
 * that needs the {@code talk_message} consent. Each wants a live {@code Authorization: Bearer}
 * token and answers Kakao's 401 {@code -401} otherwise. Takes the emulator's lock for the state.
 */
final class KakaoUserApi {
  private final Object lock;
  private final Clock clock;
  private final KakaoState platform;
  private final KakaoCounters counters;

  KakaoUserApi(Object lock, Clock clock, KakaoState platform, KakaoCounters counters) {
    this.lock = lock;
    this.clock = clock;
    this.platform = platform;
    this.counters = counters;
  }

  MockResponse tokenInfo(RecordedRequest request) {
    if (!"GET".equals(request.getMethod())) {
      return kapi(405, -2, "token info takes GET");
    }
    counters.tokenInfoRequests.incrementAndGet();
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      long remaining = Duration.between(clock.instant(), g.expiresAt).getSeconds();
      return jsonAnswer(
          200, jsonObject("id", g.userId, "expires_in", remaining, "app_id", g.app.appId));
    }
  }

  MockResponse logout(RecordedRequest request, boolean unlink) {
    if (!"POST".equals(request.getMethod())) {
      return kapi(405, -2, (unlink ? "unlink" : "logout") + " takes POST");
    }
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      platform.expireTokens(g.app, g.userId);
      if (unlink) {
        platform.links.remove(KakaoState.linkKey(g.app, g.userId));
        counters.unlinks.incrementAndGet();
      } else {
        counters.logouts.incrementAndGet();
      }
      return jsonAnswer(200, jsonObject("id", g.userId));
    }
  }

  MockResponse userMe(RecordedRequest request) {
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      return jsonAnswer(
          200, jsonObject("id", g.userId, "properties", jsonObject("nickname", "user" + g.userId)));
    }
  }

  MockResponse memo(RecordedRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return kapi(405, -2, "memo takes POST");
    }
    synchronized (lock) {
      Object auth = authenticate(request);
      if (auth instanceof MockResponse) {
        return (MockResponse) auth;
      }
      Grant g = (Grant) auth;
      Link link = platform.links.get(KakaoState.linkKey(g.app, g.userId));
      if (link == null) {
        return kapi(400, -101, "not registered user");
      }
      if (!link.scopes.contains("talk_message")) {
        return jsonAnswer(
            403,
            jsonObject(
                "msg",
                "[kakao.openapi] insufficient scopes.",
                "code",
                -402,
                "api_type",
                "TALK_MEMO_DEFAULT_SEND",
                "required_scopes",
                List.of("talk_message"),
                "allowed_scopes",
                List.copyOf(link.scopes)));
      }
      return jsonAnswer(200, jsonObject("result_code", 0));
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The token's grant, or the 401 Kakao answers. Called under lock. */
  private Object authenticate(RecordedRequest request) {
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return kapi(401, -401, "this access token does not exist");
    }
    String token = header.substring(7).trim();
    Grant g = platform.accessTokens.get(token);
    if (g == null) {
      return kapi(401, -401, "this access token does not exist");
    }
    if (!clock.instant().isBefore(g.expiresAt)) {
      platform.accessTokens.remove(token);
      return kapi(401, -401, "this access token is already expired");
    }
    return g;
  }
}
