package dev.tokenbroker.testkit.naver;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the {@link NaverEmulator} processed, counted: token requests, bad signatures, timestamp
 * rejections, tokens issued, API requests and rejected API requests. The endpoints count; the
 * emulator's public counter methods read these. Thread-safe.
 */
final class NaverCounters {
  final AtomicInteger tokenRequests = new AtomicInteger();
  final AtomicInteger badSignatures = new AtomicInteger();
  final AtomicInteger timestampRejections = new AtomicInteger();
  final AtomicInteger issuedTokens = new AtomicInteger();
  final AtomicInteger apiRequests = new AtomicInteger();
  final AtomicInteger rejectedApiRequests = new AtomicInteger();
}
