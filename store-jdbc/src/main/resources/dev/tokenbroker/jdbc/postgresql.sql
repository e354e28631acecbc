-- Tokenbroker JDBC store, PostgreSQL. The store runs this itself (create-schema: true, the
-- default); to manage the schema with Flyway or Liquibase instead, copy it into a migration,
-- replace tokenbroker_tokens with your table name, and set create-schema: false.
-- One row per connection. token_data is NULL for a connection that only ever had a lease or was
-- deleted; version is then 0. Times are epoch milliseconds.
CREATE TABLE IF NOT EXISTS tokenbroker_tokens (
  connection_id       VARCHAR(255) NOT NULL PRIMARY KEY,
  version             BIGINT       NOT NULL DEFAULT 0,
  token_data          TEXT,
  updated_at_ms       BIGINT       NOT NULL DEFAULT 0,
  lease_owner         VARCHAR(255),
  lease_fence         BIGINT       NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT       NOT NULL DEFAULT 0
)
