package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection's health as every instance sees it: one read of its record in the store (health
 * record, tombstone, token expiries), written back first if the store lost it, and never a call to
 * the platform. If the store cannot be read, this instance's last view — but never ACTIVE on the
 * strength of a store nobody could read.
 */
final class HealthReader {
  // Logged under the facade's name, as before this moved here.
  private static final Logger log = LoggerFactory.getLogger(TokenBroker.class);

  private final Clock clock;
  private final TokenStore store;
  private final StoreView view;
  private final DurableSaver saver;
  private final HotTier hot;
  private final HealthBook health;

  HealthReader(
      Clock clock,
      TokenStore store,
      StoreView view,
      DurableSaver saver,
      HotTier hot,
      HealthBook health) {
    this.clock = clock;
    this.store = store;
    this.view = view;
    this.saver = saver;
    this.hot = hot;
    this.health = health;
  }

  /** As {@link TokenBroker#health}. */
  Health read(Connection conn) {
    ConnectionId id = conn.id;
    TokenSet known = null;
    RuntimeException storeError = null;
    try {
      // What the store holds after a lost or older record was written back from here.
      StoredConnection stored = view.reconcile(conn, store.read(id));
      known = stored.tokens();
      if (stored.tombstone() != null
          && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE
          && !saver.authorizedAfter(conn, stored.tombstone())) {
        return view.tombstoned(conn, stored).health();
      }
      if (known == null
          && conn.health() == null
          && conn.provider.grantType() == GrantType.AUTHORIZATION_CODE
          && saver.pending(conn) == null) {
        return new Health(
            Health.State.REAUTHORIZATION_REQUIRED,
            "not-authorized",
            "not authorized yet: run `tokenbroker connect " + id + "`",
            null,
            clock.instant(),
            null,
            0,
            null,
            null,
            null,
            false);
      }
    } catch (RuntimeException e) {
      log.warn("connection {}: store unavailable while reading health: {}", id, e.getMessage());
      storeError = e;
    }
    UnsavedSet pending = saver.pending(conn);
    if (pending != null) {
      known = pending.set;
    } else if (known == null) {
      CachedToken c = hot.get(conn);
      known = c != null ? c.tokenSet() : conn.newest();
    }
    Health h = health.snapshot(conn, known, pending != null);
    if (storeError != null && h.state() == Health.State.ACTIVE) {
      // Not ACTIVE on the strength of a store nobody could read (a fresh process knows nothing
      // else): what this instance knows, said with the store's failure.
      return new Health(
          Health.State.DEGRADED,
          "store-unavailable",
          "token store unavailable: " + storeError.getMessage(),
          null,
          clock.instant(),
          null,
          h.consecutiveFailures(),
          h.lastRenewalAt(),
          h.accessTokenExpiresAt(),
          h.refreshTokenExpiresAt(),
          h.unsaved());
    }
    return h;
  }
}
