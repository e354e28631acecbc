package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.StoredConnection;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reads of a {@link RedisTokenStore} that cover many connections, pipelined: {@value #BATCH}
 * commands in flight at once, one round trip per batch. A command the server refused (an empty
 * script cache, a Cluster resharding) is sent again on its own.
 */
final class BulkReads {
  private static final Logger log = LoggerFactory.getLogger(RedisTokenStore.class);

  /** Commands of one batch in flight at once. */
  static final int BATCH = 512;

  private final RedisCalls calls;
  private final RedisKeys keys;
  private final RedisRecords records;

  BulkReads(RedisCalls calls, RedisKeys keys, RedisRecords records) {
    this.calls = calls;
    this.keys = keys;
    this.records = records;
  }

  /** See {@link RedisTokenStore#readAll}: each read consistent. */
  Map<ConnectionId, StoredConnection> readAll(Collection<ConnectionId> ids) {
    List<ConnectionId> all = new ArrayList<>(new LinkedHashSet<>(ids));
    Map<ConnectionId, StoredConnection> out = new LinkedHashMap<>();
    for (int from = 0; from < all.size(); from += BATCH) {
      List<ConnectionId> batch = all.subList(from, Math.min(all.size(), from + BATCH));
      List<RedisFuture<List<Object>>> pending = new ArrayList<>(batch.size());
      for (ConnectionId id : batch) {
        Objects.requireNonNull(id, "id");
        pending.add(
            calls.call(
                id,
                "read the connection",
                () ->
                    calls
                        .async()
                        .<List<Object>>evalsha(
                            Scripts.READ.sha1, ScriptOutputType.MULTI, keys.readKeys(id))));
      }
      long deadline = calls.batchDeadline();
      for (int i = 0; i < batch.size(); i++) {
        ConnectionId id = batch.get(i);
        List<Object> raw = calls.await(id, "read the connection", pending.get(i), deadline);
        // null: the script cache was empty or the cluster asked to retry; read it alone.
        out.put(
            id,
            raw == null
                ? records.read(id)
                : calls.call(id, "read the connection", () -> records.decode(id, raw)));
      }
    }
    return out;
  }

  /** See {@link RedisTokenStore#connections}. */
  List<ConnectionId> connections() {
    return calls.call(
        null,
        "list connections",
        () -> {
          TreeSet<ConnectionId> ids = new TreeSet<>(); // SCAN may return a key twice
          ScanArgs args = ScanArgs.Builder.matches(keys.tokensPattern()).limit(1000);
          ScanIterator<String> found = ScanIterator.scan(calls.sync(), args);
          while (found.hasNext()) {
            String key = found.next();
            try {
              ConnectionId id = keys.connectionOfTokensKey(key);
              if (id != null) {
                ids.add(id);
              }
            } catch (IllegalArgumentException e) {
              log.warn("Redis key with a malformed connection id skipped: {}", e.getMessage());
            }
          }
          return withoutTombstones(new ArrayList<>(ids));
        });
  }

  /**
   * Drops connections with a tombstone. The store deletes the token set when it writes one, so a
   * set beside a tombstone is rare: an instance of the previous release wrote it.
   */
  private List<ConnectionId> withoutTombstones(List<ConnectionId> ids) {
    List<ConnectionId> out = new ArrayList<>(ids.size());
    for (int from = 0; from < ids.size(); from += BATCH) {
      List<ConnectionId> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
      List<RedisFuture<Boolean>> pending = new ArrayList<>(batch.size());
      for (ConnectionId id : batch) {
        pending.add(calls.async().hexists(keys.stateKey(id), "tomb"));
      }
      long deadline = calls.batchDeadline();
      for (int i = 0; i < batch.size(); i++) {
        ConnectionId id = batch.get(i);
        Boolean tombstoned = calls.await(id, "list connections", pending.get(i), deadline);
        if (tombstoned == null) {
          tombstoned = calls.sync().hexists(keys.stateKey(id), "tomb");
        }
        if (!Boolean.TRUE.equals(tombstoned)) {
          out.add(id);
        }
      }
    }
    return out;
  }
}
