-- Tokenbroker JDBC store, PostgreSQL, schema version 3: what run-time connections need. Adds a
-- nullable column and an index to the token table, and a table of its own for one-time records,
-- so instances of an earlier release, which never read either, keep working during a rolling
-- upgrade. Re-runnable (IF NOT EXISTS). Flyway runs it as V3 and Liquibase as changeset
-- tokenbroker-3; the store runs it itself when create-schema is on and the change is missing.
-- tokenbroker_tokens_once becomes <table>_once, and an index name starting with
-- tokenbroker_tokens becomes <table name without its schema>_…, for another table name.
--   changed_at_ms   when the connection was last created, authorized, restored or tombstoned
--                   (the database's clock, epoch millis): TokenStore.changedSince. NULL for rows
--                   no change touched since the upgrade; renewals leave it as it is
--   tokenbroker_tokens_once   one-time records (TokenStore.putOnce / takeOnce):
--     once_key       SHA-256 hex of the record's key (never the key: keys may be derived from
--                    secrets)
--     once_value     the value, TokenCodec.sealOnce text (AES-256-GCM when the store encrypts)
--     expires_at_ms  when it stops counting (the database's clock, epoch millis)
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS changed_at_ms BIGINT;
CREATE INDEX IF NOT EXISTS tokenbroker_tokens_changed_idx ON tokenbroker_tokens (changed_at_ms);
CREATE TABLE IF NOT EXISTS tokenbroker_tokens_once (
  once_key      VARCHAR(64) NOT NULL PRIMARY KEY,
  once_value    TEXT        NOT NULL,
  expires_at_ms BIGINT      NOT NULL
);
CREATE INDEX IF NOT EXISTS tokenbroker_tokens_once_expires_idx
  ON tokenbroker_tokens_once (expires_at_ms);
