-- Tokenbroker JDBC store, H2 2.x. The store runs this itself (create-schema: true, the default).
CREATE TABLE IF NOT EXISTS tokenbroker_tokens (
  connection_id       VARCHAR(255)     NOT NULL PRIMARY KEY,
  version             BIGINT           NOT NULL DEFAULT 0,
  token_data          VARCHAR(1000000),
  updated_at_ms       BIGINT           NOT NULL DEFAULT 0,
  lease_owner         VARCHAR(255),
  lease_fence         BIGINT           NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT           NOT NULL DEFAULT 0
)
