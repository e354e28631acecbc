package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.Lease;
import dev.tokenbroker.TokenSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  private JdbcTokenStore storeAt(Instant now) {
    return JdbcTokenStore.builder(TestDatabases.postgres())
        .table(table)
        .clock(Clock.fixed(now, ZoneOffset.UTC))
        .build();
  }

  @Test
  void aProcessKilledWhileHoldingTheLease_blocksOthersOnlyUntilItsLeaseExpires() throws Exception {
    long fence;
    Instant expiresAt;
    try (ChildJvm child =
        ChildJvm.start(
            JdbcStoreChild.class,
            TestDatabases.postgresUrl(),
            table,
            "hold-lease",
            "child",
            "60000")) {
      String[] leased = child.await("LEASED", 60).split(" ");
      fence = Long.parseLong(leased[1]);
      expiresAt = Instant.ofEpochMilli(Long.parseLong(leased[2]));
      child.kill();
    }

    assertThat(
            storeAt(expiresAt.minusMillis(1))
                .tryAcquireLease(JdbcStoreChild.ID, "parent", Duration.ofSeconds(5)))
        .as("the dead process's lease counts until it expires")
        .isNull();
    Lease lease =
        storeAt(expiresAt).tryAcquireLease(JdbcStoreChild.ID, "parent", Duration.ofSeconds(5));
    assertThat(lease).as("and not a millisecond longer").isNotNull();
    assertThat(lease.fencingToken()).isGreaterThan(fence);
  }

  @Test
  void threeProcessesSharingTheTable_neverHoldTheLeaseAtOnce() throws Exception {
    int processes = 3;
    int threads = 4;
    int rounds = 25;
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int p = 0; p < processes; p++) {
        children.add(
            ChildJvm.start(
                JdbcStoreChild.class,
                TestDatabases.postgresUrl(),
                table,
                "lease-stress",
                "process" + p,
                Integer.toString(threads),
                Integer.toString(rounds)));
      }
      List<String> conflicts = new ArrayList<>();
      for (ChildJvm child : children) {
        String done = null;
        String line;
        while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
          if (line.startsWith("CONFLICT")) {
            conflicts.add(line);
          } else if (line.startsWith("DONE")) {
            done = line;
          }
        }
        assertThat(done).isEqualTo("DONE " + threads * rounds + " 0");
        assertThat(child.waitFor(30)).isZero();
      }
      assertThat(conflicts).isEmpty();
    } finally {
      for (ChildJvm child : children) {
        child.close();
      }
    }

    TokenSet stored = storeAt(Instant.now()).load(JdbcStoreChild.ID);
    assertThat(stored.version()).isEqualTo((long) processes * threads * rounds);
    assertThat(stored.sameTokensAs(JdbcStoreChild.tokensFor(stored.version()))).isTrue();
  }
}
