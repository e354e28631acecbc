package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.store.HealthRecord;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The health record's compare-and-set of a {@link RedisTokenStore}: one Lua script ({@link
 * Scripts#HEALTH}) on the connection's state hash, which compares the health version (the higher of
 * {@code hv}, the record's, and {@code htop}, kept by a clear) with the expected one and makes it
 * exactly one more. The record is encoded here as that version; an empty one clears it.
 */
final class HealthWrites {
  private final RedisCalls calls;
  private final RedisKeys layout;

  HealthWrites(RedisCalls calls, RedisKeys layout) {
    this.calls = calls;
    this.layout = layout;
  }

  /** See {@link RedisTokenStore#compareAndSetHealth}. */
  boolean compareAndSet(ConnectionId id, long expectedVersion, @Nullable HealthRecord next) {
    Objects.requireNonNull(id, "id");
    String record =
        next == null
            ? ""
            : new String(
                StateCodec.encodeHealth(id, next.withVersion(expectedVersion + 1)),
                StandardCharsets.UTF_8);
    Long moved =
        calls.call(
            id,
            "save the health record",
            () ->
                calls.eval(
                    Scripts.HEALTH,
                    ScriptOutputType.INTEGER,
                    new String[] {layout.stateKey(id)},
                    Long.toString(expectedVersion),
                    record));
    return moved != null && moved == 1;
  }
}
