package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.VersionConflictException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TokenStore} in one table of a relational database, shared by every broker instance that
 * uses the same table: PostgreSQL, MySQL 8 / MariaDB, and H2.
 *
 * <h2>How it works</h2>
 *
 * One row per connection: {@code connection_id} (primary key), {@code version}, {@code token_data}
 * (a {@link TokenCodec} record, encrypted with AES-256-GCM when keys are given), and the lease
 * columns {@code lease_owner}, {@code lease_fence}, {@code lease_expires_at_ms}. The DDL ships as
 * {@code dev/tokenbroker/jdbc/<postgresql|mysql|h2>.sql} and is run by {@link Builder#build()}
 * ({@code CREATE TABLE IF NOT EXISTS}) unless {@link Builder#createSchema(boolean)} is off.
 *
 * <ul>
 *   <li>Compare-and-set reads the row, checks that its record decodes (a record this instance
 *       cannot decrypt is never overwritten by it), then runs one conditional statement: {@code
 *       UPDATE … SET version = v + 1 WHERE connection_id = ? AND version = v}; the first save is an
 *       {@code INSERT} whose primary-key violation means another instance saved first. Each
 *       statement runs on its own (auto-commit), so the database's row lock makes it atomic, and it
 *       is durable when the statement returns.
 *   <li>The lease is one conditional {@code UPDATE} that takes it only when it is free, expired or
 *       already this owner's, and increments the fencing value; it runs in a short transaction with
 *       the {@code SELECT} that reads the granted fence back.
 *   <li>Lease expiry compares against this store's {@link Clock} (the application's clocks, which
 *       should be kept in sync with NTP: skew between instances eats into the lease's TTL).
 *   <li>{@link #delete} keeps the row (with no data, version 0) so that fencing values keep
 *       growing.
 *   <li>Serialization failures and deadlocks (SQLState 40001, 40P01), possible when a pool runs at
 *       a stricter isolation level than READ COMMITTED, are retried a few times.
 * </ul>
 *
 * Works with any {@link DataSource}; a pool such as HikariCP is strongly recommended (see the
 * module README). Messages name the connection and the table and never contain a token: database
 * error texts are scrubbed before they are wrapped.
 *
 * <p>Thread-safe. Every method borrows one JDBC connection for its duration and blocks on the
 * database.
 */
public final class JdbcTokenStore implements TokenStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcTokenStore.class);

  /** The default table name. */
  public static final String DEFAULT_TABLE = "tokenbroker_tokens";

  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");
  private static final int MAX_OWNER = 255;
  private static final int ATTEMPTS = 5;

  private final DataSource dataSource;
  private final @Nullable AutoCloseable ownedDataSource;
  private final String table;
  private final Clock clock;
  private final TokenCodec codec;
  private final Dialect dialect;

  private final String selectTokens;
  private final String updateTokens;
  private final String claimEmptyRow;
  private final String insertTokens;
  private final String deleteTokens;
  private final String selectConnections;
  private final String takeLease;
  private final String selectFence;
  private final String insertLease;
  private final String releaseLease;

  private JdbcTokenStore(Builder b, Dialect dialect) {
    this.dataSource = b.dataSource;
    this.ownedDataSource = b.ownedDataSource;
    this.table = b.table;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.codec = TokenCodec.of(b.keys);
    this.dialect = dialect;
    String t = table;
    selectTokens = "SELECT version, token_data FROM " + t + " WHERE connection_id = ?";
    updateTokens =
        "UPDATE "
            + t
            + " SET version = ?, token_data = ?, updated_at_ms = ?"
            + " WHERE connection_id = ? AND version = ? AND token_data IS NOT NULL";
    claimEmptyRow =
        "UPDATE "
            + t
            + " SET version = 1, token_data = ?, updated_at_ms = ?"
            + " WHERE connection_id = ? AND token_data IS NULL";
    insertTokens =
        "INSERT INTO "
            + t
            + " (connection_id, version, token_data, updated_at_ms, lease_fence,"
            + " lease_expires_at_ms) VALUES (?, 1, ?, ?, 0, 0)";
    deleteTokens =
        "UPDATE "
            + t
            + " SET version = 0, token_data = NULL, updated_at_ms = ?"
            + " WHERE connection_id = ? AND token_data IS NOT NULL";
    selectConnections =
        "SELECT connection_id FROM " + t + " WHERE token_data IS NOT NULL ORDER BY connection_id";
    takeLease =
        "UPDATE "
            + t
            + " SET lease_owner = ?, lease_fence = lease_fence + 1, lease_expires_at_ms = ?"
            + " WHERE connection_id = ?"
            + " AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at_ms <= ?)";
    selectFence = "SELECT lease_fence FROM " + t + " WHERE connection_id = ?";
    insertLease =
        "INSERT INTO "
            + t
            + " (connection_id, version, token_data, updated_at_ms, lease_owner, lease_fence,"
            + " lease_expires_at_ms) VALUES (?, 0, NULL, ?, ?, 1, ?)";
    releaseLease =
        "UPDATE "
            + t
            + " SET lease_owner = NULL, lease_expires_at_ms = 0"
            + " WHERE connection_id = ? AND lease_fence = ? AND lease_owner = ?";
  }

  /** A builder for a store on {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(Objects.requireNonNull(dataSource, "dataSource"), null);
  }

  /** For the factory: the store closes {@code owned} (a pool it created) on {@link #close()}. */
  static Builder builder(DataSource dataSource, AutoCloseable owned) {
    return new Builder(dataSource, owned);
  }

  /** The table this store uses. */
  public String table() {
    return table;
  }

  /** True when token data is encrypted. */
  public boolean encrypts() {
    return codec.encrypts();
  }

  @Override
  public @Nullable TokenSet load(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return run(
        id,
        "load tokens",
        List.of(),
        c -> {
          Row row = row(c, id);
          return row == null || row.data == null ? null : decode(id, row.version, row.data);
        });
  }

  private TokenSet decode(ConnectionId id, long version, String data) {
    TokenSet t;
    try {
      t = codec.decode(id, data);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
    if (t.version() != version) {
      throw new TokenStoreException(
          id,
          "connection "
              + id
              + ": stored record is corrupt: it says version "
              + t.version()
              + " but the row has version "
              + version
              + " (table "
              + table
              + ")",
          null);
    }
    return t;
  }

  @Override
  public TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    String data = codec.encodeToString(id, saved);
    List<String> secrets = secretsOf(tokens);
    return run(
        id,
        "save tokens",
        secrets,
        c -> {
          long now = clock.millis();
          for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (expectedVersion > 0) {
              // Read first: a record this instance cannot decrypt or parse (a wrong key, a
              // corrupt row) fails the save instead of being replaced by something that the
              // correctly configured instances could not read either.
              Row row = row(c, id);
              long actual = row == null || row.data == null ? 0 : row.version;
              if (actual != expectedVersion) {
                throw new VersionConflictException(id, expectedVersion, actual);
              }
              decode(id, row.version, row.data);
              // Versions only grow, so an unchanged version still holds the record just checked.
              try (PreparedStatement ps = c.prepareStatement(updateTokens)) {
                ps.setLong(1, saved.version());
                ps.setString(2, data);
                ps.setLong(3, now);
                ps.setString(4, id.toString());
                ps.setLong(5, expectedVersion);
                if (ps.executeUpdate() == 1) {
                  return saved;
                }
              }
            } else {
              // A row without data (a lease was taken, or the set was deleted) counts as version 0.
              try (PreparedStatement ps = c.prepareStatement(claimEmptyRow)) {
                ps.setString(1, data);
                ps.setLong(2, now);
                ps.setString(3, id.toString());
                if (ps.executeUpdate() == 1) {
                  return saved;
                }
              }
              Row row = row(c, id);
              if (row != null && row.data != null) {
                throw new VersionConflictException(id, expectedVersion, row.version);
              }
              if (row == null) {
                try (PreparedStatement ps = c.prepareStatement(insertTokens)) {
                  ps.setString(1, id.toString());
                  ps.setString(2, data);
                  ps.setLong(3, now);
                  ps.executeUpdate();
                  return saved;
                } catch (SQLException e) {
                  if (!isDuplicateKey(e)) {
                    throw e;
                  }
                  // Another instance inserted the row first: decide again on what it holds.
                }
              }
            }
            // The row changed between our statements: decide again.
          }
          throw new TokenStoreException(
              id,
              "connection "
                  + id
                  + ": could not save tokens in table "
                  + table
                  + ": too much contention",
              null);
        });
  }

  private static final class Row {
    final long version;
    final @Nullable String data;

    Row(long version, @Nullable String data) {
      this.version = version;
      this.data = data;
    }
  }

  private @Nullable Row row(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(selectTokens)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Row(rs.getLong(1), rs.getString(2)) : null;
      }
    }
  }

  @Override
  public void delete(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    run(
        id,
        "delete tokens",
        List.of(),
        c -> {
          try (PreparedStatement ps = c.prepareStatement(deleteTokens)) {
            ps.setLong(1, clock.millis());
            ps.setString(2, id.toString());
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<ConnectionId> connections() {
    List<String> raw =
        run(
            null,
            "list connections",
            List.of(),
            c -> {
              List<String> ids = new ArrayList<>();
              try (Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery(selectConnections)) {
                while (rs.next()) {
                  ids.add(rs.getString(1));
                }
              }
              return ids;
            });
    List<ConnectionId> ids = new ArrayList<>(raw.size());
    for (String s : raw) {
      try {
        ids.add(ConnectionId.parse(s));
      } catch (IllegalArgumentException e) {
        log.warn("table {}: row with malformed connection id skipped: {}", table, e.getMessage());
      }
    }
    ids.sort(null); // Java's order, whatever the database's collation
    return ids;
  }

  @Override
  public @Nullable Lease tryAcquireLease(ConnectionId id, String owner, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    if (owner.isEmpty() || owner.length() > MAX_OWNER) {
      throw new IllegalArgumentException("lease owner must be 1 to " + MAX_OWNER + " characters");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
    return run(
        id,
        "take the renewal lease",
        List.of(),
        c -> {
          for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            long now = clock.millis();
            long expires = now + ttl.toMillis();
            Long fence = inTransaction(c, () -> take(c, id, owner, now, expires));
            if (fence != null) {
              return new Lease(id, owner, fence, Instant.ofEpochMilli(expires));
            }
            if (rowExists(c, id)) {
              return null; // held by another owner
            }
            try (PreparedStatement ps = c.prepareStatement(insertLease)) {
              ps.setString(1, id.toString());
              ps.setLong(2, now);
              ps.setString(3, owner);
              ps.setLong(4, expires);
              ps.executeUpdate();
              return new Lease(id, owner, 1, Instant.ofEpochMilli(expires));
            } catch (SQLException e) {
              if (!isDuplicateKey(e)) {
                throw e;
              }
              // Another instance created the row meanwhile: decide again on the row.
            }
          }
          return null;
        });
  }

  private @Nullable Long take(Connection c, ConnectionId id, String owner, long now, long expires)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(takeLease)) {
      ps.setString(1, owner);
      ps.setLong(2, expires);
      ps.setString(3, id.toString());
      ps.setString(4, owner);
      ps.setLong(5, now);
      if (ps.executeUpdate() != 1) {
        return null;
      }
    }
    // Same transaction: the row is locked by our UPDATE, so this reads the fence we just granted.
    try (PreparedStatement ps = c.prepareStatement(selectFence)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("row vanished inside its own transaction");
        }
        return rs.getLong(1);
      }
    }
  }

  private boolean rowExists(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(selectFence)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    run(
        id,
        "release the renewal lease",
        List.of(),
        c -> {
          try (PreparedStatement ps = c.prepareStatement(releaseLease)) {
            ps.setString(1, id.toString());
            ps.setLong(2, lease.fencingToken());
            ps.setString(3, lease.owner());
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** Closes the connection pool when this store created it (from configuration). */
  @Override
  public void close() {
    if (ownedDataSource != null) {
      try {
        ownedDataSource.close();
      } catch (Exception e) {
        log.warn("table {}: closing the connection pool failed: {}", table, e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "JdbcTokenStore{"
        + dialect.name().toLowerCase(Locale.ROOT)
        + ", table="
        + table
        + (codec.encrypts() ? ", encrypted" : ", clear")
        + '}';
  }

  // ---------------------------------------------------------------- plumbing

  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private interface SqlStep<T> {
    T run() throws SQLException;
  }

  /**
   * Runs {@code work} on a borrowed connection in auto-commit mode, retrying serialization
   * failures, and turns SQL errors into {@link TokenStoreException}s whose text is scrubbed of
   * {@code secrets} and of anything that looks like a token.
   */
  private <T> T run(
      @Nullable ConnectionId id, String action, Collection<String> secrets, SqlWork<T> work) {
    SQLException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try (Connection c = dataSource.getConnection()) {
        boolean autoCommit = c.getAutoCommit();
        if (!autoCommit) {
          c.setAutoCommit(true);
        }
        try {
          return work.run(c);
        } finally {
          if (!autoCommit) {
            c.setAutoCommit(false);
          }
        }
      } catch (SQLException e) {
        if (!isRetryable(e)) {
          throw failure(id, action, secrets, e);
        }
        last = e;
      }
    }
    throw failure(id, action, secrets, Objects.requireNonNull(last));
  }

  private static <T> T inTransaction(Connection c, SqlStep<T> step) throws SQLException {
    c.setAutoCommit(false);
    try {
      T result = step.run();
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  private TokenStoreException failure(
      @Nullable ConnectionId id, String action, Collection<String> secrets, SQLException e) {
    String detail = Secrets.scrub(describe(e), secrets, 300);
    SQLException safe = new SQLException(detail, e.getSQLState(), e.getErrorCode());
    safe.setStackTrace(e.getStackTrace());
    String subject = id == null ? "" : "connection " + id + ": ";
    return new TokenStoreException(
        id, subject + "could not " + action + " in table " + table + ": " + detail, safe);
  }

  private static String describe(SQLException e) {
    String state = e.getSQLState();
    return (state == null ? "" : "SQLState " + state + ": ") + e.getMessage();
  }

  private static boolean isDuplicateKey(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLIntegrityConstraintViolationException) {
        return true;
      }
      if (t instanceof SQLException) {
        String state = ((SQLException) t).getSQLState();
        // 23505: unique violation (PostgreSQL, H2); 23000: integrity violation (MySQL, MariaDB)
        if ("23505".equals(state) || "23000".equals(state)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isRetryable(SQLException e) {
    String state = e.getSQLState();
    // 40001: serialization failure; 40P01: PostgreSQL deadlock; MySQL 1213 deadlock is 40001 too.
    return "40001".equals(state) || "40P01".equals(state);
  }

  private static List<String> secretsOf(TokenSet t) {
    List<String> s = new ArrayList<>(2);
    s.add(t.accessToken());
    if (t.refreshToken() != null) {
      s.add(t.refreshToken());
    }
    return s;
  }

  // ---------------------------------------------------------------- dialects and schema

  enum Dialect {
    POSTGRESQL("postgresql.sql"),
    MYSQL("mysql.sql"),
    H2("h2.sql"),
    OTHER(null);

    final @Nullable String script;

    Dialect(@Nullable String script) {
      this.script = script;
    }

    static Dialect of(String productName) {
      String p = productName.toLowerCase(Locale.ROOT);
      if (p.contains("postgres")) {
        return POSTGRESQL;
      }
      if (p.contains("mysql") || p.contains("mariadb")) {
        return MYSQL;
      }
      if (p.equals("h2")) {
        return H2;
      }
      return OTHER;
    }
  }

  /** The DDL for {@code dialect}, for table {@code table}. */
  static String schema(Dialect dialect, String table) {
    if (dialect.script == null) {
      throw new IllegalArgumentException("no schema script for " + dialect);
    }
    try (InputStream in = JdbcTokenStore.class.getResourceAsStream(dialect.script)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + dialect.script);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String ddl =
          text.lines().filter(l -> !l.startsWith("--")).collect(Collectors.joining("\n")).trim();
      return ddl.replace(DEFAULT_TABLE, table);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + dialect.script, e);
    }
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link JdbcTokenStore}. Not thread-safe. Each option may be set once.
   *
   * <pre>{@code
   * HikariDataSource pool = new HikariDataSource(hikariConfig);
   * TokenStore store = JdbcTokenStore.builder(pool)
   *     .encryption(EncryptionKeys.parse(System.getenv("TOKENBROKER_KEY")))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final DataSource dataSource;
    private final @Nullable AutoCloseable ownedDataSource;
    private String table = DEFAULT_TABLE;
    private boolean tableSet;
    private boolean createSchema = true;
    private boolean createSchemaSet;
    private @Nullable Clock clock;
    private @Nullable EncryptionKeys keys;
    private boolean keysSet;

    private Builder(DataSource dataSource, @Nullable AutoCloseable ownedDataSource) {
      this.dataSource = dataSource;
      this.ownedDataSource = ownedDataSource;
    }

    /**
     * The table, optionally schema-qualified ({@code tokens.broker_tokens}); letters, digits and
     * underscores. Default {@value #DEFAULT_TABLE}.
     */
    public Builder table(String table) {
      once(tableSet, "table");
      Objects.requireNonNull(table, "table");
      if (!TABLE.matcher(table).matches()) {
        throw new IllegalArgumentException(
            "table must be [schema.]name of letters, digits and underscores, got '"
                + Secrets.scrub(table, List.of(), 80)
                + "'");
      }
      this.table = table;
      this.tableSet = true;
      return this;
    }

    /** Whether {@link #build()} creates the table when missing. Default true. */
    public Builder createSchema(boolean createSchema) {
      once(createSchemaSet, "createSchema");
      this.createSchema = createSchema;
      this.createSchemaSet = true;
      return this;
    }

    /** The clock leases expire by; default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      once(this.clock != null, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Encrypts token data with AES-256-GCM under these keys; null (the default) stores it in the
     * clear and says so once in the log.
     */
    public Builder encryption(@Nullable EncryptionKeys keys) {
      once(keysSet, "encryption");
      this.keys = keys;
      this.keysSet = true;
      return this;
    }

    private static void once(boolean alreadySet, String option) {
      if (alreadySet) {
        throw new IllegalStateException(option + " was already set");
      }
    }

    /**
     * Connects once to learn the database product, creates the table when asked, and checks that
     * the table can be read.
     *
     * @throws TokenStoreException if the database cannot be reached, the table cannot be created,
     *     or it lacks the expected columns
     */
    public JdbcTokenStore build() {
      Dialect dialect;
      try (Connection c = dataSource.getConnection()) {
        DatabaseMetaData meta = c.getMetaData();
        dialect = Dialect.of(meta.getDatabaseProductName());
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
          if (createSchema) {
            if (dialect == Dialect.OTHER) {
              throw new TokenStoreException(
                  null,
                  "table "
                      + table
                      + ": cannot create the schema on "
                      + meta.getDatabaseProductName()
                      + "; create the table from dev/tokenbroker/jdbc/postgresql.sql and set"
                      + " create-schema: false",
                  null);
            }
            st.execute(schema(dialect, table));
          }
          // Fails early, naming the table, if it is missing or lacks a column.
          st.executeQuery(
                  "SELECT connection_id, version, token_data, updated_at_ms, lease_owner,"
                      + " lease_fence, lease_expires_at_ms FROM "
                      + table
                      + " WHERE 1 = 0")
              .close();
        } finally {
          c.setAutoCommit(autoCommit);
        }
      } catch (SQLException e) {
        throw new TokenStoreException(
            null, "table " + table + ": cannot set up the token store: " + describe(e), e);
      }
      JdbcTokenStore store = new JdbcTokenStore(this, dialect);
      if (keys == null) {
        log.warn(
            "token store table {}: no encryption key configured, tokens are stored in the clear"
                + " (set key-env or key-file)",
            table);
      }
      return store;
    }
  }
}
