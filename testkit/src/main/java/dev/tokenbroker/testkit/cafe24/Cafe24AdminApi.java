package dev.tokenbroker.testkit.cafe24;

import static dev.tokenbroker.testkit.cafe24.Cafe24Answers.apiError;

import dev.tokenbroker.testkit.MockResponse;
import dev.tokenbroker.testkit.RecordedRequest;
import dev.tokenbroker.testkit.cafe24.Cafe24State.Access;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The piece of Cafe24's Admin API the {@link Cafe24Emulator} serves ({@code GET products}): a live
 * Bearer access token of the same mall (401 otherwise), the app installed on the mall (403 after an
 * uninstall) and the product scope (403 otherwise), then one emulated product with Cafe24's
 * call-limit header. It counts every call. Runs under the emulator's lock.
 */
final class Cafe24AdminApi {
  private final Clock clock;
  private final Cafe24State platform;
  private final AtomicInteger apiCalls;

  /**
   * @param apiCalls counts every call that reaches the API's logic
   */
  Cafe24AdminApi(Clock clock, Cafe24State platform, AtomicInteger apiCalls) {
    this.clock = clock;
    this.platform = platform;
    this.apiCalls = apiCalls;
  }

  MockResponse handle(RecordedRequest request, String mallId, String resource) {
    apiCalls.incrementAndGet();
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return apiError(401, "401", "access_token is required");
    }
    Access access = platform.accessTokens.get(authorization.substring("Bearer ".length()));
    if (access == null
        || !access.grant.mallId.equals(mallId)
        || !clock.instant().isBefore(access.expiresAt)) {
      return apiError(401, "401", "Invalid access_token");
    }
    if (platform.mall(mallId).uninstalled) {
      return apiError(403, "403", "The app has been uninstalled from this mall (app removed)");
    }
    if (!"products".equals(resource)) {
      return apiError(404, "404", "No such resource");
    }
    if (!"GET".equals(request.getMethod())) {
      return apiError(405, "405", "Method not allowed");
    }
    if (!access.grant.scopes.contains("mall.read_product")
        && !access.grant.scopes.contains("mall.write_product")) {
      return apiError(403, "403", "Insufficient scope: mall.read_product is required");
    }
    Map<String, Object> product =
        Cafe24Emulator.jsonObject(
            "shop_no", 1, "product_no", 1, "product_name", "Emulated product", "price", "1000.00");
    return Cafe24Emulator.jsonAnswer(200, Cafe24Emulator.jsonObject("products", List.of(product)))
        .setHeader("X-Api-Call-Limit", "1/40");
  }
}
