-- Tokenbroker JDBC store, MySQL 8 and MariaDB 10.5+. The store runs this itself (create-schema:
-- true, the default); to manage the schema with Flyway or Liquibase instead, copy it into a
-- migration, replace tokenbroker_tokens with your table name, and set create-schema: false.
-- connection_id is compared byte for byte (utf8mb4_bin): ids are case-sensitive, and MySQL's
-- default collation would make cafe24:Mall and cafe24:mall one row.
CREATE TABLE IF NOT EXISTS tokenbroker_tokens (
  connection_id       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
  version             BIGINT       NOT NULL DEFAULT 0,
  token_data          MEDIUMTEXT   CHARACTER SET utf8mb4,
  updated_at_ms       BIGINT       NOT NULL DEFAULT 0,
  lease_owner         VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  lease_fence         BIGINT       NOT NULL DEFAULT 0,
  lease_expires_at_ms BIGINT       NOT NULL DEFAULT 0
) ENGINE=InnoDB
