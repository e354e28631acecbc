-- Tokenbroker JDBC store, MySQL 8 and MariaDB 10.5+, schema version 1: the table as releases
-- before the store SPI with fenced writes created it. Flyway runs it as V1 and Liquibase as
-- changeset tokenbroker-1 (changelog.xml beside this file); the store runs it itself when
-- create-schema is on (the default), replacing tokenbroker_tokens with its configured table.
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
) ENGINE=InnoDB;
