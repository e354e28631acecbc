package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.StoredConnection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reads of a {@link JdbcTokenStore}, none of which locks a row: one connection's row, many rows
 * in batches of up to {@value #BATCH} (one statement each), and the registry: the connections with
 * a token set, and those whose {@code changed_at_ms} is at or after a time. A row whose connection
 * id does not parse is skipped with a warning (in the store's log).
 */
final class RowReads {
  private static final Logger log = LoggerFactory.getLogger(JdbcTokenStore.class);

  /** Rows read by one statement of {@link #readAll}. */
  static final int BATCH = 500;

  private final String table;
  private final TokenTable sql;
  private final RowTransactions tx;
  private final RowCodec rows;

  RowReads(String table, TokenTable sql, RowTransactions tx, RowCodec rows) {
    this.table = table;
    this.sql = sql;
    this.tx = tx;
    this.rows = rows;
  }

  /** See {@link JdbcTokenStore#read}. */
  StoredConnection read(ConnectionId id) {
    Objects.requireNonNull(id, "id");
    return tx.run(id, "read the connection", List.of(), c -> rows.snapshot(id, sql.select(c, id)));
  }

  /** See {@link JdbcTokenStore#readAll}. */
  Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    List<ConnectionId> unique = new ArrayList<>(new LinkedHashSet<>(ids));
    Map<String, Row> found = new HashMap<>();
    for (int from = 0; from < unique.size(); from += BATCH) {
      List<ConnectionId> batch = unique.subList(from, Math.min(unique.size(), from + BATCH));
      found.putAll(
          tx.run(
              batch.get(0),
              batch.size() == 1
                  ? "read the connection"
                  : "read it and " + (batch.size() - 1) + " more connections",
              List.of(),
              c -> sql.selectAll(c, batch)));
    }
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (ConnectionId id : ids) {
      out.put(id, rows.snapshot(id, found.get(id.toString())));
    }
    return out;
  }

  /** See {@link JdbcTokenStore#connections}. */
  List<ConnectionId> connections() {
    List<String> raw = tx.run(null, "list connections", List.of(), sql::connectionIds);
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

  /** See {@link JdbcTokenStore#changedSince}. */
  List<ConnectionId> changedSince(Instant since) {
    Objects.requireNonNull(since, "since");
    List<String> raw =
        tx.run(
            null,
            "list changed connections",
            List.of(),
            c -> sql.changedSince(c, since.toEpochMilli()));
    List<ConnectionId> ids = new ArrayList<>(raw.size());
    for (String s : raw) {
      try {
        ids.add(ConnectionId.parse(s));
      } catch (IllegalArgumentException e) {
        log.warn("table {}: row with malformed connection id skipped: {}", table, e.getMessage());
      }
    }
    return ids;
  }
}
