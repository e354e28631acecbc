package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.TokenCodec;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * An instance of the previous release (before the fenced store SPI) on the same Redis, as during a
 * rolling upgrade: its reads and its three Lua scripts, copied verbatim from that release's
 * RedisTokenStore. It knows only {@code :tokens} ({@code v}, {@code d}), {@code :lease} and {@code
 * :fence}.
 */
final class PreviousRelease {
  // Returns -1 after saving, else the version found (0: nothing stored).
  private static final String CAS =
      "local v = redis.call('HGET', KEYS[1], 'v')\n"
          + "local current = 0\n"
          + "if v then current = tonumber(v) end\n"
          + "if current ~= tonumber(ARGV[1]) then return current end\n"
          + "redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])\n"
          + "return -1\n";

  // Returns the granted fencing value, or 0 when another owner holds the lease.
  private static final String ACQUIRE =
      "local held = redis.call('GET', KEYS[1])\n"
          + "if held then\n"
          + "  local sep = string.find(held, ' ', 1, true)\n"
          + "  if string.sub(held, sep + 1) ~= ARGV[1] then return 0 end\n"
          + "end\n"
          + "local fence = redis.call('INCR', KEYS[2])\n"
          + "redis.call('SET', KEYS[1], tostring(fence) .. ' ' .. ARGV[1], 'PX', ARGV[2])\n"
          + "return fence\n";

  // Deletes the lease only if it is still the one described by ARGV[1].
  private static final String RELEASE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
          + "  return redis.call('DEL', KEYS[1])\n"
          + "end\n"
          + "return 0\n";

  private final RedisCommands<String, String> redis;
  private final String prefix;
  private final TokenCodec codec;

  PreviousRelease(RedisCommands<String, String> redis, String prefix, TokenCodec codec) {
    this.redis = redis;
    this.prefix = prefix;
    this.codec = codec;
  }

  private String key(ConnectionId id, String suffix) {
    return prefix + "{" + id + "}:" + suffix;
  }

  /** Its load: the set, or null (it throws on a hash with one field but not the other). */
  @Nullable TokenSet load(ConnectionId id) {
    List<KeyValue<String, String>> fields = redis.hmget(key(id, "tokens"), "v", "d");
    String v = fields.get(0).getValueOrElse(null);
    String d = fields.get(1).getValueOrElse(null);
    if (v == null && d == null) {
      return null;
    }
    if (v == null || d == null) {
      throw new IllegalStateException("corrupt: has a version or data field but not both");
    }
    TokenSet t = codec.decode(id, d);
    if (t.version() != Long.parseLong(v)) {
      throw new IllegalStateException("corrupt: versions disagree");
    }
    return t;
  }

  /** Its compare-and-set: the saved set, or null on a version conflict. */
  @Nullable TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens) {
    TokenSet saved = tokens.withVersion(expectedVersion + 1);
    Long result =
        redis.eval(
            CAS,
            ScriptOutputType.INTEGER,
            new String[] {key(id, "tokens")},
            Long.toString(expectedVersion),
            Long.toString(saved.version()),
            codec.encodeToString(id, saved));
    return result != null && result == -1 ? saved : null;
  }

  /** Its lease: the fence, or 0 when another owner holds it. */
  long tryAcquireLease(ConnectionId id, String owner, long ttlMillis) {
    Long fence =
        redis.eval(
            ACQUIRE,
            ScriptOutputType.INTEGER,
            new String[] {key(id, "lease"), key(id, "fence")},
            owner,
            Long.toString(ttlMillis));
    return fence == null ? 0 : fence;
  }

  void releaseLease(ConnectionId id, long fence, String owner) {
    redis.eval(
        RELEASE, ScriptOutputType.INTEGER, new String[] {key(id, "lease")}, fence + " " + owner);
  }

  /** Its listing: every {@code :tokens} key. */
  List<ConnectionId> connections() {
    TreeSet<ConnectionId> ids = new TreeSet<>();
    ScanIterator<String> keys =
        ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + "{*}:tokens").limit(1000));
    while (keys.hasNext()) {
      String key = keys.next();
      ids.add(
          ConnectionId.parse(
              key.substring(prefix.length() + 1, key.length() - "}:tokens".length())));
    }
    return List.copyOf(ids);
  }
}
