-- Tokenbroker JDBC store, H2 2.x, schema version 1: the table as releases before the store SPI
-- with fenced writes created it. Flyway runs it as V1 and Liquibase as changeset tokenbroker-1
-- (changelog.xml beside this file); the store runs it itself when create-schema is on (the
-- default), replacing tokenbroker_tokens with its configured table.
CREATE TABLE IF NOT EXISTS tokenbroker_tokens (
  connection_id       VARCHAR(255)     NOT NULL PRIMARY KEY,
  version             BIGINT           NOT NULL DEFAULT 0,
  token_data          VARCHAR(1000000),
  updated_at_ms       BIGINT           NOT NULL DEFAULT 0,
  lease_owner         VARCHAR(255),
  lease_fence         BIGINT           NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT           NOT NULL DEFAULT 0
);
