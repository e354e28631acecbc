-- Tokenbroker JDBC store, H2 2.x, schema version 3: what run-time connections need. Adds a
-- nullable column and an index to the token table, and a table of its own for one-time records,
-- so instances of an earlier release, which never read either, keep working during a rolling
-- upgrade. Re-runnable (IF NOT EXISTS). Flyway runs it as V3 and Liquibase as changeset
-- tokenbroker-3; the store runs it itself when create-schema is on and the change is missing.
-- The columns are described in the PostgreSQL script.
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS changed_at_ms BIGINT;
CREATE INDEX IF NOT EXISTS tokenbroker_tokens_changed_idx ON tokenbroker_tokens (changed_at_ms);
CREATE TABLE IF NOT EXISTS tokenbroker_tokens_once (
  once_key      VARCHAR(64)      NOT NULL PRIMARY KEY,
  once_value    VARCHAR(1000000) NOT NULL,
  expires_at_ms BIGINT           NOT NULL
);
CREATE INDEX IF NOT EXISTS tokenbroker_tokens_once_expires_idx
  ON tokenbroker_tokens_once (expires_at_ms);
