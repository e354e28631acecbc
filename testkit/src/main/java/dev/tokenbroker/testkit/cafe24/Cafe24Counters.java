package dev.tokenbroker.testkit.cafe24;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the {@link Cafe24Emulator} processed, counted: authorizations, token requests, code
 * exchanges, refreshes, "Invalid refresh_token" answers, revocations and Admin API calls. The
 * endpoints count; the emulator's public counter methods read these. Thread-safe.
 */
final class Cafe24Counters {
  final AtomicInteger authorizations = new AtomicInteger();
  final AtomicInteger tokenRequests = new AtomicInteger();
  final AtomicInteger codeExchanges = new AtomicInteger();
  final AtomicInteger refreshes = new AtomicInteger();
  final AtomicInteger invalidRefreshAnswers = new AtomicInteger();
  final AtomicInteger revocations = new AtomicInteger();
  final AtomicInteger apiCalls = new AtomicInteger();
}
