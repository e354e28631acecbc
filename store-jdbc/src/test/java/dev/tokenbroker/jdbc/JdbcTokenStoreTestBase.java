package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreContractTest;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.VersionConflictException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The store contract plus what is particular to the JDBC store, on one database. */
abstract class JdbcTokenStoreTestBase extends TokenStoreContractTest {
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
    another(EncryptionKeys.builder().current("prod", key(1)).build())
        .compareAndSet(MALL, 0, tokens("a"));
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
}
