package dev.tokenbroker.testkit;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the {@link OAuth2Emulator} processed, counted: token requests in all and per {@code
 * grant_type}, tokens issued, {@code invalid_grant} and {@code invalid_client} answers, authorize
 * requests, resource calls and rejections, revocations. The endpoints count; the emulator's public
 * counter methods read these, and {@link #reset()} zeroes them all. Thread-safe.
 */
final class OAuth2Counters {
  private final Map<String, AtomicLong> tokenRequestsByGrant = new ConcurrentHashMap<>();
  final AtomicLong tokenRequests = new AtomicLong();
  final AtomicLong tokensIssued = new AtomicLong();
  final AtomicLong invalidGrantAnswers = new AtomicLong();
  final AtomicLong invalidClientAnswers = new AtomicLong();
  final AtomicLong authorizeRequests = new AtomicLong();
  final AtomicLong apiCalls = new AtomicLong();
  final AtomicLong apiRejections = new AtomicLong();
  final AtomicLong revocations = new AtomicLong();

  /** Counts one token request with {@code grantType} ({@code ""} for none). */
  void countGrantType(String grantType) {
    tokenRequestsByGrant.computeIfAbsent(grantType, g -> new AtomicLong()).incrementAndGet();
  }

  long tokenRequests(String grantType) {
    AtomicLong n = tokenRequestsByGrant.get(grantType);
    return n == null ? 0 : n.get();
  }

  void reset() {
    tokenRequestsByGrant.clear();
    for (AtomicLong n :
        List.of(
            tokenRequests,
            tokensIssued,
            invalidGrantAnswers,
            invalidClientAnswers,
            authorizeRequests,
            apiCalls,
            apiRejections,
            revocations)) {
      n.set(0);
    }
  }
}
