package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A recording fake platform with rotating refresh tokens: a refresh with anything but the current
 * refresh token fails with a PERMANENT invalid_grant, as Cafe24 does. Calls can be held at a latch
 * and failures queued, so tests decide the order of events.
 */
final class FakeProvider implements TokenProvider {
  final Clock clock;
  final GrantType grant;
  final Duration lifetime;
  RenewalPolicy policy = RenewalPolicy.of(Duration.ofMinutes(5), Duration.ofSeconds(30));
  final AtomicInteger calls = new AtomicInteger();
  final AtomicInteger invalidGrants = new AtomicInteger();
  final AtomicInteger exchanges = new AtomicInteger();
  final Deque<RuntimeException> failures = new ArrayDeque<>();
  volatile @Nullable CountDownLatch entered;
  volatile @Nullable CountDownLatch release;
  private int serial;
  private @Nullable String liveRefreshToken;

  FakeProvider(Clock clock, GrantType grant, Duration lifetime) {
    this.clock = clock;
    this.grant = grant;
    this.lifetime = lifetime;
  }

  static FakeProvider refreshing(Clock clock) {
    return new FakeProvider(clock, GrantType.AUTHORIZATION_CODE, Duration.ofHours(2));
  }

  /** Issues a first set as an authorization would, making its refresh token the live one. */
  synchronized TokenSet seed() {
    return issue(clock.instant());
  }

  /** Makes the next provider call wait until {@link #release()}; returns the "entered" latch. */
  CountDownLatch hold() {
    entered = new CountDownLatch(1);
    release = new CountDownLatch(1);
    return entered;
  }

  void release() {
    CountDownLatch r = release;
    if (r != null) {
      r.countDown();
    }
  }

  synchronized void failNext(RuntimeException e) {
    failures.add(e);
  }

  @Override
  public String name() {
    return "fake";
  }

  @Override
  public GrantType grantType() {
    return grant;
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    return policy;
  }

  @Override
  public boolean usesPkce() {
    return true;
  }

  @Override
  public URI authorizationUrl(String state, @Nullable String codeChallenge) {
    return URI.create(
        "https://fake.example/authorize?state=" + state + "&code_challenge=" + codeChallenge);
  }

  @Override
  public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
    exchanges.incrementAndGet();
    synchronized (this) {
      return issue(clock.instant());
    }
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    enter();
    synchronized (this) {
      calls.incrementAndGet();
      RuntimeException f = failures.poll();
      if (f != null) {
        throw f;
      }
      if (!current.refreshToken().equals(liveRefreshToken)) {
        invalidGrants.incrementAndGet();
        throw TokenEndpointException.builder("fake")
            .httpStatus(400)
            .error("invalid_grant")
            .kind(TokenEndpointException.Kind.PERMANENT)
            .reason("refresh token expired or already used")
            .build();
      }
      return issue(clock.instant());
    }
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    enter();
    synchronized (this) {
      calls.incrementAndGet();
      RuntimeException f = failures.poll();
      if (f != null) {
        throw f;
      }
      return issue(clock.instant()).toBuilder().refreshToken(null).refreshExpiresAt(null).build();
    }
  }

  private void enter() {
    CountDownLatch e = entered;
    CountDownLatch r = release;
    if (e != null && r != null) {
      e.countDown();
      try {
        if (!r.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("test never released the provider");
        }
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(ex);
      }
      entered = null;
      release = null;
    }
  }

  private TokenSet issue(Instant now) {
    serial++;
    liveRefreshToken = "refresh-" + serial;
    return TokenSet.builder()
        .accessToken("access-" + serial)
        .refreshToken(liveRefreshToken)
        .refreshExpiresAt(now.plus(Duration.ofDays(14)))
        .expiresAt(now.plus(lifetime))
        .issuedAt(now)
        .build();
  }

  static TokenEndpointException transientFailure() {
    return TokenEndpointException.builder("fake")
        .httpStatus(503)
        .kind(TokenEndpointException.Kind.TRANSIENT)
        .reason("token endpoint unavailable")
        .build();
  }

  static TokenEndpointException permanentFailure() {
    return TokenEndpointException.builder("fake")
        .httpStatus(401)
        .error("invalid_client")
        .kind(TokenEndpointException.Kind.PERMANENT)
        .reason("client credentials rejected")
        .build();
  }
}
