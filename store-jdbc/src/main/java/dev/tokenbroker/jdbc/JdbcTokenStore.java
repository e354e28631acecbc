package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * share the table during a rolling upgrade.
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
  private static final int MAX_OWNER = 255;
  private static final int ATTEMPTS = 5;
  private static final int BATCH = 500;
  private static final Object NEED_ROW = new Object();

  private static final String COLUMNS =
      "connection_id, version, token_data, health_data, health_version, tombstone_data";
  private static final String LOCKED_COLUMNS =
      COLUMNS
          + ", lease_owner, lease_fence, lease_expires_at_ms, renewing_fence, renewing_since_ms";

  private final DataSource dataSource;
  private final @Nullable AutoCloseable ownedDataSource;
  private final String table;
  private final Clock clock;
  private final TokenCodec codec;
  private final Dialect dialect;

  private final String selectRow;
  private final String lockRow;
  private final String insertRow;
  private final String writeRow;
  private final String selectConnections;

  private JdbcTokenStore(Builder b, Dialect dialect) {
    this.dataSource = b.dataSource;
    this.ownedDataSource = b.ownedDataSource;
    this.table = b.table;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.codec = TokenCodec.of(b.keys);
    this.dialect = dialect;
    String t = table;
    selectRow = "SELECT " + COLUMNS + " FROM " + t + " WHERE connection_id = ?";
    lockRow = "SELECT " + LOCKED_COLUMNS + " FROM " + t + " WHERE connection_id = ? FOR UPDATE";
    // Only version 1 columns, with the values an instance of an earlier release inserts for a
    // connection that has nothing yet: it sees a row without data and a free lease.
    insertRow =
        "INSERT INTO "
            + t
            + " (connection_id, version, token_data, updated_at_ms, lease_fence,"
            + " lease_expires_at_ms) VALUES (?, 0, NULL, ?, 0, 0)";
    writeRow =
        "UPDATE "
            + t
            + " SET version = ?, token_data = ?, health_data = ?, health_version = ?,"
            + " tombstone_data = ?, lease_owner = ?, lease_fence = ?, lease_expires_at_ms = ?,"
            + " renewing_fence = ?, renewing_since_ms = ?, updated_at_ms = ?"
            + " WHERE connection_id = ?";
    selectConnections =
        "SELECT connection_id FROM "
            + t
            + " WHERE token_data IS NOT NULL AND tombstone_data IS NULL";
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

  // ---------------------------------------------------------------- the row

  /** One row as read, changed in memory and written back under its lock. */
  private static final class Row {
    long version;
    @Nullable String tokenData;
    @Nullable String healthData;
    long healthVersion;
    @Nullable String tombstoneData;
    @Nullable String leaseOwner;
    long leaseFence;
    long leaseExpiresAtMs;
    @Nullable Long renewingFence;
    @Nullable Long renewingSinceMs;
    boolean dirty;

    boolean holds(Lease lease) {
      return leaseOwner != null
          && leaseFence == lease.fencingToken()
          && leaseOwner.equals(lease.owner());
    }

    void clearMarker() {
      renewingFence = null;
      renewingSinceMs = null;
    }

    /** The marker of the lease the row holds, if any: a renewal that lease started. */
    @Nullable Long marker() {
      return leaseOwner != null
              && renewingSinceMs != null
              && renewingFence != null
              && renewingFence == leaseFence
          ? renewingSinceMs
          : null;
    }
  }

  private static Row readColumns(ResultSet rs) throws SQLException {
    Row r = new Row();
    r.version = rs.getLong("version");
    r.tokenData = rs.getString("token_data");
    r.healthData = rs.getString("health_data");
    r.healthVersion = rs.getLong("health_version");
    r.tombstoneData = rs.getString("tombstone_data");
    return r;
  }

  private @Nullable Row lock(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(lockRow)) {
      ps.setString(1, id.toString());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Row r = readColumns(rs);
        r.leaseOwner = rs.getString("lease_owner");
        r.leaseFence = rs.getLong("lease_fence");
        r.leaseExpiresAtMs = rs.getLong("lease_expires_at_ms");
        r.renewingFence = nullableLong(rs, "renewing_fence");
        r.renewingSinceMs = nullableLong(rs, "renewing_since_ms");
        return r;
      }
    }
  }

  private static @Nullable Long nullableLong(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private void write(Connection c, ConnectionId id, Row r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(writeRow)) {
      ps.setLong(1, r.version);
      ps.setString(2, r.tokenData);
      ps.setString(3, r.healthData);
      ps.setLong(4, r.healthVersion);
      ps.setString(5, r.tombstoneData);
      ps.setString(6, r.leaseOwner);
      ps.setLong(7, r.leaseFence);
      ps.setLong(8, r.leaseExpiresAtMs);
      setNullableLong(ps, 9, r.renewingFence);
      setNullableLong(ps, 10, r.renewingSinceMs);
      ps.setLong(11, clock.millis());
      ps.setString(12, id.toString());
      if (ps.executeUpdate() != 1) {
        throw new SQLException("row vanished while locked by its own transaction");
      }
    }
  }

  private static void setNullableLong(PreparedStatement ps, int index, @Nullable Long value)
      throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }

  private void insert(Connection c, ConnectionId id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(insertRow)) {
      ps.setString(1, id.toString());
      ps.setLong(2, clock.millis());
      ps.executeUpdate();
    } catch (SQLException e) {
      if (!isDuplicateKey(e)) {
        throw e;
      }
      // Another instance inserted it first: fine, the row is there.
    }
  }

  /** The database's time, epoch milliseconds. */
  private long databaseNow(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(dialect.nowQuery())) {
      if (!rs.next()) {
        throw new SQLException("the database returned no time");
      }
      if (dialect.nowMillis != null) {
        return rs.getLong(1);
      }
      try {
        OffsetDateTime t = rs.getObject(1, OffsetDateTime.class);
        if (t != null) {
          return t.toInstant().toEpochMilli();
        }
      } catch (SQLException e) {
        // the driver cannot convert: fall back to a Timestamp
      }
      Timestamp t = rs.getTimestamp(1);
      if (t == null) {
        throw new SQLException("the database returned no time");
      }
      return t.getTime();
    }
  }

  /** The work of one locked transaction on a connection's row. */
  private interface LockedWork<T> {
    /**
     * Decides on {@code row} (null: no row; only when the caller did not ask for one) at the
     * database's time {@code now} (0 unless asked for), changing it and marking it dirty to have it
     * written back.
     */
    T apply(@Nullable Row row, long now) throws SQLException;
  }

  /**
   * Runs {@code work} in a transaction holding the row lock of {@code id}. With {@code needRow}, a
   * missing row is inserted first (outside the transaction: a duplicate key aborts a PostgreSQL
   * transaction) and the transaction starts again.
   */
  @SuppressWarnings("unchecked")
  private <T> T locked(
      Connection c, ConnectionId id, boolean needRow, boolean needNow, LockedWork<T> work)
      throws SQLException {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Object result =
          inTransaction(
              c,
              () -> {
                Row row = lock(c, id);
                if (row == null && needRow) {
                  return NEED_ROW;
                }
                long now = needNow ? databaseNow(c) : 0;
                T r = work.apply(row, now);
                if (row != null && row.dirty) {
                  write(c, id, row);
                }
                return r;
              });
      if (result != NEED_ROW) {
        return (T) result;
      }
      insert(c, id);
    }
    throw new TokenStoreException(
        id,
        "connection " + id + ": could not create its row in table " + table + " (contention)",
        null);
  }

  // ---------------------------------------------------------------- decoding

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

  private @Nullable Tombstone tombstoneOf(ConnectionId id, Row r) {
    String data = r.tombstoneData;
    if (data == null) {
      return null;
    }
    try {
      return StateCodec.decodeTombstone(id, data.getBytes(StandardCharsets.UTF_8));
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
  }

  private @Nullable HealthRecord healthOf(ConnectionId id, Row r) {
    String data = r.healthData;
    if (data == null) {
      return null;
    }
    try {
      // The column is the truth about the version: it is what compare-and-set compares.
      return StateCodec.decodeHealth(id, data.getBytes(StandardCharsets.UTF_8))
          .withVersion(r.healthVersion);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
  }

  /** The stored token set's version: 0 when there is none (or a tombstone hides it). */
  private static long tokenVersion(Row r) {
    return r.tokenData == null || r.tombstoneData != null ? 0 : r.version;
  }

  private StoredConnection snapshot(ConnectionId id, @Nullable Row r) {
    if (r == null) {
      return StoredConnection.EMPTY;
    }
    Tombstone tombstone = tombstoneOf(id, r);
    // A tombstone always wins, also over token data an instance of an earlier release wrote.
    String data = tombstone == null ? r.tokenData : null;
    TokenSet tokens = data == null ? null : decode(id, r.version, data);
    HealthRecord health = healthOf(id, r);
    if (tokens == null && health == null && tombstone == null) {
      return StoredConnection.EMPTY;
    }
    return new StoredConnection(tokens, health, tombstone);
  }

  // ---------------------------------------------------------------- reading

  @Override
  public StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return run(
        id,
        "read the connection",
        List.of(),
        c -> {
          try (PreparedStatement ps = c.prepareStatement(selectRow)) {
            ps.setString(1, id.toString());
            try (ResultSet rs = ps.executeQuery()) {
              return snapshot(id, rs.next() ? readColumns(rs) : null);
            }
          }
        });
  }

  /** Reads the rows in batches of up to {@value #BATCH}, one statement each. */
  @Override
  public Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    List<ConnectionId> unique = new ArrayList<>(new LinkedHashSet<>(ids));
    Map<String, Row> rows = new HashMap<>();
    for (int from = 0; from < unique.size(); from += BATCH) {
      List<ConnectionId> batch = unique.subList(from, Math.min(unique.size(), from + BATCH));
      String sql =
          "SELECT "
              + COLUMNS
              + " FROM "
              + table
              + " WHERE connection_id IN ("
              + String.join(", ", java.util.Collections.nCopies(batch.size(), "?"))
              + ")";
      rows.putAll(
          run(
              batch.get(0),
              batch.size() == 1
                  ? "read the connection"
                  : "read it and " + (batch.size() - 1) + " more connections",
              List.of(),
              c -> {
                Map<String, Row> found = new HashMap<>();
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                  for (int i = 0; i < batch.size(); i++) {
                    ps.setString(i + 1, batch.get(i).toString());
                  }
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      found.put(rs.getString("connection_id"), readColumns(rs));
                    }
                  }
                }
                return found;
              }));
    }
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (ConnectionId id : ids) {
      out.put(id, snapshot(id, rows.get(id.toString())));
    }
    return out;
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

  // ---------------------------------------------------------------- token sets

  private static void requireCurrent(@Nullable Row row, ConnectionId id, Lease lease) {
    if (row == null || !row.holds(lease)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  private static void requireLeaseOf(ConnectionId id, Lease lease) {
    Objects.requireNonNull(lease, "lease");
    if (!lease.connection().equals(id)) {
      throw new StaleLeaseException(id, lease.fencingToken());
    }
  }

  /** Saves {@code tokens} as the row's next version; clears the renewal marker. */
  private TokenSet save(ConnectionId id, Row row, TokenSet tokens, long version) {
    TokenSet saved = tokens.withVersion(version);
    row.tokenData = codec.encodeToString(id, saved);
    row.version = version;
    row.clearMarker();
    row.dirty = true;
    return saved;
  }

  @Override
  public TokenSet compareAndSet(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    requireLeaseOf(id, lease);
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    return run(
        id,
        "save tokens",
        secretsOf(tokens),
        c ->
            locked(
                c,
                id,
                false,
                false,
                (row, now) -> {
                  requireCurrent(row, id, lease);
                  Tombstone tombstone = tombstoneOf(id, row);
                  if (tombstone != null) {
                    throw new TombstonedException(id, tombstone);
                  }
                  long actual = tokenVersion(row);
                  if (actual != expectedVersion) {
                    throw new VersionConflictException(id, expectedVersion, actual);
                  }
                  if (row.tokenData != null) {
                    // Never replace a record this instance cannot read (wrong key, corrupt row).
                    decode(id, row.version, row.tokenData);
                  }
                  return save(id, row, tokens, Math.max(row.version, actual) + 1);
                }));
  }

  @Override
  public TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    requireLeaseOf(id, lease);
    return run(
        id,
        "save tokens",
        secretsOf(tokens),
        c ->
            locked(
                c,
                id,
                false,
                false,
                (row, now) -> {
                  requireCurrent(row, id, lease);
                  long highest = row.version;
                  Tombstone tombstone = tombstoneOf(id, row);
                  if (tombstone != null) {
                    highest = Math.max(highest, tombstone.version());
                  }
                  row.tombstoneData = null;
                  row.healthData = null; // its counter stays: health versions never go back
                  return save(id, row, tokens, highest + 1);
                }));
  }

  @Override
  public StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    return run(
        id,
        "restore tokens",
        secretsOf(tokens),
        c ->
            locked(
                c,
                id,
                true,
                false,
                (row, now) -> {
                  Row r = Objects.requireNonNull(row);
                  if (r.tombstoneData == null && tokens.version() > tokenVersion(r)) {
                    r.tokenData = codec.encodeToString(id, tokens);
                    r.version = tokens.version();
                    r.dirty = true;
                  }
                  return snapshot(id, r);
                }));
  }

  @Override
  public void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    requireLeaseOf(id, lease);
    run(
        id,
        "write the tombstone",
        List.of(),
        c ->
            locked(
                c,
                id,
                false,
                false,
                (row, now) -> {
                  requireCurrent(row, id, lease);
                  long version = Math.max(row.version, tombstone.version());
                  Tombstone previous = tombstoneOf(id, row);
                  if (previous != null) {
                    version = Math.max(version, previous.version());
                  }
                  Tombstone stored = new Tombstone(tombstone.reason(), tombstone.at(), version);
                  row.tombstoneData =
                      new String(StateCodec.encodeTombstone(id, stored), StandardCharsets.UTF_8);
                  // Instances of an earlier release see a row without data: nothing stored.
                  row.tokenData = null;
                  row.version = version;
                  row.clearMarker();
                  row.dirty = true;
                  return null;
                }));
  }

  // ---------------------------------------------------------------- the lease

  private static void checkLeaseArguments(String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(ttl, "ttl");
    if (owner.isEmpty() || owner.length() > MAX_OWNER) {
      throw new IllegalArgumentException("lease owner must be 1 to " + MAX_OWNER + " characters");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("lease ttl must be positive, got " + ttl);
    }
    if (minFence < 0) {
      throw new IllegalArgumentException("minFence must be >= 0, got " + minFence);
    }
  }

  private static Lease grant(
      Row row, ConnectionId id, String owner, Duration ttl, long minFence, long now) {
    Long cutShort = row.marker();
    row.leaseFence = Math.max(row.leaseFence, minFence) + 1;
    row.leaseOwner = owner;
    row.leaseExpiresAtMs = now + ttl.toMillis();
    row.clearMarker();
    row.dirty = true;
    return new Lease(
        id,
        owner,
        row.leaseFence,
        Instant.ofEpochMilli(row.leaseExpiresAtMs),
        cutShort == null ? null : Instant.ofEpochMilli(cutShort));
  }

  @Override
  public @Nullable Lease tryAcquireLease(
      ConnectionId id, String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(id, "id");
    checkLeaseArguments(owner, ttl, minFence);
    return run(
        id,
        "take the renewal lease",
        List.of(),
        c ->
            locked(
                c,
                id,
                true,
                true,
                (row, now) -> {
                  Row r = Objects.requireNonNull(row);
                  if (r.leaseOwner != null
                      && !r.leaseOwner.equals(owner)
                      && now < r.leaseExpiresAtMs) {
                    return null; // another owner holds an unexpired lease
                  }
                  return grant(r, id, owner, ttl, minFence, now);
                }));
  }

  @Override
  public Lease seizeLease(ConnectionId id, String owner, Duration ttl, long minFence) {
    Objects.requireNonNull(id, "id");
    checkLeaseArguments(owner, ttl, minFence);
    return run(
        id,
        "seize the renewal lease",
        List.of(),
        c ->
            locked(
                c,
                id,
                true,
                true,
                (row, now) -> grant(Objects.requireNonNull(row), id, owner, ttl, minFence, now)));
  }

  @Override
  public @Nullable Lease extendLease(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    checkLeaseArguments(lease.owner(), ttl, 0);
    ConnectionId id = lease.connection();
    return run(
        id,
        "extend the renewal lease",
        List.of(),
        c ->
            locked(
                c,
                id,
                false,
                true,
                (row, now) -> {
                  if (row == null || !row.holds(lease)) {
                    return null;
                  }
                  row.leaseExpiresAtMs = now + ttl.toMillis();
                  row.dirty = true;
                  return lease.withExpiry(Instant.ofEpochMilli(row.leaseExpiresAtMs));
                }));
  }

  @Override
  public void markRenewing(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    run(
        id,
        "mark the renewal",
        List.of(),
        c ->
            locked(
                c,
                id,
                false,
                true,
                (row, now) -> {
                  requireCurrent(row, id, lease);
                  row.renewingFence = row.leaseFence;
                  row.renewingSinceMs = now;
                  row.dirty = true;
                  return null;
                }));
  }

  @Override
  public void releaseLease(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    ConnectionId id = lease.connection();
    run(
        id,
        "release the renewal lease",
        List.of(),
        c ->
            locked(
                c,
                id,
                false,
                false,
                (row, now) -> {
                  if (row != null && row.holds(lease)) {
                    row.leaseOwner = null;
                    row.leaseExpiresAtMs = 0;
                    row.clearMarker();
                    row.dirty = true;
                  }
                  return null;
                }));
  }

  // ---------------------------------------------------------------- health

  /**
   * {@inheritDoc}
   *
   * <p>The record's version is a counter kept in {@code health_version} that never goes back, not
   * even when the record is cleared: a writer that read a record before it was cleared and written
   * again cannot mistake the new one for the one it read.
   */
  @Override
  public boolean compareAndSetHealth(
      ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    boolean needRow = next != null && expectedVersion == 0;
    return run(
        id,
        "save the health record",
        List.of(),
        c ->
            locked(
                c,
                id,
                needRow,
                false,
                (row, now) -> {
                  if (row == null) {
                    return expectedVersion == 0; // clearing what is not there
                  }
                  long actual = row.healthData == null ? 0 : row.healthVersion;
                  if (actual != expectedVersion) {
                    return false;
                  }
                  if (next == null) {
                    row.healthData = null;
                  } else {
                    long version = Math.max(row.healthVersion, actual) + 1;
                    row.healthData =
                        new String(
                            StateCodec.encodeHealth(id, next.withVersion(version)),
                            StandardCharsets.UTF_8);
                    row.healthVersion = version;
                  }
                  row.dirty = true;
                  return true;
                }));
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
   * {@code secrets} and of anything that looks like a token. Runtime exceptions other than the
   * store's own (a bug, a driver's) are wrapped too, naming the connection.
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
      } catch (TokenStoreException e) {
        throw e;
      } catch (RuntimeException e) {
        // A driver's or pool's unchecked exception: wrapped like an SQLException, its text
        // scrubbed, its stack trace kept.
        String detail =
            e.getClass().getSimpleName()
                + ": "
                + Secrets.scrub(String.valueOf(e.getMessage()), secrets, 300);
        RuntimeException safe = new RuntimeException(detail);
        safe.setStackTrace(e.getStackTrace());
        String subject = id == null ? "" : "connection " + id + ": ";
        throw new TokenStoreException(
            id, subject + "could not " + action + " in table " + table + ": " + detail, safe);
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

    /**
     * Whether {@link #build()} brings the table to the newest schema version itself: creates it
     * when missing and applies the scripts a table made by an earlier release lacks. Default true.
     * Turn it off when Flyway or Liquibase runs the scripts (see the module README).
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
     */
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
     * Connects once to learn the database product, brings the table to the newest schema version
     * when asked, and checks that the table has every column the store uses.
     *
     * @throws TokenStoreException if the database cannot be reached, the schema cannot be created
     *     or upgraded, or the table lacks a column
     */
    public JdbcTokenStore build() {
      Dialect dialect;
      try (Connection c = dataSource.getConnection()) {
        DatabaseMetaData meta = c.getMetaData();
        dialect = Dialect.of(meta.getDatabaseProductName());
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
          if (createSchema) {
            if (dialect == Dialect.OTHER) {
              throw new TokenStoreException(
                  null,
                  "table "
                      + table
                      + ": cannot create the schema on "
                      + meta.getDatabaseProductName()
                      + "; create the table from the scripts in db/tokenbroker/postgresql/"
                      + " (adapted to your database) and set create-schema: false",
                  null);
            }
            JdbcSchema.migrate(c, dialect, table);
          }
          // Fails early, naming the table, if it is missing or lacks a column.
          try (Statement st = c.createStatement()) {
            st.executeQuery(
                    "SELECT "
                        + String.join(", ", JdbcSchema.V1_COLUMNS)
                        + " FROM "
                        + table
                        + " WHERE 1 = 0")
                .close();
          }
          if (!JdbcSchema.has(c, table, JdbcSchema.V2_COLUMNS)) {
            throw new TokenStoreException(
                null,
                "table "
                    + table
                    + " has schema version 1 but this release needs version 2: apply "
                    + (dialect.folder == null
                        ? JdbcSchema.V2
                        : JdbcSchema.resource(dialect, JdbcSchema.V2))
                    + " (Flyway or Liquibase: see the module README) or set create-schema: true",
                null);
          }
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
