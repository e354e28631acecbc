package dev.tokenbroker.jdbc;

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
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the decoding of a JDBC row's record columns (token data in the clear and encrypted,
 * health, tombstone) with mutated contents and versions: a snapshot or a typed {@link
 * TokenStoreException}, within a bounded time. Needs no database.
 */
class RowCodecFuzzTest {
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
          .refreshExpiresAt(T0.plusSeconds(1_209_600))
          .version(4)
          .build();

  @Provide
  Arbitrary<String> records() {
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
    return Mutations.seedsAndMutations(
        List.of(PLAIN.encodeToString(ID, SET), SEALED.encodeToString(ID, SET), health, tomb));
  }

  @Property(tries = 400)
  void rowColumns_decodeOrAreTypedFailures(
      @ForAll("records") String a,
      @ForAll("records") String b,
      @ForAll boolean encrypted,
      @ForAll boolean withTombstone) {
    Row row = new Row();
    row.version = 4;
    row.tokenData = a;
    row.healthData = b;
    row.healthVersion = 2;
    row.tombstoneData = withTombstone ? b : null;
    RowCodec codec = new RowCodec(encrypted ? SEALED : PLAIN, "tokenbroker_tokens");
    Bounded.valueOrTyped(TokenStoreException.class, () -> codec.snapshot(ID, row));
    Bounded.valueOrTyped(TokenStoreException.class, () -> codec.decode(ID, 4, a));
  }
}
