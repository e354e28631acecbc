package dev.tokenbroker.redis;

import static dev.tokenbroker.redis.RedisCalls.integer;
import static dev.tokenbroker.redis.RedisCalls.number;
import static dev.tokenbroker.redis.RedisCalls.outcome;
import static dev.tokenbroker.redis.RedisCalls.text;
import static dev.tokenbroker.redis.RedisCalls.unexpected;
import static dev.tokenbroker.redis.RedisLeases.fence;
import static dev.tokenbroker.redis.RedisRecords.utf8;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import dev.tokenbroker.store.TombstonedException;
import dev.tokenbroker.store.VersionConflictException;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * The writes of a {@link RedisTokenStore}'s token set and tombstone, each one Lua script. A script
 * writing under a lease checks the lease and the version on the server; the version a record
 * carries is guessed here, and when the script finds it is not the one the record must carry, it
 * answers with that one and the write is tried again, a few times. Versions never go backwards: a
 * version is above the highest the connection ever had. A connection's first set, an authorization,
 * a restore that wrote its version and a tombstone are registry changes, recorded right after the
 * script that made them (see {@link RegistryChanges}).
 */
final class TokenWrites {
  /** Attempts at a versioned write whose version moved between the guess and the script. */
  private static final int VERSION_ATTEMPTS = 5;

  private final RedisCalls calls;
  private final RedisKeys keys;
  private final RedisRecords records;
  private final RegistryChanges registry;

  TokenWrites(RedisCalls calls, RedisKeys keys, RedisRecords records, RegistryChanges registry) {
    this.calls = calls;
    this.keys = keys;
    this.records = records;
    this.registry = registry;
  }

  /** See {@link RedisTokenStore#compareAndSet}. */
  TokenSet compareAndSet(ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    TokenSet saved = compareAndSetScript(id, expectedVersion, tokens, lease);
    if (expectedVersion == 0) {
      registry.changed(id); // the connection's first set
    }
    return saved;
  }

  /** See {@link RedisTokenStore#authorize}. */
  TokenSet authorize(ConnectionId id, TokenSet tokens, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(lease, "lease");
    TokenSet saved = authorizeScript(id, tokens, lease);
    registry.changed(id);
    return saved;
  }

  /** See {@link RedisTokenStore#restore}. */
  StoredConnection restore(ConnectionId id, TokenSet tokens) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tokens, "tokens");
    StoredConnection after = restoreScript(id, tokens);
    if (after.tokens() != null && after.tokens().version() == tokens.version()) {
      // written back (or the same version was there: listing it again is harmless)
      registry.changed(id);
    }
    return after;
  }

  /** See {@link RedisTokenStore#tombstone}. */
  void tombstone(ConnectionId id, Tombstone tombstone, Lease lease) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tombstone, "tombstone");
    Objects.requireNonNull(lease, "lease");
    tombstoneScript(id, tombstone, lease);
    registry.changed(id);
  }

  /** The {@link Scripts#COMPARE_AND_SET} script; arguments checked. */
  private TokenSet compareAndSetScript(
      ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
    return calls.call(
        id,
        "save tokens",
        () -> {
          long next = expectedVersion + 1;
          if (expectedVersion > 0) {
            // A record this instance cannot read is never replaced by it. Only this version is
            // replaced (the script checks), and the record checked here is the one it holds.
            List<Object> raw = records.readRaw(id);
            String v = text(raw, 0);
            if (text(raw, 3) == null && v != null && v.equals(Long.toString(expectedVersion))) {
              records.decodeTokens(id, v, text(raw, 1));
            }
            next = Math.max(expectedVersion, number(text(raw, 4))) + 1;
          }
          for (int attempt = 0; attempt < VERSION_ATTEMPTS; attempt++) {
            TokenSet saved = tokens.withVersion(next);
            List<Object> r =
                calls.eval(
                    Scripts.COMPARE_AND_SET,
                    ScriptOutputType.MULTI,
                    keys.writeKeys(id),
                    fence(lease),
                    lease.owner(),
                    Long.toString(expectedVersion),
                    Long.toString(next),
                    records.encode(id, saved));
            switch (outcome(r)) {
              case "saved":
                return saved;
              case "retry":
                next = integer(r, 1);
                continue;
              case "stale":
                throw new StaleLeaseException(id, lease.fencingToken());
              case "tombstoned":
                throw new TombstonedException(
                    id, StateCodec.decodeTombstone(id, utf8(Objects.requireNonNull(text(r, 1)))));
              case "conflict":
                long actual = integer(r, 1);
                if (actual < 0) {
                  throw records.corrupt(id, "has a malformed version");
                }
                throw new VersionConflictException(id, expectedVersion, actual);
              default:
                throw unexpected(id, r);
            }
          }
          throw versionKeptMoving(id);
        });
  }

  /** The {@link Scripts#AUTHORIZE} script; arguments checked. */
  private TokenSet authorizeScript(ConnectionId id, TokenSet tokens, Lease lease) {
    return calls.call(
        id,
        "save a new authorization",
        () -> {
          // 1 is right for a connection never seen; the script says otherwise
          long version =
              atFreeVersion(
                  id,
                  lease,
                  1,
                  next ->
                      calls.eval(
                          Scripts.AUTHORIZE,
                          ScriptOutputType.MULTI,
                          keys.writeKeys(id),
                          fence(lease),
                          lease.owner(),
                          Long.toString(next),
                          records.encode(id, tokens.withVersion(next))));
          return tokens.withVersion(version);
        });
  }

  /** The {@link Scripts#RESTORE} script; arguments checked. */
  private StoredConnection restoreScript(ConnectionId id, TokenSet tokens) {
    String record = records.encode(id, tokens);
    return calls.call(
        id,
        "restore tokens",
        () ->
            records.decode(
                id,
                calls.eval(
                    Scripts.RESTORE,
                    ScriptOutputType.MULTI,
                    keys.readKeys(id),
                    Long.toString(tokens.version()),
                    record)));
  }

  /** The {@link Scripts#TOMBSTONE} script; arguments checked. */
  private void tombstoneScript(ConnectionId id, Tombstone tombstone, Lease lease) {
    calls.call(
        id,
        "write the tombstone",
        () ->
            atFreeVersion(
                id,
                lease,
                tombstone.version(),
                version ->
                    calls.eval(
                        Scripts.TOMBSTONE,
                        ScriptOutputType.MULTI,
                        keys.writeKeys(id),
                        fence(lease),
                        lease.owner(),
                        Long.toString(version),
                        new String(
                            StateCodec.encodeTombstone(
                                id, new Tombstone(tombstone.reason(), tombstone.at(), version)),
                            StandardCharsets.UTF_8),
                        Long.toString(tombstone.version()))));
  }

  /**
   * Runs a fenced write script at version {@code first}, and again at the version it names while it
   * answers "retry" (the stored version moved past it); returns the version it saved at.
   *
   * @throws StaleLeaseException if {@code lease} is no longer current
   */
  private long atFreeVersion(
      ConnectionId id, Lease lease, long first, LongFunction<List<Object>> attempt) {
    long version = first;
    for (int i = 0; i < VERSION_ATTEMPTS; i++) {
      List<Object> r = attempt.apply(version);
      switch (outcome(r)) {
        case "saved":
          return version;
        case "retry":
          version = integer(r, 1);
          continue;
        case "stale":
          throw new StaleLeaseException(id, lease.fencingToken());
        default:
          throw unexpected(id, r);
      }
    }
    throw versionKeptMoving(id);
  }

  private static TokenStoreException versionKeptMoving(ConnectionId id) {
    return new TokenStoreException(
        id,
        "connection "
            + id
            + ": could not save in Redis: the version counter kept moving (concurrent restores?)",
        null);
  }
}
