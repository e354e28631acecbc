package dev.tokenbroker.jdbc;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.StateCodec;
import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The records in a {@link Row}'s columns: the token set ({@link TokenCodec}, maybe encrypted), the
 * tombstone and the health record ({@link StateCodec}). A record that cannot be decoded is reported
 * with a {@link TokenStoreException} naming the connection and the table.
 */
final class RowCodec {
  private final TokenCodec codec;
  private final String table;

  RowCodec(TokenCodec codec, String table) {
    this.codec = codec;
    this.table = table;
  }

  boolean encrypts() {
    return codec.encrypts();
  }

  /** The token set in {@code data}, checked against the row's {@code version}. */
  TokenSet decode(ConnectionId id, long version, String data) {
    TokenSet t;
    try {
      t = codec.decode(id, data);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
    if (t.version() != version) {
      throw new TokenStoreException(
          id,
          "connection "
              + id
              + ": stored record is corrupt: it says version "
              + t.version()
              + " but the row has version "
              + version
              + " (table "
              + table
              + ")",
          null);
    }
    return t;
  }

  /** {@code tokens} as the {@code token_data} column holds it. */
  String encode(ConnectionId id, TokenSet tokens) {
    return codec.encodeToString(id, tokens);
  }

  /** Saves {@code tokens} as the row's next version; clears the renewal marker. */
  TokenSet save(ConnectionId id, Row row, TokenSet tokens, long version) {
    TokenSet saved = tokens.withVersion(version);
    row.tokenData = encode(id, saved);
    row.version = version;
    row.clearMarker();
    row.dirty = true;
    return saved;
  }

  @Nullable Tombstone tombstoneOf(ConnectionId id, Row r) {
    String data = r.tombstoneData;
    if (data == null) {
      return null;
    }
    try {
      return StateCodec.decodeTombstone(id, data.getBytes(StandardCharsets.UTF_8));
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
  }

  @Nullable HealthRecord healthOf(ConnectionId id, Row r) {
    String data = r.healthData;
    if (data == null) {
      return null;
    }
    try {
      // The column is the truth about the version: it is what compare-and-set compares.
      return StateCodec.decodeHealth(id, data.getBytes(StandardCharsets.UTF_8))
          .withVersion(r.healthVersion);
    } catch (TokenStoreException e) {
      throw new TokenStoreException(id, e.getMessage() + " (table " + table + ")", e.getCause());
    }
  }

  /** The stored token set's version: 0 when there is none (or a tombstone hides it). */
  static long tokenVersion(Row r) {
    return r.tokenData == null || r.tombstoneData != null ? 0 : r.version;
  }

  /** What the row holds, decoded; {@link StoredConnection#EMPTY} for no row or an empty one. */
  StoredConnection snapshot(ConnectionId id, @Nullable Row r) {
    if (r == null) {
      return StoredConnection.EMPTY;
    }
    Tombstone tombstone = tombstoneOf(id, r);
    // A tombstone always wins, also over token data an instance of an earlier release wrote.
    String data = tombstone == null ? r.tokenData : null;
    TokenSet tokens = data == null ? null : decode(id, r.version, data);
    HealthRecord health = healthOf(id, r);
    if (tokens == null && health == null && tombstone == null && r.healthVersion == 0) {
      return StoredConnection.EMPTY;
    }
    // The column is the health version with or without a record: a clear keeps it.
    return new StoredConnection(tokens, health, tombstone, r.healthVersion);
  }
}
