-- Tokenbroker JDBC store, PostgreSQL, schema version 1: the table as releases before the store
-- SPI with fenced writes created it. Flyway runs it as V1 and Liquibase as changeset
-- tokenbroker-1 (changelog.xml beside this file); the store runs it itself when create-schema is
-- on (the default), replacing tokenbroker_tokens with its configured table.
-- One row per connection. token_data is NULL for a connection that has no token set (it only
-- ever had a lease or a health record, or it was revoked). Times are epoch milliseconds.
CREATE TABLE IF NOT EXISTS tokenbroker_tokens (
  connection_id       VARCHAR(255) NOT NULL PRIMARY KEY,
  version             BIGINT       NOT NULL DEFAULT 0,
  token_data          TEXT,
  updated_at_ms       BIGINT       NOT NULL DEFAULT 0,
  lease_owner         VARCHAR(255),
  lease_fence         BIGINT       NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT       NOT NULL DEFAULT 0
);
