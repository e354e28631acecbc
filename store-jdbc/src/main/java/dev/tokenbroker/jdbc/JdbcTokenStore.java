package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TokenStore} in one table of a relational database, shared by every broker instance that
 * uses the same table: PostgreSQL, MySQL 8 / MariaDB, and H2.
 *
 * <h2>The table</h2>
 *
 * One row per connection ({@code connection_id}, the primary key). Schema version 1 holds the token
 * set ({@code version}, {@code token_data}: a {@link TokenCodec} record, format 1, encrypted with
 * AES-256-GCM when keys are given) and the lease ({@code lease_owner}, {@code lease_fence}, {@code
 * lease_expires_at_ms}); version 2 adds nullable columns beside them: the health record ({@code
 * health_data}, {@code health_version}), the tombstone ({@code tombstone_data}), both {@link
 * StateCodec} records (format 2), and the renewal marker ({@code renewing_fence}, {@code
 * renewing_since_ms}). The scripts ship as {@code db/tokenbroker/<postgresql|mysql|h2>/V1__….sql}
 * and {@code V2__….sql} (Flyway) with a Liquibase {@code changelog.xml} beside them; {@link
 * Builder#build()} applies the missing ones itself unless {@link Builder#createSchema(boolean)} is
 * off. An instance of an earlier release reads and writes the version 1 columns only, so both can
 * share the table during a rolling upgrade. Version 3 ({@code V3__….sql}) adds {@code
 * changed_at_ms} (indexed; the registry time of {@link #changedSince}) and the table {@code
 * <table>_once} of one-time records ({@link #putOnce}); an earlier release never reads either.
 *
 * <h2>How it works</h2>
 *
 * <ul>
 *   <li>Every write is one short transaction: {@code SELECT … FOR UPDATE} locks the row, the checks
 *       of the contract (lease current, version expected, no tombstone) run on what it read, and
 *       one {@code UPDATE} writes the row back before the commit. A connection's first write
 *       inserts the row (a primary-key violation means another instance inserted it first) and
 *       starts again. The row lock orders every writer, also instances of an earlier release, whose
 *       conditional {@code UPDATE}s wait for it.
 *   <li>Lease expiry is judged by the <b>database's clock</b>, read inside that transaction once
 *       the row is locked: a lease is granted until the database's time plus the TTL, and {@link
 *       Lease#expiresAt()} is that instant. The instances' clocks play no part, so their skew does
 *       not eat into the TTL. (The {@link Builder#clock(Clock)} only stamps {@code updated_at_ms}.)
 *   <li>A lease is current while the row holds its fence and owner: an expired lease nobody took
 *       over still is. Fences grow with every grant, above the row's last one and the caller's
 *       {@code minFence}; versions grow with every save and survive a tombstone.
 *   <li>A save reads the stored record first and decodes it: a record this instance cannot decrypt
 *       or parse (a wrong key, a corrupt row) fails the save instead of being replaced by something
 *       the correctly configured instances could not read either.
 *   <li>Reads are one {@code SELECT}; {@link #readAll} reads many rows in one statement.
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

  /** Rows read by one statement of {@link #readAll} (see {@link RowReads}). */
  private static final int BATCH = RowReads.BATCH;

  // The parts, each in its own package-private class: the table's SQL (TokenTable), the
  // transactions that lock a row and write it back (RowTransactions, SqlErrors), the records in a
  // row (RowCodec), the reads and the registry (RowReads), the writes of the token set and the
  // tombstone (TokenWrites), the health record (HealthWrites), the lease on the database's clock
  // (JdbcLeases, Dialect#now), the one-time records (OnceRecords, OnceTable), the schema
  // (JdbcSchema).
  private final @Nullable AutoCloseable ownedDataSource;
  private final String table;
  private final Dialect dialect;
  private final RowCodec rows;
  private final RowReads reads;
  private final TokenWrites writes;
  private final HealthWrites health;
  private final JdbcLeases leases;
  private final OnceRecords once;

  private JdbcTokenStore(Builder b, Dialect dialect) {
    this.ownedDataSource = b.ownedDataSource;
    this.table = b.table;
    this.dialect = dialect;
    TokenTable sql = new TokenTable(table, b.clock == null ? Clock.systemUTC() : b.clock);
    RowTransactions tx = new RowTransactions(b.dataSource, sql, dialect);
    TokenCodec codec = TokenCodec.of(b.keys);
    this.rows = new RowCodec(codec, table);
    this.reads = new RowReads(table, sql, tx, rows);
    this.writes = new TokenWrites(tx, rows);
    this.health = new HealthWrites(tx);
    this.leases = new JdbcLeases(tx);
    this.once = new OnceRecords(tx, new OnceTable(table, dialect), dialect, codec);
  }

  /**
   * A builder for a store on {@code dataSource}.
   *
   * @param dataSource the database; the caller closes it
   * @return a new builder
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(Objects.requireNonNull(dataSource, "dataSource"), null);
  }

  /** For the factory: the store closes {@code owned} (a pool it created) on {@link #close()}. */
  static Builder builder(DataSource dataSource, AutoCloseable owned) {
    return new Builder(dataSource, owned);
  }

  /**
   * The table this store uses.
   *
   * @return the table this store uses
   */
  public String table() {
    return table;
  }

  /**
   * True when token data is encrypted.
   *
   * @return true when token data is encrypted
   */
  public boolean encrypts() {
    return rows.encrypts();
  }

  // ---------------------------------------------------------------- reading (see RowReads)

  @Override
  public StoredConnection read(ConnectionId id) {
    return reads.read(id);
  }

  /** Reads the rows in batches of up to {@value #BATCH}, one statement each. */
  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    return reads.readAll(ids);
  }

  @Override
  public List<ConnectionId> connections() {
    return reads.connections();
  }

  // ---------------------------------------------------------------- token sets (see TokenWrites)

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return writes.compareAndSet(id, expectedVersion, tokens, lease);
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    return writes.authorize(id, tokens, lease);
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    return writes.restore(id, tokens);
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    writes.tombstone(id, tombstone, lease);
  }

  // ---------------------------------------------------------------- the lease (see JdbcLeases)

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    return leases.tryAcquire(id, owner, ttl, minFence);
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    return leases.seize(id, owner, ttl, minFence);
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    return leases.extend(lease, ttl);
  }

  @Override
  public void markRenewing(Lease lease) {
    leases.markRenewing(lease);
  }

  @Override
  public void releaseLease(Lease lease) {
    leases.release(lease);
  }

  // ---------------------------------------------------------------- health (see HealthWrites)

  /**
   * {@inheritDoc}
   *
   * <p>The health version is the {@code health_version} column, which a clear keeps: {@code
   * health_data} is then null. Instances of the release before this one compare a cleared record as
   * version 0 and write the next one as {@code health_version + 1}, as this release does, so both
   * can share the table; a clear they make leaves the column as it was.
   */
  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    return health.compareAndSet(id, expectedVersion, next);
  }

  // ---------------------------------------------------------------- the registry (see RowReads)

  /**
   * {@inheritDoc}
   *
   * <p>The rows whose {@code changed_at_ms} (schema version 3, indexed) is at or after {@code
   * since}. The column is set, by the database's clock read in the write's transaction, when a
   * connection's first set is saved, and by every authorization, restore and tombstone; renewals
   * leave it alone. Rows keep it for as long as they exist, so every change is kept, not only the
   * last hour. Instances of an earlier release do not set it: a connection one of them authorizes
   * during a rolling upgrade is not listed here, and a broker learns of it when it is asked for it.
   *
   * @throws TokenStoreException if the table cannot be read
   */
  @Override
  public List<ConnectionId> changedSince(Instant since) {
    return reads.changedSince(since);
  }

  // ---------------------------------------------------------------- one-time records

  /**
   * {@inheritDoc}
   *
   * <p>A row of {@code <table>_once} (schema version 3) keyed by a SHA-256 digest of the key, the
   * value sealed like token data when the store encrypts. Expiry is judged by the database's clock,
   * like leases: pass an {@code expiresAt} computed from the database's time (a broker adds a TTL
   * to its own clock; keep such TTLs well above the instances' clock skew). A put also deletes the
   * table's expired rows, at most once a minute per store.
   *
   * @throws TokenStoreException if the database fails
   */
  @Override
  public boolean putOnce(String key, byte[] value, Instant expiresAt) {
    return once.put(key, value, expiresAt);
  }

  /**
   * {@inheritDoc}
   *
   * <p>PostgreSQL: {@code DELETE … RETURNING}; MySQL, H2: {@code SELECT … FOR UPDATE} and {@code
   * DELETE} in one transaction, the caller whose delete removed the row being the one that gets it.
   * An expired row is deleted as well.
   *
   * @throws TokenStoreException if the database fails, or the value does not decrypt (it is gone
   *     all the same)
   */
  @Override
  public byte @Nullable [] takeOnce(String key) {
    return once.take(key);
  }

  // ---------------------------------------------------------------- closing

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
        + (rows.encrypts() ? ", encrypted" : ", clear")
        + '}';
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
     *
     * @param table the table name
     * @return this builder
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

    /**
     * Whether {@link #build()} brings the table to the newest schema version itself: creates it
     * when missing and applies the scripts a table made by an earlier release lacks. Default true.
     * Turn it off when Flyway or Liquibase runs the scripts (see the module README).
     *
     * @param createSchema whether to create the table when missing
     * @return this builder
     */
    public Builder createSchema(boolean createSchema) {
      once(createSchemaSet, "createSchema");
      this.createSchema = createSchema;
      this.createSchemaSet = true;
      return this;
    }

    /**
     * The clock that stamps the informational {@code updated_at_ms} column; default {@link
     * Clock#systemUTC()}. Leases do not follow it: they are judged by the database's clock.
     *
     * @param clock the clock every expiry and lease is measured by
     * @return this builder
     */
    public Builder clock(Clock clock) {
      once(this.clock != null, "clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Encrypts token data with AES-256-GCM under these keys; null (the default) stores it in the
     * clear and says so once in the log.
     *
     * @param keys the encryption keys
     * @return this builder
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
     * Connects once to learn the database product, brings the table to the newest schema version
     * when asked, and checks that the table has every column the store uses.
     *
     * @return the store
     * @throws TokenStoreException if the database cannot be reached, the schema cannot be created
     *     or upgraded, or the table lacks a column
     */
    public JdbcTokenStore build() {
      Dialect dialect = JdbcSchema.prepare(dataSource, table, createSchema);
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
