package dev.tokenbroker.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The Lua scripts of {@link RedisTokenStore}: one per store operation, so that each is atomic on
 * the server. Every script touches the keys of one connection only, which share a hash tag (one
 * Redis Cluster slot). Keys and fields are described in {@link RedisTokenStore}.
 *
 * <p>Numbers cross the Lua boundary as decimal strings: Lua 5.1 numbers are doubles, exact up to
 * 2<sup>53</sup>, and {@code fmt} writes them without an exponent. Versions and fences stay far
 * below that; the store rejects a {@code minFence} above it.
 */
final class Scripts {
  private Scripts() {}

  /** Shared helpers, prepended to every script. */
  private static final String PRELUDE =
      """
      local function fmt(n) return string.format('%.0f', n) end
      local function num(x) return tonumber(x) or 0 end
      -- The lease (fence, owner) is current while the holder record still names it and no grant
      -- has been made since (the fence counter, also advanced by instances of the previous
      -- release, still equals its fence). Expiry plays no part: an expired lease nobody took over
      -- is still current.
      local function current(holder, counter, fence, owner)
        local h = redis.call('HMGET', holder, 'owner', 'fence')
        return h[1] == owner and h[2] == fence and redis.call('GET', counter) == fence
      end
      local function now()
        local t = redis.call('TIME')
        return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      """;

  // TIME is not deterministic: Redis 3.2 to 4 replicate a script that calls it only by its
  // effects, after this call; Redis 5 and later always do, and keep the call as a no-op.
  private static final String EFFECTS =
      "if redis.replicate_commands then redis.replicate_commands() end\n";

  /**
   * KEYS tokens, state. Returns {v, d, health, tomb, top, hv, htop}, each possibly nil: one
   * consistent read.
   */
  static final Script READ =
      new Script(
          """
          local t = redis.call('HMGET', KEYS[1], 'v', 'd')
          local s = redis.call('HMGET', KEYS[2], 'health', 'tomb', 'top', 'hv', 'htop')
          return {t[1], t[2], s[1], s[2], s[3], s[4], s[5]}
          """);

  /**
   * KEYS tokens, state, holder, counter; ARGV fence, owner, expected version, new version, record.
   * Returns {'saved'}, {'stale'}, {'tombstoned', tomb}, {'conflict', actual} (-1: not a number) or
   * {'retry', the version the record must carry}.
   */
  static final Script COMPARE_AND_SET =
      new Script(
          """
          if not current(KEYS[3], KEYS[4], ARGV[1], ARGV[2]) then return {'stale'} end
          local s = redis.call('HMGET', KEYS[2], 'tomb', 'top')
          if s[1] then return {'tombstoned', s[1]} end
          local raw = redis.call('HGET', KEYS[1], 'v')
          local v = 0
          if raw then v = tonumber(raw) or -1 end
          if v ~= tonumber(ARGV[3]) then return {'conflict', v} end
          local want = math.max(v, num(s[2])) + 1
          if want ~= tonumber(ARGV[4]) then return {'retry', want} end
          redis.call('HSET', KEYS[1], 'v', ARGV[4], 'd', ARGV[5])
          redis.call('HSET', KEYS[2], 'top', ARGV[4])
          redis.call('HDEL', KEYS[3], 'mark')
          return {'saved'}
          """);

  /**
   * KEYS tokens, state, holder, counter; ARGV fence, owner, new version, record. Returns {'saved'},
   * {'stale'} or {'retry', version}. Clears the tombstone and the health record.
   */
  static final Script AUTHORIZE =
      new Script(
          """
          if not current(KEYS[3], KEYS[4], ARGV[1], ARGV[2]) then return {'stale'} end
          local want = math.max(num(redis.call('HGET', KEYS[1], 'v')),
                                num(redis.call('HGET', KEYS[2], 'top'))) + 1
          if want ~= tonumber(ARGV[3]) then return {'retry', want} end
          redis.call('HSET', KEYS[1], 'v', ARGV[3], 'd', ARGV[4])
          redis.call('HSET', KEYS[2], 'top', ARGV[3])
          -- Clearing a stored health record moves the health version one up (see HEALTH).
          local h = redis.call('HMGET', KEYS[2], 'health', 'hv', 'htop')
          if h[1] then
            redis.call('HSET', KEYS[2], 'htop', fmt(math.max(num(h[2]), num(h[3])) + 1))
          end
          redis.call('HDEL', KEYS[2], 'tomb', 'health', 'hv')
          redis.call('HDEL', KEYS[3], 'mark')
          return {'saved'}
          """);

  /**
   * KEYS tokens, state, holder, counter; ARGV fence, owner, version the record carries, tombstone
   * record, version the caller asked for. Returns {'saved'}, {'stale'} or {'retry', version}.
   * Deletes the token set (so instances of the previous release see nothing stored) and keeps the
   * version in the counter.
   */
  static final Script TOMBSTONE =
      new Script(
          """
          if not current(KEYS[3], KEYS[4], ARGV[1], ARGV[2]) then return {'stale'} end
          local want = math.max(num(redis.call('HGET', KEYS[1], 'v')),
                                num(redis.call('HGET', KEYS[2], 'top')), tonumber(ARGV[5]))
          if want ~= tonumber(ARGV[3]) then return {'retry', want} end
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[2], 'tomb', ARGV[4], 'top', ARGV[3])
          redis.call('HDEL', KEYS[3], 'mark')
          return {'saved'}
          """);

  /**
   * KEYS tokens, state; ARGV version, record. Unfenced: writes the set if there is no tombstone and
   * the stored version is lower. Returns what {@link #READ} returns, afterwards.
   */
  static final Script RESTORE =
      new Script(
          """
          local s = redis.call('HMGET', KEYS[2], 'tomb', 'top')
          local n = tonumber(ARGV[1])
          if not s[1] and n > num(redis.call('HGET', KEYS[1], 'v')) then
            redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
            if n > num(s[2]) then redis.call('HSET', KEYS[2], 'top', ARGV[1]) end
          end
          local t = redis.call('HMGET', KEYS[1], 'v', 'd')
          local r = redis.call('HMGET', KEYS[2], 'health', 'tomb', 'top', 'hv', 'htop')
          return {t[1], t[2], r[1], r[2], r[3], r[4], r[5]}
          """);

  /**
   * KEYS holder, counter, legacy lease; ARGV owner, ttl millis, minFence, '1' to seize. Returns {0}
   * when another owner holds the lease, else {fence, marker millis or -1}.
   */
  static final Script ACQUIRE =
      new Script(
          EFFECTS
              + """
              local now = now()
              local h = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'exp', 'mark')
              local counter = num(redis.call('GET', KEYS[2]))
              -- A holder record is live unless a grant was made since (by the previous release).
              local live = h[1] and h[2] and tonumber(h[2]) == counter
              if ARGV[4] ~= '1' then
                if live and h[1] ~= ARGV[1] and num(h[3]) > now then return {0} end
                -- The legacy lease key mirrors ours; anything else in it was written by an
                -- instance of the previous release, and holds until Redis expires it.
                local legacy = redis.call('GET', KEYS[3])
                if legacy and not (h[1] and h[2] and legacy == h[2] .. ' ' .. h[1]) then
                  local sep = string.find(legacy, ' ', 1, true)
                  if not sep or string.sub(legacy, sep + 1) ~= ARGV[1] then return {0} end
                end
              end
              local fence = math.max(counter, num(h[2]), tonumber(ARGV[3])) + 1
              local f = fmt(fence)
              redis.call('SET', KEYS[2], f)
              redis.call('DEL', KEYS[1])
              redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'fence', f,
                         'exp', fmt(now + tonumber(ARGV[2])))
              redis.call('SET', KEYS[3], f .. ' ' .. ARGV[1], 'PX', ARGV[2])
              local cut = -1
              if live and h[4] then cut = tonumber(h[4]) or -1 end
              -- The marker stays until the new holder marks, saves or releases: a grant whose
              -- reply was lost must not erase the only report of a renewal cut short.
              if cut >= 0 then redis.call('HSET', KEYS[1], 'mark', h[4]) end
              return {fence, cut}
              """);

  /**
   * KEYS holder, counter, legacy lease; ARGV fence, owner, ttl millis. Returns 1, or 0 if stale.
   */
  static final Script EXTEND =
      new Script(
          EFFECTS
              + """
              if not current(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
              redis.call('HSET', KEYS[1], 'exp', fmt(now() + tonumber(ARGV[3])))
              redis.call('SET', KEYS[3], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
              return 1
              """);

  /** KEYS holder, counter; ARGV fence, owner, epoch millis. Returns 1, or 0 if stale. */
  static final Script MARK =
      new Script(
          """
          if not current(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
          redis.call('HSET', KEYS[1], 'mark', ARGV[3])
          return 1
          """);

  /** KEYS holder, counter, legacy lease; ARGV fence, owner. Returns 1, or 0 if not current. */
  static final Script RELEASE =
      new Script(
          """
          if not current(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
          redis.call('DEL', KEYS[1])
          if redis.call('GET', KEYS[3]) == ARGV[1] .. ' ' .. ARGV[2] then
            redis.call('DEL', KEYS[3])
          end
          return 1
          """);

  /**
   * KEYS state; ARGV expected health version, record ('' clears it). Returns 1 if it moved the
   * record, 0 if another version is stored. Never touches the token set.
   *
   * <p>The health version is the higher of {@code hv} (the record's, while there is one) and {@code
   * htop} (kept by a clear, and set by every write). A success makes it exactly the expected
   * version plus one. A clear deletes {@code health} and {@code hv}, as the release before this one
   * does (it never reads {@code htop}, and sees no record), and keeps the new version in {@code
   * htop}.
   */
  static final Script HEALTH =
      new Script(
          """
          local h = redis.call('HMGET', KEYS[1], 'hv', 'htop')
          local version = math.max(num(h[1]), num(h[2]))
          if version ~= tonumber(ARGV[1]) then return 0 end
          local nv = fmt(version + 1)
          if ARGV[2] == '' then
            redis.call('HDEL', KEYS[1], 'health', 'hv')
            redis.call('HSET', KEYS[1], 'htop', nv)
          else
            redis.call('HSET', KEYS[1], 'health', ARGV[2], 'hv', nv, 'htop', nv)
          end
          return 1
          """);

  /** A script body and its SHA-1, for {@code EVALSHA}. */
  /**
   * KEYS once; ARGV expires-at (epoch millis, Redis's clock), sealed value. Stores {@code
   * "<expires-at>:<sealed>"} with {@code PX} until the expiry unless the key holds an unexpired
   * value: {@code SET NX PX} that also counts a value past its stored expiry as absent, to the
   * millisecond (Redis keeps a key through its last millisecond). An expiry not after Redis's time
   * stores nothing. Returns 1 if stored (or nothing to store), 0 if the key was taken.
   */
  static final Script PUT_ONCE =
      new Script(
          EFFECTS
              + """
              local t = now()
              local held = redis.call('GET', KEYS[1])
              if held then
                local e = tonumber(string.match(held, '^(%d+):'))
                if e and e > t then return 0 end
              end
              local exp = tonumber(ARGV[1])
              if exp <= t then
                if held then redis.call('DEL', KEYS[1]) end
                return 1
              end
              redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', fmt(exp - t))
              return 1
              """);

  /**
   * KEYS once. GET and DEL in one step (what {@code GETDEL} does from Redis 6.2, here on any
   * version): returns the sealed value if it was there and unexpired by Redis's time, else nil; the
   * key is gone either way.
   */
  static final Script TAKE_ONCE =
      new Script(
          EFFECTS
              + """
              local v = redis.call('GET', KEYS[1])
              if not v then return false end
              redis.call('DEL', KEYS[1])
              local e, sealed = string.match(v, '^(%d+):(.*)$')
              if not e then return v end
              if tonumber(e) <= now() then return false end
              return sealed
              """);

  /**
   * KEYS changes; ARGV connection id, retention millis. Scores the connection with Redis's time
   * (one member per connection: its latest change) and drops members older than the retention.
   */
  static final Script CHANGED =
      new Script(
          EFFECTS
              + """
              local t = now()
              redis.call('ZADD', KEYS[1], fmt(t), ARGV[1])
              redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(t - tonumber(ARGV[2])))
              return 1
              """);

  static final class Script {
    final String body;
    final String sha1;

    Script(String body) {
      this.body = PRELUDE + body;
      try {
        byte[] d =
            MessageDigest.getInstance("SHA-1").digest(this.body.getBytes(StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder(40);
        for (byte x : d) {
          b.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        this.sha1 = b.toString();
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is required by every Java platform", e);
      }
    }
  }
}
