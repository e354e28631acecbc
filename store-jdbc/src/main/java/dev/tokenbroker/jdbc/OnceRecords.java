package dev.tokenbroker.jdbc;

import dev.tokenbroker.spi.TokenCodec;
import dev.tokenbroker.store.OnceKeys;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one-time records of a {@link JdbcTokenStore}: each put or take one call on a borrowed
 * connection (see {@link RowTransactions#run}) running the SQL of {@link OnceTable}, under the
 * SHA-256 digest of the key ({@link OnceKeys}), the value sealed like token data when the store
 * encrypts. A put also deletes the table's expired rows, at most once a minute per store.
 */
final class OnceRecords {
  private static final Logger log = LoggerFactory.getLogger(JdbcTokenStore.class);

  private final RowTransactions tx;
  private final OnceTable once;
  private final Dialect dialect;
  private final TokenCodec codec;

  /** The database time (epoch millis) after which the next put sweeps expired one-time records. */
  private final AtomicLong nextSweepMs = new AtomicLong();

  private static final long SWEEP_EVERY_MS = Duration.ofMinutes(1).toMillis();

  OnceRecords(RowTransactions tx, OnceTable once, Dialect dialect, TokenCodec codec) {
    this.tx = tx;
    this.once = once;
    this.dialect = dialect;
    this.codec = codec;
  }

  /** See {@link JdbcTokenStore#putOnce}. */
  boolean put(String key, byte[] value, Instant expiresAt) {
    String digest = OnceKeys.digest(key);
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(expiresAt, "expiresAt");
    String sealed = codec.sealOnce(digest, value);
    return tx.run(
        null,
        "store a one-time record (" + once.name() + ")",
        List.of(sealed),
        c -> {
          boolean stored = once.put(c, digest, sealed, expiresAt.toEpochMilli());
          sweepIfDue(c);
          return stored;
        });
  }

  /** See {@link JdbcTokenStore#takeOnce}. */
  byte @Nullable [] take(String key) {
    String digest = OnceKeys.digest(key);
    OnceTable.Taken taken =
        tx.run(
            null,
            "take a one-time record (" + once.name() + ")",
            List.of(),
            c -> once.take(c, digest));
    return taken == null || !taken.live ? null : codec.openOnce(digest, taken.sealed);
  }

  private void sweepIfDue(Connection c) throws SQLException {
    long due = nextSweepMs.get();
    long now = dialect.now(c);
    if (now >= due && nextSweepMs.compareAndSet(due, now + SWEEP_EVERY_MS)) {
      int swept = once.sweep(c);
      if (swept > 0) {
        log.debug("table {}: deleted {} expired one-time records", once.name(), swept);
      }
    }
  }
}
