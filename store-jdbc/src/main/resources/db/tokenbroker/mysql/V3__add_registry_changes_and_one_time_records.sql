-- Tokenbroker JDBC store, MySQL 8 and MariaDB 10.5+, schema version 3: what run-time connections
-- need. Adds a nullable column and an index to the token table, and a table of its own for
-- one-time records, so instances of an earlier release, which never read either, keep working
-- during a rolling upgrade. Flyway runs it as V3 and Liquibase as changeset tokenbroker-3; the
-- store runs it itself when create-schema is on and the change is missing. MySQL has no ADD
-- COLUMN IF NOT EXISTS: run it once (Flyway and Liquibase do). The columns are described in the
-- PostgreSQL script. once_key is ASCII compared byte for byte: it is a hex digest.
ALTER TABLE tokenbroker_tokens
  ADD COLUMN changed_at_ms BIGINT,
  ADD INDEX tokenbroker_tokens_changed_idx (changed_at_ms);
CREATE TABLE IF NOT EXISTS tokenbroker_tokens_once (
  once_key      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  once_value    TEXT        CHARACTER SET ascii NOT NULL,
  expires_at_ms BIGINT      NOT NULL,
  INDEX tokenbroker_tokens_once_expires_idx (expires_at_ms)
) ENGINE=InnoDB;
