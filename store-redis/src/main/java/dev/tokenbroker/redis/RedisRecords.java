package dev.tokenbroker.redis;

import static dev.tokenbroker.redis.RedisCalls.text;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStoreException;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RedisTokenStore}'s records: one consistent read of a connection's token set, health
 * record and tombstone ({@link Scripts#READ}), and their decoding. A record this instance cannot
 * decode is reported with a {@link TokenStoreException} naming the connection and the key.
 */
final class RedisRecords {
  private final RedisCalls calls;
  private final RedisKeys keys;
  private final TokenCodec codec;

  RedisRecords(RedisCalls calls, RedisKeys keys, TokenCodec codec) {
    this.calls = calls;
    this.keys = keys;
    this.codec = codec;
  }

  boolean encrypts() {
    return codec.encrypts();
  }

  /** {@code tokens} as the token set hash's {@code d} field holds it. */
  String encode(ConnectionId id, TokenSet tokens) {
    return codec.encodeToString(id, tokens);
  }

  /** See {@link RedisTokenStore#read}. */
  StoredConnection read(ConnectionId id) {
    return calls.call(id, "read the connection", () -> decode(id, readRaw(id)));
  }

  /** The answer of {@link Scripts#READ}; inside {@link RedisCalls#call}. */
  List<Object> readRaw(ConnectionId id) {
    return calls.eval(Scripts.READ, ScriptOutputType.MULTI, keys.readKeys(id));
  }

  /** What {@link Scripts#READ} returned: {v, d, health, tomb, top, hv, htop}. */
  StoredConnection decode(ConnectionId id, List<Object> raw) {
    String health = text(raw, 2);
    String tomb = text(raw, 3);
    // The health version: the higher of the record's (hv) and the kept one (htop), which a clear
    // leaves behind; see Scripts.HEALTH.
    long healthVersion =
        Math.max(healthVersion(id, text(raw, 5), "hv"), healthVersion(id, text(raw, 6), "htop"));
    HealthRecord h =
        health == null
            ? null
            : StateCodec.decodeHealth(id, utf8(health)).withVersion(healthVersion);
    if (tomb != null) {
      // A tombstone always wins: a set beside it can only come from an instance of the previous
      // release, which knows no tombstones (see the README's rolling upgrade).
      return new StoredConnection(
          null, h, StateCodec.decodeTombstone(id, utf8(tomb)), healthVersion);
    }
    return new StoredConnection(
        decodeTokens(id, text(raw, 0), text(raw, 1)), h, null, healthVersion);
  }

  private TokenStoreException corruptState(ConnectionId id, String problem) {
    return new TokenStoreException(
        id,
        "connection " + id + ": stored record is corrupt: key " + keys.stateKey(id) + " " + problem,
        null);
  }

  private long healthVersion(ConnectionId id, @Nullable String text, String field) {
    if (text == null) {
      return 0;
    }
    try {
      long v = Long.parseLong(text);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw corruptState(id, "has a malformed health version in field " + field);
  }

  @Nullable TokenSet decodeTokens(ConnectionId id, @Nullable String v, @Nullable String d) {
    if (v == null && d == null) {
      return null;
    }
    if (v == null || d == null) {
      throw corrupt(id, "has a version or data field but not both");
    }
    long version;
    try {
      version = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw corrupt(id, "has a malformed version");
    }
    TokenSet t;
    try {
      t = codec.decode(id, d);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(
          id, e.getMessage() + " (key " + keys.tokensKey(id) + ")", e.getCause());
    }
    if (t.version() != version) {
      throw corrupt(id, "says version " + t.version() + " but the hash has version " + version);
    }
    return t;
  }

  TokenStoreException corrupt(ConnectionId id, String problem) {
    return new TokenStoreException(
        id,
        "connection "
            + id
            + ": stored record is corrupt: key "
            + keys.tokensKey(id)
            + " "
            + problem,
        null);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
