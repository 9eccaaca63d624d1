-- +goose NO TRANSACTION
-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_resources" table
CREATE TABLE `new_resources` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `type` text NOT NULL, `title` text NOT NULL, `source_url` text NULL, `file_path` text NULL, `file_name` text NULL, `extracted_content` text NULL, `metadata` json NULL, `status` text NOT NULL DEFAULT ('PENDING'), `error` text NULL, `is_active` bool NOT NULL DEFAULT (true), `chunk_count` integer NOT NULL DEFAULT (0), `progress` real NOT NULL DEFAULT (0), `sync_interval` text NOT NULL DEFAULT ('NEVER'), `last_synced_at` datetime NULL, `next_sync_at` datetime NULL, `company_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `resources_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE);
-- copy rows from old table "resources" to new temporary table "new_resources"
INSERT INTO `new_resources` (`id`, `created_at`, `updated_at`, `type`, `title`, `source_url`, `file_path`, `file_name`, `extracted_content`, `metadata`, `status`, `error`, `is_active`, `chunk_count`, `progress`, `company_id`) SELECT `id`, `created_at`, `updated_at`, `type`, `title`, `source_url`, `file_path`, `file_name`, `extracted_content`, `metadata`, `status`, `error`, `is_active`, `chunk_count`, `progress`, `company_id` FROM `resources`;
-- drop "resources" table after copying rows
DROP TABLE `resources`;
-- rename temporary table "new_resources" to "resources"
ALTER TABLE `new_resources` RENAME TO `resources`;
-- create index "resource_company_id" to table: "resources"
CREATE INDEX `resource_company_id` ON `resources` (`company_id`);
-- create index "resource_company_id_status" to table: "resources"
CREATE INDEX `resource_company_id_status` ON `resources` (`company_id`, `status`);
-- create index "resource_next_sync_at" to table: "resources"
CREATE INDEX `resource_next_sync_at` ON `resources` (`next_sync_at`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "resource_next_sync_at" to table: "resources"
DROP INDEX `resource_next_sync_at`;
-- reverse: create index "resource_company_id_status" to table: "resources"
DROP INDEX `resource_company_id_status`;
-- reverse: create index "resource_company_id" to table: "resources"
DROP INDEX `resource_company_id`;
-- reverse: create "new_resources" table
DROP TABLE `new_resources`;
