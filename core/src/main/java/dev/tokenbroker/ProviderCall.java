package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one request to the platform a renewal makes, and what its failure means: a lost answer is
 * "rotation outcome unknown" (reported, one deliberate retry after a pause longer than the read
 * timeout, whose failure is final); a failure of an old chain after a new authorization saved a
 * newer set is {@link Superseded}; a provider bug is a failure like any other, never an escape. A
 * platform that does not resend the refresh token means "keep the old one".
 */
final class ProviderCall {
  private static final Logger log = LoggerFactory.getLogger(ProviderCall.class);

  private final Clock clock;
  private final TokenStore store;
  private final HealthBook health;
  private final Events events;
  private final Duration outcomeUnknownPause;

  ProviderCall(
      Clock clock,
      TokenStore store,
      HealthBook health,
      Events events,
      Duration outcomeUnknownPause) {
    this.clock = clock;
    this.store = store;
    this.health = health;
    this.events = events;
    this.outcomeUnknownPause = outcomeUnknownPause;
  }

  /** A failed renewal of an old chain, after a new authorization saved a new one meanwhile. */
  static final class Superseded extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient TokenSet tokens;

    Superseded(TokenSet tokens) {
      super(null, null, false, false);
      this.tokens = tokens;
    }
  }

  /** A previous holder started a token request and neither saved nor released: report it first. */
  void cutShort(Connection conn, Instant startedAt) {
    String message =
        "a renewal started at "
            + startedAt
            + " was cut short before its answer was saved (a crash?): the stored refresh token may"
            + " already be spent; one deliberate try follows";
    log.warn("connection {}: {}", conn.id, message);
    events.emit(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, conn.id, message, null);
    long wait = startedAt.toEpochMilli() + outcomeUnknownPause.toMillis() - clock.millis();
    if (wait > 0) {
      // The platform may still be processing that request: come back when it cannot be.
      throw health.failed(
          conn,
          new Failure(
              Health.State.DEGRADED,
              "rotation-outcome-unknown",
              message,
              null,
              null,
              Duration.ofMillis(wait),
              null),
          conn.newest() == null ? 0 : conn.newest().version());
    }
    health.failed(
        conn,
        Failure.degraded("rotation-outcome-unknown", message, null),
        conn.newest() == null ? 0 : conn.newest().version());
  }

  TokenSet call(Connection conn, @Nullable TokenSet base) {
    return call(conn, base, base == null ? 0 : base.version());
  }

  /** {@code version}: the stored version {@code base} stands for (an unsaved set has none). */
  TokenSet call(Connection conn, @Nullable TokenSet base, long version) {
    TokenProvider provider = conn.provider;
    boolean secondTry = isDeliberateRetry(conn);
    if (secondTry) {
      log.warn(
          "connection {}: the one deliberate try after a lost or cut-short renewal; its answer"
              + " decides",
          conn.id);
    }
    TokenSet issued;
    try {
      if (provider.grantType() == GrantType.CLIENT_CREDENTIALS) {
        issued = provider.obtain(base);
      } else if (base == null || base.refreshToken() == null) {
        throw health.failed(
            conn,
            Failure.needsPerson("not-authorized", StoreView.notAuthorized(conn), null),
            version);
      } else {
        issued = provider.refresh(base);
      }
    } catch (TokenEndpointException e) {
      throw providerFailure(conn, e, base, version, secondTry);
    } catch (TokenUnavailableException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // A provider bug: the request may have been sent and processed.
      TokenEndpointException wrapped =
          TokenEndpointException.builder(provider.name())
              .kind(
                  provider.grantType() == GrantType.CLIENT_CREDENTIALS
                      ? TokenEndpointException.Kind.TRANSIENT
                      : TokenEndpointException.Kind.OUTCOME_UNKNOWN)
              .reason(
                  "unexpected error in the "
                      + provider.name()
                      + " provider: "
                      + e.getClass().getName())
              .cause(e)
              .build();
      throw providerFailure(conn, wrapped, base, version, secondTry);
    }
    return keepRefreshToken(base, issued);
  }

  /** The renewal after a lost answer or a cut-short renewal: its failure is final. */
  private static boolean isDeliberateRetry(Connection conn) {
    HealthRecord h = conn.health();
    return h != null && "rotation-outcome-unknown".equals(h.reason());
  }

  private TokenUnavailableException providerFailure(
      Connection conn,
      TokenEndpointException e,
      @Nullable TokenSet base,
      long version,
      boolean secondTry) {
    if (e.kind() != TokenEndpointException.Kind.TRANSIENT) {
      TokenSet now = null;
      try {
        now = store.load(conn.id);
      } catch (RuntimeException ignored) {
        // the failure below is reported as it is
      }
      if (now != null && base != null && now.sameTokensAs(base)) {
        // The set renewed from, unsaved, was saved after all (only its save's reply was lost):
        // not a newer set; the failure is about that stored version.
        version = now.version();
      } else if (now != null
          && now.version() > version
          // An unsaved set has no version (an authorization's is 0): a stored set issued before it
          // is the chain it replaces, not a newer one (seed 812716: an unsaved authorization's
          // lost refresh was taken as superseded by the old chain, and nothing said its refresh
          // token may be spent).
          && (base == null || !now.issuedAt().isBefore(base.issuedAt()))) {
        log.info(
            "connection {}: renewal of an older chain failed after a newer set was saved: {}",
            conn.id,
            e.getMessage());
        throw new Superseded(now);
      }
    }
    Failure f;
    if (e.kind() == TokenEndpointException.Kind.OUTCOME_UNKNOWN) {
      String message =
          "refresh answer lost; the refresh token may already be rotated. Not retried blindly: "
              + (secondTry
                  ? "this was the one deliberate retry, a person must reconnect"
                  : "one deliberate retry after " + outcomeUnknownPause);
      events.emit(TokenEvent.Type.ROTATION_OUTCOME_UNKNOWN, conn.id, message, e);
      f =
          Failure.outcomeUnknown(
              secondTry ? Health.State.REAUTHORIZATION_REQUIRED : Health.State.DEGRADED,
              e,
              outcomeUnknownPause);
    } else if (e.kind() == TokenEndpointException.Kind.PERMANENT && secondTry) {
      // The lost or cut-short request spent the refresh token.
      f =
          new Failure(
              Health.State.REAUTHORIZATION_REQUIRED,
              "rotation-outcome-unknown",
              "the refresh token was spent by a request whose answer was lost: " + e.reason(),
              Failure.errorCode(e),
              null,
              null,
              e);
    } else {
      f = Failure.of(e);
    }
    return health.failed(conn, f, version);
  }

  /** Never drop a refresh token: a platform that did not resend it means "keep the old one". */
  static TokenSet keepRefreshToken(@Nullable TokenSet previous, TokenSet issued) {
    if (issued.refreshToken() != null || previous == null || previous.refreshToken() == null) {
      return issued;
    }
    return issued.toBuilder()
        .refreshToken(previous.refreshToken())
        .refreshExpiresAt(previous.refreshExpiresAt())
        .scopes(issued.scopes().isEmpty() ? previous.scopes() : issued.scopes())
        .build();
  }
}
