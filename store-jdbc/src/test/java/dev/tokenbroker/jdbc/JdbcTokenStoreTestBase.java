package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.DatabaseClockContractTest;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.VersionConflictException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The store contract plus what is particular to the JDBC store, on one database. Leases run on the
 * database's clock: the contract's {@link #expire} moves a lease's stored expiry into the
 * database's past, and the cases that state lease times are checked against the database's time
 * ({@link DatabaseClockContractTest}).
 */
abstract class JdbcTokenStoreTestBase extends DatabaseClockContractTest {
  protected String table;

  protected abstract DataSource dataSource();

  @Override
  protected TokenStore createStore(Clock clock) {
    table = TestDatabases.freshTable();
    return JdbcTokenStore.builder(dataSource()).table(table).clock(clock).build();
  }

  @AfterEach
  void dropTable() {
    TestDatabases.drop(dataSource(), table);
  }

  private Dialect dialect() {
    try (Connection c = dataSource().getConnection()) {
      return Dialect.of(c.getMetaData().getDatabaseProductName());
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  protected Instant databaseNow() {
    return TestDatabases.now(dataSource());
  }

  /** The lease's expiry, one millisecond in the database's past; it stays current. */
  @Override
  protected void expire(Lease lease) throws Exception {
    execute(
        "UPDATE "
            + table
            + " SET lease_expires_at_ms = "
            + dialect().nowMillis
            + " - 1 WHERE connection_id = ? AND lease_fence = ? AND lease_owner = ?",
        lease.connection().toString(),
        lease.fencingToken(),
        lease.owner());
  }

  @Override
  protected void moveLeaseExpiry(Lease lease, Duration by) {
    try {
      execute(
          "UPDATE "
              + table
              + " SET lease_expires_at_ms = lease_expires_at_ms + ?"
              + " WHERE connection_id = ? AND lease_fence = ? AND lease_owner = ?",
          by.toMillis(),
          lease.connection().toString(),
          lease.fencingToken(),
          lease.owner());
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] key(int seed) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) seed);
    return k;
  }

  private String column(String sql, ConnectionId id) throws SQLException {
    try (Connection c = dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  private void execute(String sql, Object... args) throws SQLException {
    try (Connection c = dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  private JdbcTokenStore another(EncryptionKeys keys) {
    return JdbcTokenStore.builder(dataSource()).table(table).encryption(keys).build();
  }

  @Test
  void build_twiceOnOneTable_isHarmless() {
    JdbcTokenStore again = JdbcTokenStore.builder(dataSource()).table(table).build();
    store.put(MALL, tokens("a"));

    assertThat(again.load(MALL).accessToken()).isEqualTo("access-a");
  }

  @Test
  void build_withoutSchemaCreationOnAMissingTable_failsNamingTheTable() {
    assertThatThrownBy(
            () ->
                JdbcTokenStore.builder(dataSource())
                    .table("tb_never_created")
                    .createSchema(false)
                    .build())
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("table tb_never_created");
  }

  @Test
  void builder_rejectsTableNamesThatAreNotPlainIdentifiers() {
    assertThatThrownBy(() -> JdbcTokenStore.builder(dataSource()).table("t; DROP TABLE x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JdbcTokenStore.builder(dataSource()).table("a").table("b"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void encryptedStore_theColumnHoldsNoTokenAndTheKeyIdIsBesideTheData() throws Exception {
    EncryptionKeys keys = EncryptionKeys.of(key(1));
    JdbcTokenStore encrypted = another(keys);

    encrypted.put(MALL, tokens("columnsecret"));

    String stored = column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL);
    assertThat(stored)
        .doesNotContain("columnsecret")
        .doesNotContain(Base64.getEncoder().encodeToString(key(1)))
        .contains("\"kid\":\"" + keys.currentId() + "\"");
    assertThat(encrypted.load(MALL).accessToken()).isEqualTo("access-columnsecret");
    assertThat(encrypted.encrypts()).isTrue();
  }

  @Test
  void wrongKey_failsNamingTheConnection_andNeverOverwritesTheRecord() throws Exception {
    TestStores.cas(
        another(EncryptionKeys.builder().current("prod", key(1)).build()), MALL, 0, tokens("a"));
    String before = column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL);
    JdbcTokenStore wrong = another(EncryptionKeys.builder().current("prod", key(2)).build());

    assertThatThrownBy(() -> wrong.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("cannot be decrypted with key id 'prod'")
        .hasMessageContaining("table " + table);
    assertThatThrownBy(() -> TestStores.cas(wrong, MALL, 1, tokens("b")))
        .isInstanceOf(TokenStoreException.class)
        .isNotInstanceOf(VersionConflictException.class)
        .hasMessageContaining("cannot be decrypted");
    assertThat(column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isEqualTo(before);
  }

  @Test
  void rowVersionThatDisagreesWithTheRecord_isReportedAsCorrupt() throws Exception {
    store.put(MALL, tokens("a"));
    execute("UPDATE " + table + " SET version = 5 WHERE connection_id = ?", MALL.toString());

    assertThatThrownBy(() -> store.load(MALL))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("corrupt");
  }

  @Test
  void corruptRow_failsLoadAndSaveAndStaysAsItIs() throws Exception {
    store.put(MALL, tokens("a"));
    execute(
        "UPDATE " + table + " SET token_data = ? WHERE connection_id = ?",
        "garbage",
        MALL.toString());

    assertThatThrownBy(() -> store.load(MALL)).hasMessageContaining("corrupt");
    assertThatThrownBy(() -> TestStores.cas(store, MALL, 1, tokens("b")))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("corrupt");
    assertThat(column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isEqualTo("garbage");
  }

  @Test
  void clearStore_columnIsReadableJson() throws Exception {
    store.put(MALL, tokens("a"));

    assertThat(column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL))
        .startsWith("{\"tokenbroker\":1,\"connection\":\"cafe24:mall\",\"tokens\":{");
  }

  @Test
  void databaseErrors_areWrappedNamingTheConnectionAndNeverATokenValue() throws Exception {
    // The database refuses the row; PostgreSQL then quotes the failing row, tokens included.
    execute(
        "ALTER TABLE "
            + table
            + " ADD CONSTRAINT "
            + table
            + "_no_forbidden CHECK (token_data NOT LIKE '%FORBIDDEN%')");
    TokenSet refused =
        tokens("x").toBuilder()
            .accessToken("FORBIDDEN-ACCESS-123")
            .refreshToken("FORBIDDEN-REFRESH-456")
            .build();

    assertThatThrownBy(() -> store.put(MALL, refused))
        .isInstanceOf(TokenStoreException.class)
        .isNotInstanceOf(VersionConflictException.class)
        .hasMessageContaining("connection cafe24:mall: could not save tokens in table " + table)
        .satisfies(
            e -> {
              for (Throwable t = e; t != null; t = t.getCause()) {
                assertThat(t.getMessage())
                    .doesNotContain("FORBIDDEN-ACCESS-123")
                    .doesNotContain("FORBIDDEN-REFRESH-456");
              }
            });
  }

  // ---------------------------------------------------------------- the database's clock

  private long storedExpiry(ConnectionId id) throws SQLException {
    return Long.parseLong(
        column("SELECT lease_expires_at_ms FROM " + table + " WHERE connection_id = ?", id));
  }

  private JdbcTokenStore onClock(Instant fixed) {
    return JdbcTokenStore.builder(dataSource())
        .table(table)
        .clock(Clock.fixed(fixed, ZoneOffset.UTC))
        .build();
  }

  @Test
  void leaseExpiry_isTheDatabasesTimePlusTheTtl_whateverTheStoresClockSays() throws Exception {
    Duration ttl = Duration.ofSeconds(90);
    JdbcTokenStore past = onClock(Instant.parse("2001-01-01T00:00:00Z"));

    Instant before = databaseNow();
    Lease lease = past.tryAcquireLease(MALL, "instance-a", ttl, TokenStore.NO_FENCE);
    Instant after = databaseNow();

    assertThat(lease).isNotNull();
    assertThat(lease.expiresAt()).isBetween(before.plus(ttl), after.plus(ttl));
    assertThat(Duration.between(Instant.now(), lease.expiresAt()).minus(ttl).abs())
        .as("the test database runs on this machine's clock")
        .isLessThan(Duration.ofSeconds(5));
    assertThat(storedExpiry(MALL)).isEqualTo(lease.expiresAt().toEpochMilli());

    Instant extendedBefore = databaseNow();
    Lease extended = onClock(Instant.parse("2099-01-01T00:00:00Z")).extendLease(lease, ttl);
    assertThat(extended.expiresAt()).isBetween(extendedBefore.plus(ttl), databaseNow().plus(ttl));
    assertThat(storedExpiry(MALL)).isEqualTo(extended.expiresAt().toEpochMilli());
  }

  @Test
  void leaseExpiry_isJudgedByTheDatabasesClock_notByTheCallersClock() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);

    // A caller whose clock is a year ahead still sees the lease held: the database says so.
    JdbcTokenStore ahead = onClock(Instant.now().plus(Duration.ofDays(365)));
    assertThat(ahead.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE)).isNull();

    // Once the database's clock has passed the expiry, a caller a year behind takes it over.
    moveLeaseExpiry(a, TTL.negated().minusSeconds(1));
    JdbcTokenStore behind = onClock(Instant.now().minus(Duration.ofDays(365)));
    Lease b = behind.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);
    assertThat(b).isNotNull();
    assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
  }

  @Test
  void leaseExpiringExactlyNow_byTheDatabasesClock_isFree() throws Exception {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    execute(
        "UPDATE "
            + table
            + " SET lease_expires_at_ms = "
            + dialect().nowMillis
            + " WHERE connection_id = ?",
        MALL.toString());

    assertThat(store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE))
        .as("a lease counts until it expires and not a millisecond longer")
        .isNotNull();
    assertThat(a).isNotNull();
  }

  // ---------------------------------------------------------------- what the columns hold

  @Test
  void tombstone_leavesARowWithoutDataThatKeepsTheVersion() throws Exception {
    TestStores.cas(store, MALL, 0, tokens("a"));
    TestStores.cas(store, MALL, 1, tokens("b"));
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("uninstalled", T0, 0), revoke);

    assertThat(column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isNull();
    assertThat(column("SELECT version FROM " + table + " WHERE connection_id = ?", MALL))
        .isEqualTo("2");
    assertThat(column("SELECT tombstone_data FROM " + table + " WHERE connection_id = ?", MALL))
        .startsWith("{\"tokenbroker\":2,\"kind\":\"tombstone\"")
        .contains("\"reason\":\"uninstalled\"");
  }

  @Test
  void healthWrites_neverTouchTheTokenColumns() throws Exception {
    TestStores.cas(store, MALL, 0, tokens("a"));
    String before = column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL);

    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isTrue();

    assertThat(column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isEqualTo(before);
    assertThat(column("SELECT health_data FROM " + table + " WHERE connection_id = ?", MALL))
        .startsWith("{\"tokenbroker\":2,\"kind\":\"health\"")
        .doesNotContain("access-a");
    assertThat(store.load(MALL).version()).isEqualTo(1);
  }

  @Test
  void aClear_keepsTheHealthVersionColumn_andNullsTheRecord() throws Exception {
    assertThat(store.compareAndSetHealth(MALL, 0, degraded(1))).isTrue();
    assertThat(store.compareAndSetHealth(MALL, 1, null)).isTrue();

    assertThat(column("SELECT health_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isNull();
    assertThat(column("SELECT health_version FROM " + table + " WHERE connection_id = ?", MALL))
        .isEqualTo("2");
    assertThat(store.read(MALL).healthVersion()).isEqualTo(2);
    assertThat(store.compareAndSetHealth(MALL, 2, degraded(2))).isTrue();
    assertThat(store.read(MALL).health().version()).isEqualTo(3);
    assertThat(store.compareAndSetHealth(MALL, 1, failing(1)))
        .as("a writer that read the record before it was cleared")
        .isFalse();
  }

  // ------------------------------------- health shared with the previous release (rolling upgrade)

  /**
   * The release before this one's health compare-and-set, verbatim in SQL: it compares a cleared
   * record ({@code health_data} null) as version 0, writes the next one as {@code health_version +
   * 1}, and clears by nulling {@code health_data} only.
   */
  private boolean previousReleaseHealthCas(
      ConnectionId id,
      long expected,
      dev.tokenbroker.store.@org.jspecify.annotations.Nullable HealthRecord next)
      throws SQLException {
    String data = column("SELECT health_data FROM " + table + " WHERE connection_id = ?", id);
    long hv =
        Long.parseLong(
            column("SELECT health_version FROM " + table + " WHERE connection_id = ?", id));
    long actual = data == null ? 0 : hv;
    if (actual != expected) {
      return false;
    }
    if (next == null) {
      execute("UPDATE " + table + " SET health_data = NULL WHERE connection_id = ?", id.toString());
    } else {
      long version = Math.max(hv, actual) + 1;
      execute(
          "UPDATE " + table + " SET health_data = ?, health_version = ? WHERE connection_id = ?",
          new String(
              dev.tokenbroker.spi.StateCodec.encodeHealth(id, next.withVersion(version)),
              java.nio.charset.StandardCharsets.UTF_8),
          version,
          id.toString());
    }
    return true;
  }

  /** What the release before this one reads: no record while {@code health_data} is null. */
  private dev.tokenbroker.store.@org.jspecify.annotations.Nullable HealthRecord
      previousReleaseHealth(ConnectionId id) throws SQLException {
    String data = column("SELECT health_data FROM " + table + " WHERE connection_id = ?", id);
    long hv =
        Long.parseLong(
            column("SELECT health_version FROM " + table + " WHERE connection_id = ?", id));
    return data == null
        ? null
        : dev.tokenbroker.spi.StateCodec.decodeHealth(
                id, data.getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .withVersion(hv);
  }

  @Test
  void healthVersions_sharedWithThePreviousRelease_neverGoBackOnItsWrites() throws Exception {
    TestStores.cas(store, MALL, 0, tokens("a"));
    store.compareAndSetHealth(MALL, 0, degraded(1));
    assertThat(store.compareAndSetHealth(MALL, 1, null)).isTrue();

    assertThat(previousReleaseHealth(MALL)).as("a cleared record is no record to it").isNull();
    // It writes from 0, as it always did, numbering from the kept column.
    assertThat(previousReleaseHealthCas(MALL, 0, degraded(2))).isTrue();

    StoredConnection read = store.read(MALL);
    assertThat(read.health()).isEqualTo(degraded(2).withVersion(3));
    assertThat(store.compareAndSetHealth(MALL, 1, null)).isFalse();
    assertThat(store.compareAndSetHealth(MALL, 2, null)).isFalse();
    assertThat(store.compareAndSetHealth(MALL, 3, failing(1))).isTrue();
    assertThat(previousReleaseHealth(MALL)).isEqualTo(failing(1).withVersion(4));

    // Its clear nulls the record and leaves the column: seen here as no record under version 4.
    assertThat(previousReleaseHealthCas(MALL, 4, null)).isTrue();
    assertThat(store.read(MALL).health()).isNull();
    assertThat(store.read(MALL).healthVersion()).isEqualTo(4);
    assertThat(store.compareAndSetHealth(MALL, 4, degraded(3))).isTrue();
    assertThat(previousReleaseHealth(MALL).version()).isEqualTo(5);
  }

  @Test
  void authorize_clearsHealthAndTombstoneColumns() throws Exception {
    TestStores.cas(store, MALL, 0, tokens("a"));
    store.compareAndSetHealth(MALL, 0, failing(1));
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 1), revoke);

    assertThat(store.authorize(MALL, tokens("b"), revoke).version()).isEqualTo(2);

    assertThat(column("SELECT health_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isNull();
    assertThat(column("SELECT tombstone_data FROM " + table + " WHERE connection_id = ?", MALL))
        .isNull();
  }

  @Test
  void readAll_manyConnections_readsThemInBatches() {
    List<ConnectionId> ids = new ArrayList<>();
    for (int i = 0; i < 1_234; i++) {
      ids.add(ConnectionId.of("cafe24", "mall" + i));
    }
    store.restore(ids.get(0), tokens("first").withVersion(3));
    store.restore(ids.get(777), tokens("middle").withVersion(1));
    store.compareAndSetHealth(ids.get(1_233), 0, degraded(1));

    Map<ConnectionId, StoredConnection> all = store.readAll(ids);

    assertThat(all.keySet()).containsExactlyElementsOf(ids);
    assertThat(all.get(ids.get(0)).tokens().accessToken()).isEqualTo("access-first");
    assertThat(all.get(ids.get(777)).tokens().version()).isEqualTo(1);
    assertThat(all.get(ids.get(1_233)).health()).isNotNull();
    assertThat(all.values().stream().filter(s -> s.equals(StoredConnection.EMPTY)).count())
        .isEqualTo(1_231);
  }

  @Test
  void readAll_corruptRow_failsNamingTheConnection() throws Exception {
    store.put(MALL, tokens("a"));
    execute(
        "UPDATE " + table + " SET token_data = ? WHERE connection_id = ?",
        "garbage",
        MALL.toString());

    assertThatThrownBy(() -> store.readAll(List.of(SELLER, MALL)))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageContaining("table " + table);
  }

  @Test
  void staleLease_messageNamesTheConnectionAndNoToken() {
    Lease a = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    store.seizeLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE);

    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("stalesecret"), a))
        .hasMessageContaining("connection cafe24:mall")
        .hasMessageNotContaining("stalesecret");
  }

  @Test
  void databaseDown_isATokenStoreExceptionNamingTheConnection() throws Exception {
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("ALTER TABLE " + table + " RENAME TO " + table + "_gone");
    }
    try {
      assertThatThrownBy(() -> store.read(MALL))
          .isInstanceOf(TokenStoreException.class)
          .hasMessageContaining("connection cafe24:mall: could not read the connection in table");
      assertThatThrownBy(() -> store.tryAcquireLease(MALL, "a", TTL, TokenStore.NO_FENCE))
          .isInstanceOf(TokenStoreException.class)
          .hasMessageContaining("connection cafe24:mall");
      assertThatThrownBy(() -> store.readAll(List.of(MALL, SELLER)))
          .isInstanceOf(TokenStoreException.class)
          .hasMessageContaining("connection cafe24:mall: could not read it and 1 more");
      assertThatThrownBy(() -> store.compareAndSetHealth(MALL, 0, degraded(1)))
          .isInstanceOf(TokenStoreException.class)
          .hasMessageContaining("connection cafe24:mall");
      assertThatThrownBy(() -> store.connections()).isInstanceOf(TokenStoreException.class);
    } finally {
      try (Connection c = dataSource().getConnection();
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE " + table + "_gone RENAME TO " + table);
      }
    }
  }

  @Test
  void encryptedStore_recordsStayTokenCodecFormatOne() throws Exception {
    JdbcTokenStore encrypted = another(EncryptionKeys.of(key(3)));
    encrypted.put(MALL, tokens("a"));

    String stored = column("SELECT token_data FROM " + table + " WHERE connection_id = ?", MALL);
    assertThat(stored).startsWith("{\"tokenbroker\":1,");
    assertThat(TokenCodec.encrypted(EncryptionKeys.of(key(3))).decode(MALL, stored).accessToken())
        .isEqualTo("access-a");
  }

  // ---------------------------------------------------------------- registry and one-time records

  private @org.jspecify.annotations.Nullable Long changedAt(ConnectionId id) throws SQLException {
    String v = column("SELECT changed_at_ms FROM " + table + " WHERE connection_id = ?", id);
    return v == null ? null : Long.parseLong(v);
  }

  @Test
  void changedSince_isStampedByTheDatabasesClock_andRenewalsLeaveItAlone() throws Exception {
    Instant before = databaseNow();
    store.put(MALL, tokens("a"));
    Instant after = databaseNow();
    Long created = changedAt(MALL);
    assertThat(created).isBetween(before.toEpochMilli(), after.toEpochMilli());

    cas(MALL, 1, tokens("b"));
    Lease lease = store.seizeLease(MALL, "renewer", TTL, TokenStore.NO_FENCE);
    store.releaseLease(lease);
    assertThat(changedAt(MALL))
        .as("a renewal and a lease are no registry change")
        .isEqualTo(created);
    assertThat(store.changedSince(Instant.ofEpochMilli(created + 1))).isEmpty();
    assertThat(store.changedSince(Instant.ofEpochMilli(created))).containsExactly(MALL);

    // As if the authorization were an hour old: a tombstone moves it to now.
    execute("UPDATE " + table + " SET changed_at_ms = changed_at_ms - 3600000");
    assertThat(store.changedSince(before)).isEmpty();
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, TokenStore.NO_FENCE);
    store.tombstone(MALL, new Tombstone("revoked", T0, 0), revoke);
    assertThat(store.changedSince(before)).containsExactly(MALL);
  }

  @Test
  void oneTimeRecords_rowIsKeyedByADigest_andExpiresByTheDatabasesClock() throws Exception {
    assertThat(store.putOnce("state:secret-ish", new byte[] {1}, databaseNow().plusSeconds(60)))
        .isTrue();
    String once = JdbcSchema.onceTable(table);
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT once_key, once_value FROM " + once)) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1))
          .isEqualTo(dev.tokenbroker.store.OnceKeys.digest("state:secret-ish"));
      assertThat(rs.getString(2)).doesNotContain("secret");
    }
    assertThat(store.putOnce("state:secret-ish", new byte[] {2}, databaseNow().plusSeconds(60)))
        .isFalse();

    // Time passes on the database: the row's expiry moves into its past.
    execute("UPDATE " + once + " SET expires_at_ms = expires_at_ms - 60000");
    assertThat(store.putOnce("state:secret-ish", new byte[] {3}, databaseNow().plusSeconds(60)))
        .as("an expired record is replaced")
        .isTrue();
    assertThat(store.takeOnce("state:secret-ish")).containsExactly(3);

    assertThat(store.putOnce("gone", new byte[] {4}, databaseNow().plusSeconds(60))).isTrue();
    execute("UPDATE " + once + " SET expires_at_ms = expires_at_ms - 60000");
    assertThat(store.takeOnce("gone")).as("expired").isNull();
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + once)) {
      rs.next();
      assertThat(rs.getInt(1)).as("taking an expired record deletes it").isZero();
    }
  }

  @Test
  void oneTimeRecords_encryptedAtRest_boundToTheirKey() throws Exception {
    JdbcTokenStore encrypted = another(EncryptionKeys.of(key(1)));
    byte[] secret = "VERIFIER-columnsecret".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThat(encrypted.putOnce("a", secret, databaseNow().plusSeconds(60))).isTrue();
    assertThat(encrypted.putOnce("b", new byte[] {1}, databaseNow().plusSeconds(60))).isTrue();
    String once = JdbcSchema.onceTable(table);
    String digestA = dev.tokenbroker.store.OnceKeys.digest("a");
    String digestB = dev.tokenbroker.store.OnceKeys.digest("b");
    String sealedA;
    try (Connection c = dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT once_value FROM " + once + " WHERE once_key = ?")) {
      ps.setString(1, digestA);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        sealedA = rs.getString(1);
      }
    }
    assertThat(sealedA)
        .doesNotContain("columnsecret")
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(secret));

    // A sealed value copied onto another key does not open there.
    execute("UPDATE " + once + " SET once_value = ? WHERE once_key = ?", sealedA, digestB);
    assertThatThrownBy(() -> encrypted.takeOnce("b"))
        .isInstanceOf(TokenStoreException.class)
        .hasMessageNotContaining("columnsecret");
    assertThatThrownBy(() -> another(EncryptionKeys.of(key(2))).takeOnce("a"))
        .as("another key")
        .isInstanceOf(TokenStoreException.class);
  }

  @Test
  void takeOnce_byTwoStoresOnTheSameTable_exactlyOneGetsEachValue() throws Exception {
    JdbcTokenStore other = JdbcTokenStore.builder(dataSource()).table(table).build();
    int keys = 20;
    for (int k = 0; k < keys; k++) {
      assertThat(store.putOnce("k" + k, new byte[] {(byte) k}, databaseNow().plusSeconds(60)))
          .isTrue();
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Integer>> got = new ArrayList<>();
      for (TokenStore s : List.of(store, other, store, other)) {
        got.add(
            pool.submit(
                () -> {
                  int n = 0;
                  for (int k = 0; k < keys; k++) {
                    if (s.takeOnce("k" + k) != null) {
                      n++;
                    }
                  }
                  return n;
                }));
      }
      int total = 0;
      for (java.util.concurrent.Future<Integer> f : got) {
        total += f.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      assertThat(total).isEqualTo(keys);
    } finally {
      pool.shutdownNow();
    }
  }
}
