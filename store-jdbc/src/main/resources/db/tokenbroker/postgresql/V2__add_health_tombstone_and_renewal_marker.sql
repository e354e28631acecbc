-- Tokenbroker JDBC store, PostgreSQL, schema version 2: what the store SPI with fenced writes
-- keeps beside each token set. Only adds nullable columns, so instances of an earlier release,
-- which read and write the version 1 columns only, keep working on the same table during a
-- rolling upgrade. Re-runnable (IF NOT EXISTS). Flyway runs it as V2 and Liquibase as changeset
-- tokenbroker-2; the store runs it itself when create-schema is on and the columns are missing.
--   health_data        the health record (DEGRADED, REAUTHORIZATION_REQUIRED): StateCodec JSON,
--                      format 2; NULL: ACTIVE
--   health_version     the health record's compare-and-set counter; never goes backwards
--   tombstone_data     set after a revocation or uninstall (StateCodec JSON, format 2); the row
--                      then has no token_data and keeps its version
--   renewing_fence     the fence of the lease under which a token request was started, and
--   renewing_since_ms  when (the database's clock): the renewal marker, cleared by a save or a
--                      release under that lease
ALTER TABLE tokenbroker_tokens
  ADD COLUMN IF NOT EXISTS health_data       TEXT,
  ADD COLUMN IF NOT EXISTS health_version    BIGINT,
  ADD COLUMN IF NOT EXISTS tombstone_data    TEXT,
  ADD COLUMN IF NOT EXISTS renewing_fence    BIGINT,
  ADD COLUMN IF NOT EXISTS renewing_since_ms BIGINT;
