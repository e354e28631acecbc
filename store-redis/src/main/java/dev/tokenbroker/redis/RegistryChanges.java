package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.store.TokenStoreException;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry of a {@link RedisTokenStore}: the sorted set {@code <prefix>changes}, each
 * connection scored by Redis's time ({@code TIME}) of its latest registry change, trimmed to {@link
 * RedisTokenStore#CHANGES_KEPT} ({@link Scripts#CHANGED}). A change is recorded right after the
 * write that made it, and a failure to record it is logged, not thrown; the listing skips members
 * that are not connection ids. Logs under the store's logger.
 */
final class RegistryChanges {
  private static final Logger log = LoggerFactory.getLogger(RedisTokenStore.class);

  private final RedisCalls calls;
  private final RedisKeys layout;

  RegistryChanges(RedisCalls calls, RedisKeys layout) {
    this.calls = calls;
    this.layout = layout;
  }

  /**
   * Records a registry change of {@code id} in the sorted set, right after the write that made it.
   * In a Cluster the set is in a slot of its own, so the connection's script cannot write it in the
   * same atomic step: a crash or a failure between the two leaves the change unrecorded. That is
   * logged and not thrown (the write itself succeeded, and the caller must not take it for a failed
   * save); it only delays discovery: a broker asked for a connection it does not know reads it from
   * the store, so it learns of it at its first use.
   */
  void changed(ConnectionId id) {
    try {
      calls.call(
          id,
          "record a registry change",
          () ->
              calls.eval(
                  Scripts.CHANGED,
                  ScriptOutputType.INTEGER,
                  new String[] {layout.changesKey()},
                  id.toString(),
                  Long.toString(RedisTokenStore.CHANGES_KEPT.toMillis())));
    } catch (TokenStoreException e) {
      log.warn(
          "connection {}: saved, but the registry change was not recorded ({}); other instances"
              + " learn of it when they use it",
          id,
          e.getMessage());
    }
  }

  /** See {@link RedisTokenStore#changedSince}. */
  List<ConnectionId> changedSince(Instant since) {
    Objects.requireNonNull(since, "since");
    List<String> members =
        calls.call(
            null,
            "list registry changes",
            () ->
                calls
                    .sync()
                    .zrangebyscore(
                        layout.changesKey(),
                        Range.create(since.toEpochMilli(), Double.POSITIVE_INFINITY)));
    List<ConnectionId> ids = new ArrayList<>(members.size());
    for (String m : members) {
      try {
        ids.add(ConnectionId.parse(m));
      } catch (IllegalArgumentException e) {
        log.warn("registry change of a malformed connection id skipped: {}", e.getMessage());
      }
    }
    return ids;
  }
}
