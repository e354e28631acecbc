package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.InMemoryTokenStore;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A connection's failure and validation state lives in a side object made only when one of its
 * values is not the default: a connection that never failed and never validated has none, and reads
 * as before.
 */
class ConnectionTroubleTest {
  private final MutableClock clock = new MutableClock();
  private final FakeProvider provider = FakeProvider.refreshing(clock);
  private final ConnectionId id = ConnectionId.parse("fake:shop");
  private final InMemoryTokenStore store = new InMemoryTokenStore(clock);
  private TokenBroker broker;

  @AfterEach
  void tearDown() {
    if (broker != null) {
      broker.close();
    }
  }

  private TokenBroker broker() {
    broker =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .connection(id, provider)
            .executor(Runnable::run)
            .backoff(Duration.ofSeconds(1), Duration.ofMinutes(5))
            .backoffJitter(half -> half)
            .withoutKeepAlive()
            .build();
    return broker;
  }

  @Test
  void aNewConnection_readsTheDefaults_andWritingThemMakesNothing() {
    Connection conn = new Connection(id, provider, Instant.EPOCH);
    synchronized (conn) {
      assertThat(conn.health()).isNull();
      assertThat(conn.healthVersion()).isZero();
      assertThat(conn.healthLocalOnly()).isFalse();
      conn.setHealth(null);
      conn.setHealthVersion(0);
      conn.setHealthLocalOnly(false);
    }
    conn.setLastCause(null);
    conn.setValidatedVersion(-1);
    conn.savedHere(7); // the provider does not validate on load: nobody reads it
    assertThat(conn.lastCause()).isNull();
    assertThat(conn.validatedVersion()).isEqualTo(-1);
    assertThat(conn.activeSince).isEqualTo(Instant.EPOCH);
    assertThat(conn.hasTrouble()).isFalse();
  }

  @Test
  void oneValueSet_makesIt_andTheOthersStillReadTheDefaults() {
    Connection conn = new Connection(id, provider, Instant.EPOCH);
    synchronized (conn) {
      conn.setHealthVersion(3);
    }
    assertThat(conn.hasTrouble()).isTrue();
    synchronized (conn) {
      assertThat(conn.healthVersion()).isEqualTo(3);
      assertThat(conn.health()).isNull();
      assertThat(conn.healthLocalOnly()).isFalse();
    }
    assertThat(conn.lastCause()).isNull();
    assertThat(conn.validatedVersion()).isEqualTo(-1);
    conn.savedHere(7); // recorded now that there is a place for it, as before
    assertThat(conn.validatedVersion()).isEqualTo(7);
  }

  @Test
  void aSetSavedHere_countsAsValidated_forAProviderThatValidatesOnLoad() {
    Connection conn =
        new Connection(
            id,
            new ForwardingProvider(provider) {
              @Override
              public boolean validatesOnLoad() {
                return true;
              }
            },
            Instant.EPOCH);
    conn.savedHere(7);
    assertThat(conn.validatedVersion()).isEqualTo(7);
  }

  @Test
  void servingAndRenewing_neverMakeIt() {
    store.put(id, provider.seed());
    TokenBroker b = broker();
    b.accessToken(id);
    b.refresh(id);
    b.accessToken(id);
    assertThat(b.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(b.connection(id).hasTrouble()).isFalse();
  }

  @Test
  void aFailureMakesIt_andARecoveryLeavesItAtTheDefaultsButTheVersion() {
    store.put(id, provider.seed());
    TokenBroker b = broker();
    provider.failNext(FakeProvider.transientFailure());
    assertThatThrownBy(() -> b.refresh(id)).isInstanceOf(TokenUnavailableException.class);
    Connection conn = b.connection(id);
    assertThat(conn.hasTrouble()).isTrue();
    HealthRecord failed = conn.health();
    assertThat(failed).isNotNull();
    assertThat(conn.lastCause()).isNotNull();
    assertThat(b.health(id).state()).isEqualTo(Health.State.DEGRADED);

    clock.advance(Duration.ofMinutes(1));
    b.refresh(id);
    assertThat(conn.health()).isNull();
    assertThat(conn.lastCause()).isNull();
    synchronized (conn) {
      assertThat(conn.healthVersion()).isEqualTo(2); // recorded, then cleared
      assertThat(conn.healthLocalOnly()).isFalse();
      assertThat(conn.activeSince).isEqualTo(clock.instant());
    }
    assertThat(b.health(id).state()).isEqualTo(Health.State.ACTIVE);
    assertThat(b.health(id).since()).isEqualTo(clock.instant());
  }
}
