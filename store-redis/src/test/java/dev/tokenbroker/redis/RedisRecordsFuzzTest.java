package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.fuzz.Bounded;
import dev.tokenbroker.fuzz.Mutations;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the decoding of what the Redis read script returns ({version, data, health, tombstone, …})
 * with mutated values, missing fields and odd versions: a snapshot or a typed {@link
 * TokenStoreException}, within a bounded time. Needs no Redis.
 */
class RedisRecordsFuzzTest {
  static final ConnectionId ID = ConnectionId.parse("cafe24:mall-a");
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final TokenCodec PLAIN = TokenCodec.plaintext();
  static final TokenCodec SEALED = TokenCodec.encrypted(EncryptionKeys.of(new byte[32]));

  static final TokenSet SET =
      TokenSet.builder()
          .accessToken("AT-1")
          .refreshToken("RT-1")
          .issuedAt(T0)
          .expiresAt(T0.plusSeconds(7200))
          .version(4)
          .build();

  @Provide
  Arbitrary<String> values() {
    String health =
        new String(
            StateCodec.encodeHealth(
                ID,
                new HealthRecord(Health.State.DEGRADED, "r", "d", null, T0, null, null, 1, 4, 2)),
            StandardCharsets.UTF_8);
    String tomb =
        new String(
            StateCodec.encodeTombstone(ID, new Tombstone("revoked", T0, 5)),
            StandardCharsets.UTF_8);
    return Arbitraries.oneOf(
        Mutations.seedsAndMutations(
            List.of(
                PLAIN.encodeToString(ID, SET),
                SEALED.encodeToString(ID, SET),
                health,
                tomb,
                "4",
                "-1",
                "99999999999999999999")),
        Arbitraries.just(null));
  }

  @Property(tries = 400)
  void readScriptAnswers_decodeOrAreTypedFailures(
      @ForAll("values") String version,
      @ForAll("values") String data,
      @ForAll("values") String health,
      @ForAll("values") String tomb,
      @ForAll boolean encrypted) {
    RedisRecords records =
        new RedisRecords(null, new RedisKeys("tokenbroker:"), encrypted ? SEALED : PLAIN);
    List<Object> raw = Arrays.asList(version, data, health, tomb, null);
    Bounded.valueOrTyped(TokenStoreException.class, () -> records.decode(ID, raw));
  }
}
