package dev.tokenbroker.testkit.kakao;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the {@link KakaoEmulator} processed, counted: token requests, code exchanges, refreshes and
 * rotations on kauth; token info requests, logouts and unlinks on kapi. The endpoints count; the
 * emulator's public counter methods read these. Thread-safe.
 */
final class KakaoCounters {
  final AtomicInteger tokenRequests = new AtomicInteger();
  final AtomicInteger codeExchanges = new AtomicInteger();
  final AtomicInteger refreshes = new AtomicInteger();
  final AtomicInteger rotations = new AtomicInteger();
  final AtomicInteger tokenInfoRequests = new AtomicInteger();
  final AtomicInteger logouts = new AtomicInteger();
  final AtomicInteger unlinks = new AtomicInteger();
}
