package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.StoreChild;
import dev.tokenbroker.StoreProcessScenarios;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Separate JVMs sharing one PostgreSQL table. */
class JdbcTokenStoreProcessTest {
  private String table;

  @BeforeEach
  void createTable() {
    table = TestDatabases.freshTable();
    JdbcTokenStore.builder(TestDatabases.postgres()).table(table).build();
  }

  @AfterEach
  void dropTable() {
    TestDatabases.drop(TestDatabases.postgres(), table);
  }

  private Map<String, String> settings() {
    return Map.of(
        "type", "jdbc", "url", TestDatabases.postgresUrl(), "table", table, "pool-size", "8");
  }

  /**
   * A child takes the lease (60 s) and is killed with {@code kill -9} while holding it. The lease
   * runs on the database's clock, so the parent's own clock cannot expire it (the core scenario
   * moves the parent's clock instead): the test moves the stored expiry to the database's present,
   * as the passing of those 60 s would, and the lease is free then and not a millisecond later.
   */
  @Test
  void aProcessKilledWhileHoldingTheLease_blocksOthersUntilTheDatabaseSaysItExpired()
      throws Exception {
    long fence;
    Instant expiresAt;
    Instant grantedNoEarlierThan = TestDatabases.now(TestDatabases.postgres());
    try (ChildJvm child = StoreChild.start(settings(), "hold-lease", "child", "60000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      fence = Long.parseLong(leased[1]);
      expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));
      assertThat(expiresAt).isAfterOrEqualTo(grantedNoEarlierThan.plusSeconds(60));

      try (TokenStore live = TestStores.open(settings())) {
        assertThat(live.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0))
            .as("while the child lives, its lease excludes this process")
            .isNull();
      }
      child.kill();
    }

    // A clock far ahead changes nothing: the database's clock says the lease still counts.
    Clock ahead = Clock.fixed(expiresAt.plus(Duration.ofDays(1)), ZoneOffset.UTC);
    try (TokenStore parent = TestStores.open(settings(), ahead)) {
      assertThat(parent.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0))
          .as("the dead process's lease counts until the database's clock reaches its expiry")
          .isNull();

      expireNowInTheDatabase();

      Lease lease = parent.tryAcquireLease(StoreChild.ID, "parent", Duration.ofSeconds(5), 0);
      assertThat(lease).as("and not a millisecond longer").isNotNull();
      assertThat(lease.fencingToken()).isGreaterThan(fence);
    }
  }

  private void expireNowInTheDatabase() throws Exception {
    try (Connection c = TestDatabases.postgres().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET lease_expires_at_ms = "
                    + Dialect.POSTGRESQL.nowMillis
                    + " WHERE connection_id = ?")) {
      ps.setString(1, StoreChild.ID.toString());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  @Test
  void threeProcessesSharingTheTable_neverHoldTheLeaseAtOnce() throws Exception {
    StoreProcessScenarios.threeProcesses_neverHoldTheLeaseAtOnce(settings());
  }

  @Test
  void twoProcessesSharingTheTable_takeEachOneTimeRecordExactlyOnce() throws Exception {
    StoreProcessScenarios.twoProcessesRacing_takeEachOneTimeRecordExactlyOnce(settings());
  }
}
