package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import liquibase.command.CommandScope;
import liquibase.command.core.UpdateCommandStep;
import liquibase.command.core.helpers.DbUrlConnectionArgumentsCommandStep;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The schema scripts and the way from schema version 1 to 2, each test on an empty database: the
 * scripts run by hand as Flyway or Liquibase would, and a rolling upgrade where an instance of the
 * release before version 2 ({@link ReleaseOneInstance}) keeps working beside the new store.
 */
abstract class SchemaMigrationTestBase {
  static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final Duration TTL = Duration.ofSeconds(30);

  protected HikariDataSource db;

  /** An empty database (or schema) of its own, for one test. */
  protected abstract HikariDataSource freshDatabase() throws Exception;

  protected abstract Dialect dialect();

  protected void dropDatabase() throws Exception {
    db.close();
  }

  @BeforeEach
  void open() throws Exception {
    db = freshDatabase();
  }

  @AfterEach
  void close() throws Exception {
    dropDatabase();
  }

  static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  /**
   * Runs a shipped script the way a migration tool does: the file as it is, statement by statement.
   */
  void runScriptAsShipped(String script) throws SQLException {
    String text = JdbcSchema.text(dialect(), script);
    StringBuilder kept = new StringBuilder();
    for (String line : text.split("\n")) {
      if (!line.strip().startsWith("--")) {
        kept.append(line).append('\n');
      }
    }
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      for (String sql : kept.toString().split(";")) {
        if (!sql.isBlank()) {
          st.execute(sql);
        }
      }
    }
  }

  /** Column name to type name, as the database describes {@code table}. */
  Map<String, String> columns(String table) throws SQLException {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = db.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      for (String name : List.of(table, table.toUpperCase(Locale.ROOT))) {
        try (ResultSet rs = meta.getColumns(null, c.getSchema(), name, null)) {
          while (rs.next()) {
            out.put(
                rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT),
                rs.getString("TYPE_NAME").toLowerCase(Locale.ROOT)
                    + "/"
                    + rs.getString("IS_NULLABLE"));
          }
        }
      }
    }
    return out;
  }

  private void smokeTest(TokenStore store) {
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    assertThat(lease).isNotNull();
    store.markRenewing(lease);
    assertThat(store.compareAndSet(MALL, 0, tokens("a"), lease).version()).isEqualTo(1);
    store.releaseLease(lease);
    HealthRecord degraded =
        new HealthRecord(
            Health.State.DEGRADED, "transient", "503", "503", T0, T0.plusSeconds(5), null, 1, 1, 0);
    assertThat(store.compareAndSetHealth(MALL, 0, degraded)).isTrue();
    assertThat(store.read(MALL).health().reason()).isEqualTo("transient");
    assertThat(store.connections()).containsExactly(MALL);
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), revoke);
    assertThat(store.read(MALL).tombstone().version()).isEqualTo(1);
    assertThat(store.connections()).isEmpty();
    assertThat(store.authorize(MALL, tokens("b"), revoke).version()).isEqualTo(2);
    store.releaseLease(revoke);
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-b");
  }

  // ---------------------------------------------------------------- the scripts by hand

  @Test
  void scriptsRunByHand_thenAStoreThatDoesNotCreateTheSchema_works() throws Exception {
    runScriptAsShipped(JdbcSchema.V1);
    runScriptAsShipped(JdbcSchema.V2);
    runScriptAsShipped(JdbcSchema.V3);

    TokenStore store = JdbcTokenStore.builder(db).createSchema(false).build();

    assertThat(((JdbcTokenStore) store).table()).isEqualTo(JdbcTokenStore.DEFAULT_TABLE);
    smokeTest(store);
  }

  @Test
  void theStoresOwnSchema_isExactlyWhatTheScriptsCreate() throws Exception {
    runScriptAsShipped(JdbcSchema.V1);
    runScriptAsShipped(JdbcSchema.V2);
    runScriptAsShipped(JdbcSchema.V3);
    JdbcTokenStore.builder(db).table("tb_custom_name").build();

    assertThat(columns("tb_custom_name"))
        .isEqualTo(columns(JdbcTokenStore.DEFAULT_TABLE))
        .containsOnlyKeys(
            concat(concat(JdbcSchema.V1_COLUMNS, JdbcSchema.V2_COLUMNS), JdbcSchema.V3_COLUMNS)
                .toArray(String[]::new));
    assertThat(columns("tb_custom_name_once"))
        .isEqualTo(columns(JdbcSchema.onceTable(JdbcTokenStore.DEFAULT_TABLE)))
        .containsOnlyKeys(JdbcSchema.ONCE_COLUMNS.toArray(String[]::new));
  }

  @Test
  void versionThree_onlyAddsANullableColumnAndATable() throws Exception {
    runScriptAsShipped(JdbcSchema.V1);
    runScriptAsShipped(JdbcSchema.V2);
    Map<String, String> v2 = columns(JdbcTokenStore.DEFAULT_TABLE);
    runScriptAsShipped(JdbcSchema.V3);
    Map<String, String> v3 = columns(JdbcTokenStore.DEFAULT_TABLE);

    assertThat(v3).containsAllEntriesOf(v2);
    for (String added : JdbcSchema.V3_COLUMNS) {
      assertThat(v3.get(added)).as(added).endsWith("/YES");
    }
    assertThat(columns(JdbcSchema.onceTable(JdbcTokenStore.DEFAULT_TABLE)))
        .containsOnlyKeys(JdbcSchema.ONCE_COLUMNS.toArray(String[]::new));
  }

  @Test
  void versionTwo_onlyAddsNullableColumns() throws Exception {
    runScriptAsShipped(JdbcSchema.V1);
    Map<String, String> v1 = columns(JdbcTokenStore.DEFAULT_TABLE);
    runScriptAsShipped(JdbcSchema.V2);
    Map<String, String> v2 = columns(JdbcTokenStore.DEFAULT_TABLE);

    assertThat(v2).containsAllEntriesOf(v1);
    assertThat(v1).containsOnlyKeys(JdbcSchema.V1_COLUMNS.toArray(String[]::new));
    for (String added : JdbcSchema.V2_COLUMNS) {
      assertThat(v2.get(added)).as(added).endsWith("/YES");
    }
  }

  @Test
  void aStoreOnATableTheScriptsAlreadyMade_changesNothing() throws Exception {
    runScriptAsShipped(JdbcSchema.V1);
    runScriptAsShipped(JdbcSchema.V2);
    runScriptAsShipped(JdbcSchema.V3);
    Map<String, String> before = columns(JdbcTokenStore.DEFAULT_TABLE);

    smokeTest(JdbcTokenStore.builder(db).build());
    JdbcTokenStore.builder(db).build();

    assertThat(columns(JdbcTokenStore.DEFAULT_TABLE)).isEqualTo(before);
  }

  // ---------------------------------------------------------------- from version 1

  /** A version 1 table holding one connection, saved the way the earlier release saved it. */
  private ReleaseOneInstance versionOneTableWithARecord(String table) throws SQLException {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      for (String sql : JdbcSchema.statements(JdbcSchema.text(dialect(), JdbcSchema.V1), table)) {
        st.execute(sql);
      }
    }
    ReleaseOneInstance old = new ReleaseOneInstance(db, table);
    old.insert(MALL, tokens("old"), T0.toEpochMilli());
    return old;
  }

  @Test
  void versionOneTable_withoutSchemaCreation_failsNamingTheScriptToRun() throws Exception {
    versionOneTableWithARecord("tb_v1");

    assertThatThrownBy(() -> JdbcTokenStore.builder(db).table("tb_v1").createSchema(false).build())
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("table tb_v1 has schema version 1")
        .hasMessageContaining("db/tokenbroker/" + dialect().folder + "/" + JdbcSchema.V2);
  }

  @Test
  void rollingUpgrade_theNewStoreUpgradesAVersionOneTable_andBothReleasesShareIt()
      throws Exception {
    ReleaseOneInstance old = versionOneTableWithARecord("tb_rolling");

    JdbcTokenStore store = JdbcTokenStore.builder(db).table("tb_rolling").build();

    // The new store reads what the old release wrote.
    assertThat(columns("tb_rolling")).containsKeys(JdbcSchema.V2_COLUMNS.toArray(String[]::new));
    StoredConnection read = store.read(MALL);
    assertThat(read.tokens().accessToken()).isEqualTo("access-old");
    assertThat(read.version()).isEqualTo(1);
    assertThat(read.health()).isNull();
    assertThat(read.tombstone()).isNull();
    assertThat(store.connections()).containsExactly(MALL);

    // The old release reads what the new store writes, health records do not disturb it...
    assertThat(TestStores.cas(store, MALL, 1, tokens("new")).version()).isEqualTo(2);
    store.compareAndSetHealth(
        MALL,
        0,
        new HealthRecord(
            Health.State.DEGRADED, "rate-limited", "429", "429", T0, null, null, 1, 2, 0));
    TokenSet seenByOld = old.load(MALL);
    assertThat(seenByOld.accessToken()).isEqualTo("access-new");
    assertThat(seenByOld.version()).isEqualTo(2);

    // ...and its own saves continue the versions, which the new store reads in turn.
    assertThat(old.compareAndSet(MALL, 2, tokens("old-again"), T0.toEpochMilli())).isTrue();
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-old-again");
    assertThat(store.load(MALL).version()).isEqualTo(3);
    assertThat(store.read(MALL).health().reason()).isEqualTo("rate-limited");

    // Leases exclude each other across releases.
    Lease lease = store.tryAcquireLease(MALL, "new-instance", TTL, TokenStore.NO_FENCE);
    assertThat(old.tryAcquireLease(MALL, "old-instance", System.currentTimeMillis(), 30_000))
        .as("the old release respects a lease the new store granted")
        .isNull();
    store.releaseLease(lease);
    Long oldFence = old.tryAcquireLease(MALL, "old-instance", System.currentTimeMillis(), 30_000);
    assertThat(oldFence).isGreaterThan(lease.fencingToken());
    assertThat(store.tryAcquireLease(MALL, "new-instance", TTL, TokenStore.NO_FENCE))
        .as("the new store respects a lease the old release granted")
        .isNull();
    assertThatThrownBy(() -> store.compareAndSet(MALL, 3, tokens("x"), lease))
        .as("and a lease the old release took over is no longer current")
        .isInstanceOf(dev.tokenbroker.store.StaleLeaseException.class);
    old.releaseLease(MALL, "old-instance", oldFence);
    Lease next = store.tryAcquireLease(MALL, "new-instance", TTL, TokenStore.NO_FENCE);
    assertThat(next.fencingToken()).isGreaterThan(oldFence);

    // A tombstone reads as "nothing stored" to the old release.
    store.tombstone(MALL, new Tombstone("uninstalled", T0, 0), next);
    assertThat(old.load(MALL)).isNull();
    assertThat(old.compareAndSet(MALL, 3, tokens("late"), T0.toEpochMilli())).isFalse();
    assertThat(store.read(MALL).tombstone().version()).isEqualTo(3);
  }

  @Test
  void rollingUpgrade_recordsTheNewStoreWritesStayTokenCodecFormatOne() throws Exception {
    versionOneTableWithARecord("tb_format");
    JdbcTokenStore store = JdbcTokenStore.builder(db).table("tb_format").build();
    TestStores.cas(store, MALL, 1, tokens("new"));

    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT token_data FROM tb_format")) {
      rs.next();
      assertThat(rs.getString(1)).startsWith("{\"tokenbroker\":" + TokenCodec.FORMAT + ",");
    }
  }

  @Test
  void twoNewInstancesUpgradingOneTableAtOnce_bothStart() throws Exception {
    versionOneTableWithARecord("tb_race");
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 4; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  JdbcTokenStore.builder(db).table("tb_race").build();
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join(60_000);
    }

    assertThat(failures).isEmpty();
    assertThat(JdbcTokenStore.builder(db).table("tb_race").build().load(MALL).accessToken())
        .isEqualTo("access-old");
  }

  // ---------------------------------------------------------------- from version 2

  /**
   * A version 2 table made by the scripts, holding a connection with a token set (written the way
   * the earlier release writes it), a health record and a second, tombstoned connection.
   */
  private ReleaseOneInstance versionTwoTableWithRecords(String table) throws SQLException {
    ReleaseOneInstance old = versionOneTableWithARecord(table);
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      for (String sql : JdbcSchema.statements(JdbcSchema.text(dialect(), JdbcSchema.V2), table)) {
        st.execute(sql);
      }
    }
    try (Connection c = db.getConnection();
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET health_data = ?, health_version = 7"
                    + " WHERE connection_id = ?")) {
      HealthRecord degraded =
          new HealthRecord(
              Health.State.DEGRADED, "rate-limited", "429", "429", T0, null, null, 1, 1, 7);
      ps.setString(
          1,
          new String(
              dev.tokenbroker.spi.StateCodec.encodeHealth(MALL, degraded),
              java.nio.charset.StandardCharsets.UTF_8));
      ps.setString(2, MALL.toString());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    return old;
  }

  @Test
  void versionTwoTable_withoutSchemaCreation_failsNamingTheScriptToRun() throws Exception {
    versionTwoTableWithRecords("tb_v2");

    assertThatThrownBy(() -> JdbcTokenStore.builder(db).table("tb_v2").createSchema(false).build())
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("table tb_v2 has schema version 2")
        .hasMessageContaining("db/tokenbroker/" + dialect().folder + "/" + JdbcSchema.V3);
  }

  @Test
  void upgradeFromVersionTwo_keepsEveryRecord_andTheNewFeaturesWork() throws Exception {
    ReleaseOneInstance old = versionTwoTableWithRecords("tb_v2_up");
    Instant beforeUpgrade = Instant.now().minus(Duration.ofDays(1));

    JdbcTokenStore store = JdbcTokenStore.builder(db).table("tb_v2_up").build();

    assertThat(columns("tb_v2_up")).containsKeys(JdbcSchema.V3_COLUMNS.toArray(String[]::new));
    StoredConnection read = store.read(MALL);
    assertThat(read.tokens().accessToken()).isEqualTo("access-old");
    assertThat(read.version()).isEqualTo(1);
    assertThat(read.health().reason()).isEqualTo("rate-limited");
    assertThat(read.health().version()).isEqualTo(7);
    assertThat(store.connections()).containsExactly(MALL);
    assertThat(store.changedSince(beforeUpgrade))
        .as("no change was recorded before the upgrade")
        .isEmpty();

    Lease lease = store.seizeLease(MALL, "authorizer", TTL, TokenStore.NO_FENCE);
    store.authorize(MALL, tokens("new"), lease);
    store.releaseLease(lease);
    assertThat(store.changedSince(beforeUpgrade)).containsExactly(MALL);
    assertThat(old.load(MALL).accessToken())
        .as("the earlier release still reads the table")
        .isEqualTo("access-new");

    assertThat(store.putOnce("state:x", new byte[] {1}, Instant.now().plusSeconds(600))).isTrue();
    assertThat(store.takeOnce("state:x")).containsExactly(1);
  }

  @Test
  void flyway_upgradesAVersionTwoTable() throws Exception {
    versionTwoTableWithRecords(JdbcTokenStore.DEFAULT_TABLE);

    MigrateResult result = flyway("2").migrate();

    assertThat(result.migrationsExecuted).isEqualTo(1);
    JdbcTokenStore store = JdbcTokenStore.builder(db).createSchema(false).build();
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-old");
    assertThat(store.read(MALL).health().reason()).isEqualTo("rate-limited");
    assertThat(store.putOnce("k", new byte[] {1}, Instant.now().plusSeconds(600))).isTrue();
  }

  @Test
  void liquibase_changelogOnAVersionTwoTable_runsOnlyVersionThree() throws Exception {
    versionTwoTableWithRecords(JdbcTokenStore.DEFAULT_TABLE);

    liquibaseUpdate();

    assertThat(liquibaseRan())
        .containsExactly(
            "tokenbroker-1 MARK_RAN", "tokenbroker-2 MARK_RAN", "tokenbroker-3 EXECUTED");
    JdbcTokenStore store = JdbcTokenStore.builder(db).createSchema(false).build();
    assertThat(store.read(MALL).health().reason()).isEqualTo("rate-limited");
    assertThat(store.putOnce("k", new byte[] {1}, Instant.now().plusSeconds(600))).isTrue();
  }

  // ---------------------------------------------------------------- Flyway and Liquibase

  private Flyway flyway(String baselineVersion) {
    return Flyway.configure()
        .dataSource(db)
        .locations("classpath:db/tokenbroker/" + dialect().folder)
        .table("tokenbroker_schema_history")
        .baselineOnMigrate(true)
        .baselineVersion(baselineVersion)
        .load();
  }

  @Test
  void flyway_migratesAnEmptyDatabase_forAStoreThatDoesNotCreateTheSchema() throws Exception {
    MigrateResult result = flyway("0").migrate();

    assertThat(result.migrationsExecuted).isEqualTo(3);
    assertThat(result.targetSchemaVersion).isEqualTo("3");
    smokeTest(JdbcTokenStore.builder(db).createSchema(false).build());
  }

  @Test
  void flyway_upgradesATableAnEarlierReleaseCreated() throws Exception {
    ReleaseOneInstance old = versionOneTableWithARecord(JdbcTokenStore.DEFAULT_TABLE);

    MigrateResult result = flyway("1").migrate();

    assertThat(result.migrationsExecuted).isEqualTo(2);
    JdbcTokenStore store = JdbcTokenStore.builder(db).createSchema(false).build();
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-old");
    TestStores.cas(store, MALL, 1, tokens("new"));
    assertThat(old.load(MALL).accessToken()).isEqualTo("access-new");
  }

  @Test
  void flyway_takesOverATableTheStoreCreated() throws Exception {
    JdbcTokenStore.builder(db).build().put(MALL, tokens("a"));

    flyway("0").migrate(); // the scripts are re-runnable on this database

    assertThat(flyway("0").info().current().getVersion().getVersion()).isEqualTo("3");
    assertThat(JdbcTokenStore.builder(db).createSchema(false).build().load(MALL).accessToken())
        .isEqualTo("access-a");
  }

  @Test
  void flyway_copiesOfTheScriptsWithAPlaceholder_createAnotherTable(@TempDir Path dir)
      throws Exception {
    for (String script : JdbcSchema.SCRIPTS) {
      Files.writeString(
          dir.resolve(script),
          JdbcSchema.text(dialect(), script)
              .replace(JdbcTokenStore.DEFAULT_TABLE, "${tokenbroker_table}"));
    }

    Flyway.configure()
        .dataSource(db)
        .locations("filesystem:" + dir)
        .placeholders(Map.of("tokenbroker_table", "tb_placeholder"))
        .load()
        .migrate();

    smokeTest(JdbcTokenStore.builder(db).table("tb_placeholder").createSchema(false).build());
    assertThat(columns(JdbcTokenStore.DEFAULT_TABLE)).isEmpty();
  }

  private void liquibaseUpdate() throws Exception {
    try (Connection c = db.getConnection()) {
      Database database =
          DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(c));
      new CommandScope(UpdateCommandStep.COMMAND_NAME)
          .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, database)
          .addArgumentValue(
              UpdateCommandStep.CHANGELOG_FILE_ARG,
              "db/tokenbroker/" + dialect().folder + "/changelog.xml")
          .execute();
    }
  }

  private List<String> liquibaseRan() throws SQLException {
    List<String> ran = new ArrayList<>();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT id, exectype FROM databasechangelog ORDER BY orderexecuted")) {
      while (rs.next()) {
        ran.add(rs.getString(1) + " " + rs.getString(2));
      }
    }
    return ran;
  }

  @Test
  void liquibase_changelogMigratesAnEmptyDatabase_forAStoreThatDoesNotCreateTheSchema()
      throws Exception {
    liquibaseUpdate();

    assertThat(liquibaseRan())
        .containsExactly(
            "tokenbroker-1 EXECUTED", "tokenbroker-2 EXECUTED", "tokenbroker-3 EXECUTED");
    smokeTest(JdbcTokenStore.builder(db).createSchema(false).build());
    liquibaseUpdate(); // nothing left to do
    assertThat(liquibaseRan()).hasSize(3);
  }

  @Test
  void liquibase_changelogOnATableAnEarlierReleaseCreated_runsOnlyVersionTwo() throws Exception {
    ReleaseOneInstance old = versionOneTableWithARecord(JdbcTokenStore.DEFAULT_TABLE);

    liquibaseUpdate();

    assertThat(liquibaseRan())
        .containsExactly(
            "tokenbroker-1 MARK_RAN", "tokenbroker-2 EXECUTED", "tokenbroker-3 EXECUTED");
    JdbcTokenStore store = JdbcTokenStore.builder(db).createSchema(false).build();
    assertThat(store.load(MALL).accessToken()).isEqualTo("access-old");
    TestStores.cas(store, MALL, 1, tokens("new"));
    assertThat(old.load(MALL).accessToken()).isEqualTo("access-new");
  }

  @Test
  void liquibase_changelogOnATableTheStoreCreated_marksBothChangesetsRan() throws Exception {
    JdbcTokenStore.builder(db).build();

    liquibaseUpdate();

    assertThat(liquibaseRan())
        .containsExactly(
            "tokenbroker-1 MARK_RAN", "tokenbroker-2 MARK_RAN", "tokenbroker-3 MARK_RAN");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
