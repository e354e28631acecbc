-- Tokenbroker JDBC store, H2 2.x, schema version 2: what the store SPI with fenced writes keeps
-- beside each token set. Only adds nullable columns, so instances of an earlier release, which
-- read and write the version 1 columns only, keep working on the same table during a rolling
-- upgrade. Re-runnable (IF NOT EXISTS). Flyway runs it as V2 and Liquibase as changeset
-- tokenbroker-2; the store runs it itself when create-schema is on and the columns are missing.
-- The columns are described in the PostgreSQL script.
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS health_data       VARCHAR(1000000);
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS health_version    BIGINT;
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS tombstone_data    VARCHAR(1000000);
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS renewing_fence    BIGINT;
ALTER TABLE tokenbroker_tokens ADD COLUMN IF NOT EXISTS renewing_since_ms BIGINT;
