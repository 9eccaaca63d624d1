-- +goose Up
-- create "audit_logs" table
CREATE TABLE `audit_logs` (`id` uuid NOT NULL, `company_id` uuid NULL, `actor_type` text NOT NULL, `actor_id` uuid NULL, `actor_name` text NULL, `action` text NOT NULL, `target_type` text NOT NULL, `target_id` uuid NULL, `summary` text NULL, `ip` text NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "auditlog_company_id_created_at" to table: "audit_logs"
CREATE INDEX `auditlog_company_id_created_at` ON `audit_logs` (`company_id`, `created_at`);
-- create index "auditlog_created_at" to table: "audit_logs"
CREATE INDEX `auditlog_created_at` ON `audit_logs` (`created_at`);
-- create "rate_buckets" table
CREATE TABLE `rate_buckets` (`id` text NOT NULL, `tokens` real NOT NULL, `updated_at` real NOT NULL, PRIMARY KEY (`id`));

-- +goose Down
-- reverse: create "rate_buckets" table
DROP TABLE `rate_buckets`;
-- reverse: create index "auditlog_created_at" to table: "audit_logs"
DROP INDEX `auditlog_created_at`;
-- reverse: create index "auditlog_company_id_created_at" to table: "audit_logs"
DROP INDEX `auditlog_company_id_created_at`;
-- reverse: create "audit_logs" table
DROP TABLE `audit_logs`;
