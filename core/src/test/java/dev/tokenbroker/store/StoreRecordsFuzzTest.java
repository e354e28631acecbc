package dev.tokenbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBrokerException;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.fuzz.Bounded;
import dev.tokenbroker.fuzz.Mutations;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes what the stores read back: connection ids and the file names made of them, token records
 * (in the clear and encrypted), health and tombstone records, and a file store whose record,
 * health, lock and holder files were overwritten with mutated bytes. Every read gives a value or a
 * typed {@link TokenBrokerException} within a bounded time, a decoded set holds only tokens that
 * can go in a header, and a corrupt neighbour file never makes the store rewrite a good record.
 */
class StoreRecordsFuzzTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final ConnectionId ID = ConnectionId.parse("cafe24:mall-a");
  static final EncryptionKeys KEYS = EncryptionKeys.of(new byte[32]);

  static Path root;

  @BeforeContainer
  static void createRoot() throws IOException {
    root = Files.createTempDirectory("tokenbroker-fuzz");
  }

  @AfterContainer
  static void deleteRoot() throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  // ---- connection ids and file names ------------------------------------------------------

  @Provide
  Arbitrary<String> idTexts() {
    Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(40);
    Arbitrary<String> likely =
        Arbitraries.strings()
            .withChars("abcz09-_:.%$/\\ \t\u00e9\u202e\u200b\ud800\udc00\ufffd\u0000?*<>|")
            .ofMaxLength(30)
            .map(s -> "cafe24:" + s);
    return Arbitraries.oneOf(any, likely, Mutations.of(List.of("cafe24:mymall", "naver:s:1")));
  }

  @Property(tries = 1000)
  void connectionIds_parseOrAreRefused_andMapToDistinctReversibleFileNames(
      @ForAll("idTexts") String a, @ForAll("idTexts") String b) {
    ConnectionId x = parse(a);
    ConnectionId y = parse(b);
    for (ConnectionId id : Arrays.asList(x, y)) {
      if (id == null) {
        continue;
      }
      assertThat(ConnectionId.parse(id.toString())).isEqualTo(id);
      String base = FileNames.baseName(id);
      assertThat(base).matches("[a-z0-9%A-F_~-]+").hasSizeLessThanOrEqualTo(200);
      if (!base.contains("~")) {
        assertThat(FileNames.connectionOf(Path.of(base + FileNames.DATA_SUFFIX))).isEqualTo(id);
      }
    }
    if (x != null && y != null && !x.equals(y)) {
      assertThat(FileNames.baseName(x)).isNotEqualTo(FileNames.baseName(y));
    }
  }

  private static ConnectionId parse(String text) {
    try {
      return ConnectionId.parse(text);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isNotNull();
      return null;
    }
  }

  // ---- token, health and tombstone records ------------------------------------------------

  @Provide
  Arbitrary<TokenSet> tokenSets() {
    Arbitrary<String> tokens =
        Arbitraries.strings()
            .withCharRange((char) 0x21, (char) 0x7E)
            .ofMinLength(1)
            .ofMaxLength(80);
    Arbitrary<String> access =
        Arbitraries.strings().withChars("ABCxyz019-._~+/").ofMinLength(1).ofMaxLength(80);
    return Combinators.combine(
            access,
            tokens.injectNull(0.3),
            Arbitraries.longs().between(1, 100_000_000L),
            Arbitraries.longs().between(0, 1_000_000L),
            Arbitraries.strings().alpha().ofMaxLength(12).list().ofMaxSize(3))
        .as(
            (at, rt, life, version, scopes) -> {
              TokenSet.Builder b =
                  TokenSet.builder()
                      .accessToken(at)
                      .issuedAt(T0)
                      .expiresAt(T0.plusSeconds(life))
                      .version(version)
                      .extra("mall_id", "mall-a");
              scopes.stream().filter(s -> !s.isEmpty()).forEach(s -> b.scopes(scopes));
              if (rt != null) {
                b.refreshToken(rt).refreshExpiresAt(T0.plusSeconds(life * 2));
              }
              return b.build();
            });
  }

  @Property(tries = 150)
  void tokenRecords_roundTrip_andMutatedOnesAreTypedFailures(
      @ForAll("tokenSets") TokenSet set, @ForAll boolean encrypted, @ForAll long seed) {
    TokenCodec codec = encrypted ? TokenCodec.encrypted(KEYS) : TokenCodec.plaintext();
    String record = codec.encodeToString(ID, set);
    TokenSet back = codec.decode(ID, record);
    assertThat(back).isEqualTo(set);
    assertThat(back.version()).isEqualTo(set.version());

    java.util.Random r = new java.util.Random(seed);
    for (int i = 0; i < 3; i++) {
      String mutated = mutate(record, r);
      Bounded.Outcome<TokenSet> o =
          Bounded.valueOrTyped(TokenStoreException.class, () -> codec.decode(ID, mutated));
      if (o.thrown != null) {
        assertThat(o.thrown.getMessage()).startsWith("connection " + ID + ": ");
      }
      Bounded.valueOrTyped(
          TokenStoreException.class,
          () -> TokenCodec.connectionOf(mutated.getBytes(StandardCharsets.UTF_8)));
    }
  }

  private static String mutate(String s, java.util.Random r) {
    return Mutations.mutate(s, r);
  }

  @Provide
  Arbitrary<String> stateRecords() {
    HealthRecord h =
        new HealthRecord(
            Health.State.DEGRADED,
            "rotation-outcome-unknown",
            "detail",
            "KOE322",
            T0,
            T0.plusSeconds(60),
            null,
            2,
            7,
            3);
    String health = new String(StateCodec.encodeHealth(ID, h), StandardCharsets.UTF_8);
    String tomb =
        new String(
            StateCodec.encodeTombstone(ID, new Tombstone("revoked", T0, 9)),
            StandardCharsets.UTF_8);
    return Mutations.seedsAndMutations(List.of(health, tomb));
  }

  @Property(tries = 400)
  void healthAndTombstoneRecords_decodeOrAreTypedFailures(@ForAll("stateRecords") String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    Bounded.valueOrTyped(TokenStoreException.class, () -> StateCodec.decodeHealth(ID, bytes));
    Bounded.valueOrTyped(TokenStoreException.class, () -> StateCodec.decodeTombstone(ID, bytes));
  }

  // ---- the file store over corrupted files ------------------------------------------------

  @Provide
  Arbitrary<String> suffixes() {
    return Arbitraries.of(
        FileNames.DATA_SUFFIX,
        FileNames.HEALTH_SUFFIX,
        FileNames.TOMBSTONE_SUFFIX,
        FileNames.LOCK_SUFFIX,
        FileNames.HOLDER_SUFFIX);
  }

  @Property(tries = 60)
  void fileStore_withACorruptedFile_readsOrFailsTyped_andNeverRewritesAGoodRecord(
      @ForAll("suffixes") String suffix,
      @ForAll("stateRecords") String garbage,
      @ForAll boolean encrypted)
      throws IOException {
    Path dir = Files.createTempDirectory(root, "store");
    FileTokenStore store =
        FileTokenStore.builder(dir)
            .clock(Clock.fixed(T0, ZoneOffset.UTC))
            .encryption(encrypted ? KEYS : null)
            .build();
    try {
      TokenSet saved =
          store.put(
              ID,
              TokenSet.builder()
                  .accessToken("AT-1")
                  .refreshToken("RT-1")
                  .issuedAt(T0)
                  .expiresAt(T0.plusSeconds(7200))
                  .build());
      Lease lease = store.tryAcquireLease(ID, "fuzz", Duration.ofMinutes(1), 0);
      if (lease != null) {
        store.releaseLease(lease);
      }
      Path file = dir.resolve(FileNames.baseName(ID) + suffix);
      Files.write(file, garbage.getBytes(StandardCharsets.UTF_8));
      byte[] record = readOrNull(dir.resolve(FileNames.baseName(ID) + FileNames.DATA_SUFFIX));

      Bounded.valueOrTyped(TokenBrokerException.class, () -> store.load(ID));
      Bounded.valueOrTyped(TokenBrokerException.class, () -> store.read(ID));
      Bounded.valueOrTyped(TokenBrokerException.class, store::connections);
      Bounded.Outcome<Lease> taken =
          Bounded.valueOrTyped(
              TokenBrokerException.class,
              () -> store.tryAcquireLease(ID, "fuzz-2", Duration.ofMinutes(1), 0));
      if (taken.value != null) {
        Bounded.valueOrTyped(
            TokenBrokerException.class,
            () -> {
              store.releaseLease(taken.value);
              return null;
            });
      }

      if (!suffix.equals(FileNames.DATA_SUFFIX) && !suffix.equals(FileNames.TOMBSTONE_SUFFIX)) {
        // A corrupt health, lock or holder file leaves the good record as it was.
        assertThat(readOrNull(dir.resolve(FileNames.baseName(ID) + FileNames.DATA_SUFFIX)))
            .isEqualTo(record);
        TokenSet loaded =
            Bounded.valueOrTyped(TokenBrokerException.class, () -> store.load(ID)).value;
        if (loaded != null) {
          assertThat(loaded).isEqualTo(saved);
        }
      } else {
        // A corrupt record is never "repaired" by a read.
        assertThat(readOrNull(file)).isEqualTo(garbage.getBytes(StandardCharsets.UTF_8));
      }
    } finally {
      store.close();
    }
  }

  private static byte[] readOrNull(Path p) {
    try {
      return Files.exists(p) ? Files.readAllBytes(p) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
