package dev.tokenbroker.testkit.naver;

import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.naver.NaverTokens.Issued;
import dev.tokenbroker.testkit.naver.NaverTokens.Resource;
import java.time.Instant;

/**
 * The {@link NaverEmulator}'s API resource, the seller account ({@code /external} and {@code
 * /partner}): a live {@code Bearer} token by the server clock gets the account of the token's
 * resource, anything else the gateway's 401 {@code GW.AUTHN}; an application on the other kind's
 * path gets 403 while paths are enforced. Counts rejected requests. Thread-safe.
 */
final class NaverAccountApi {
  private final NaverServerClock serverClock;
  private final NaverApplications applications;
  private final NaverTokens tokens;
  private final NaverAnswers answers;
  private final NaverCounters counters;

  NaverAccountApi(
      NaverServerClock serverClock,
      NaverApplications applications,
      NaverTokens tokens,
      NaverAnswers answers,
      NaverCounters counters) {
    this.serverClock = serverClock;
    this.applications = applications;
    this.tokens = tokens;
    this.answers = answers;
    this.counters = counters;
  }

  MockResponse handle(RecordedRequest request, String traceId, boolean partner) {
    if (!"GET".equals(request.getMethod())) {
      return answers.gateway(405, "GW.METHOD_NOT_ALLOWED", "GET only", traceId);
    }
    String auth = request.getHeader("Authorization");
    Issued issued = null;
    if (auth != null && auth.startsWith("Bearer ")) {
      String token = auth.substring("Bearer ".length()).trim();
      Instant now = serverClock.now();
      issued = tokens.live(token, now);
    }
    if (issued == null) {
      counters.rejectedApiRequests.incrementAndGet();
      return answers.gateway(401, "GW.AUTHN", "인증에 실패했습니다. (authentication failed)", traceId);
    }
    Resource r = issued.resource;
    if (applications.enforceAgencyPaths && applications.isAgency(r.clientId) != partner) {
      counters.rejectedApiRequests.incrementAndGet();
      return answers.gateway(
          403,
          "GW.FORBIDDEN",
          partner
              ? "/partner is for agency applications (API대행사) only"
              : "agency applications call /partner, not /external",
          traceId);
    }
    return NaverEmulator.jsonAnswer(
        200,
        NaverEmulator.jsonObject(
            "accountId",
            r.accountId == null ? r.clientId + "-store" : r.accountId,
            "type",
            r.type,
            "grade",
            "BIG_POWER"));
  }
}
