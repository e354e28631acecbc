package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import org.jspecify.annotations.Nullable;

/**
 * The key layout of a {@link RedisTokenStore} (see its class description, "Keys"): {@code
 * <prefix>{<connection id>}:<kind>}. The braces are a Redis Cluster hash tag: the keys of one
 * connection live in one slot, so each Lua script touches one slot only.
 */
final class RedisKeys {
  private static final String TOKENS = "}:tokens";

  private final String prefix;

  RedisKeys(String prefix) {
    this.prefix = prefix;
  }

  String prefix() {
    return prefix;
  }

  private String tag(ConnectionId id) {
    return prefix + "{" + id + "}";
  }

  String tokensKey(ConnectionId id) {
    return tag(id) + ":tokens";
  }

  String stateKey(ConnectionId id) {
    return tag(id) + ":state";
  }

  String holderKey(ConnectionId id) {
    return tag(id) + ":holder";
  }

  String fenceKey(ConnectionId id) {
    return tag(id) + ":fence";
  }

  /** The lease as the previous release keeps it. */
  String leaseKey(ConnectionId id) {
    return tag(id) + ":lease";
  }

  /**
   * The sorted set of registry changes: one key, in a slot of its own in a Cluster (no hash tag of
   * a connection), so no connection's script can write it in the same step.
   */
  String changesKey() {
    return prefix + "changes";
  }

  /**
   * The key of a one-time record: the prefix, {@code once:} and the SHA-256 digest of the record's
   * key (never the key, which may be derived from a secret). One key, so one slot.
   */
  String onceKey(String digest) {
    return prefix + "once:" + digest;
  }

  /** The keys of the {@link Scripts#READ} and {@link Scripts#RESTORE} scripts. */
  String[] readKeys(ConnectionId id) {
    return new String[] {tokensKey(id), stateKey(id)};
  }

  /** The keys of the scripts that write under a lease. */
  String[] writeKeys(ConnectionId id) {
    return new String[] {tokensKey(id), stateKey(id), holderKey(id), fenceKey(id)};
  }

  /** The keys of the lease scripts that keep the previous release's lease too. */
  String[] leaseKeys(ConnectionId id) {
    return new String[] {holderKey(id), fenceKey(id), leaseKey(id)};
  }

  /** The {@code SCAN} pattern of every connection's token set key. */
  String tokensPattern() {
    return prefix + "{*" + TOKENS;
  }

  /**
   * The connection id written in a key {@link #tokensPattern()} matched, or null for a key too
   * short to hold one.
   *
   * @throws IllegalArgumentException if the text there is not a connection id
   */
  @Nullable ConnectionId connectionOfTokensKey(String key) {
    if (key.length() <= prefix.length() + 1 + TOKENS.length()) {
      return null;
    }
    String text = key.substring(prefix.length() + 1, key.length() - TOKENS.length());
    return ConnectionId.parse(text);
  }
}
