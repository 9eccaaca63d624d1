-- +goose NO TRANSACTION
-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_companies" table
CREATE TABLE `new_companies` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, `email` text NOT NULL, `phone` text NULL, `website` text NULL, `logo_url` text NULL, `subscription_plan` text NOT NULL DEFAULT ('FREE'), `is_active` bool NOT NULL DEFAULT (true), `deactivated_at` datetime NULL, `widget_key` text NOT NULL, `brand_color` text NOT NULL DEFAULT ('#4F46E5'), `greeting` text NOT NULL DEFAULT ('Hi! How can we help you today?'), `allowed_origins` json NULL, `identity_secret` text NOT NULL, `require_identity` bool NOT NULL DEFAULT (false), `assistant_name` text NOT NULL DEFAULT ('Assistant'), `assistant_tone` text NULL, `auto_handoff` bool NOT NULL DEFAULT (true), `business_hours` json NULL, `away_message` text NULL, PRIMARY KEY (`id`));
-- copy rows from old table "companies" to new temporary table "new_companies"
INSERT INTO `new_companies` (`id`, `created_at`, `updated_at`, `name`, `slug`, `email`, `phone`, `website`, `logo_url`, `subscription_plan`, `is_active`, `deactivated_at`, `widget_key`, `brand_color`, `greeting`, `allowed_origins`, `identity_secret`, `require_identity`) SELECT `id`, `created_at`, `updated_at`, `name`, `slug`, `email`, `phone`, `website`, `logo_url`, `subscription_plan`, `is_active`, `deactivated_at`, `widget_key`, `brand_color`, `greeting`, `allowed_origins`, `identity_secret`, `require_identity` FROM `companies`;
-- drop "companies" table after copying rows
DROP TABLE `companies`;
-- rename temporary table "new_companies" to "companies"
ALTER TABLE `new_companies` RENAME TO `companies`;
-- create index "companies_slug_key" to table: "companies"
CREATE UNIQUE INDEX `companies_slug_key` ON `companies` (`slug`);
-- create index "companies_widget_key_key" to table: "companies"
CREATE UNIQUE INDEX `companies_widget_key_key` ON `companies` (`widget_key`);
-- create "new_conversations" table
CREATE TABLE `new_conversations` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('BOT'), `rating` integer NULL, `rating_comment` text NULL, `last_message_at` datetime NOT NULL, `closed_at` datetime NULL, `last_seq` integer NOT NULL DEFAULT (0), `last_message_preview` text NULL, `human_requested_at` datetime NULL, `pending_message_id` uuid NULL, `reply_lease_until` datetime NULL, `language` text NULL, `company_id` uuid NOT NULL, `visitor_id` uuid NOT NULL, `assignee_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `conversations_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `conversations_visitors_visitor` FOREIGN KEY (`visitor_id`) REFERENCES `visitors` (`id`) ON DELETE NO ACTION, CONSTRAINT `conversations_users_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- copy rows from old table "conversations" to new temporary table "new_conversations"
INSERT INTO `new_conversations` (`id`, `created_at`, `updated_at`, `status`, `rating`, `rating_comment`, `last_message_at`, `closed_at`, `company_id`, `visitor_id`, `assignee_id`) SELECT `id`, `created_at`, `updated_at`, `status`, `rating`, `rating_comment`, `last_message_at`, `closed_at`, `company_id`, `visitor_id`, `assignee_id` FROM `conversations`;
-- drop "conversations" table after copying rows
DROP TABLE `conversations`;
-- rename temporary table "new_conversations" to "conversations"
ALTER TABLE `new_conversations` RENAME TO `conversations`;
-- create index "conversation_company_id" to table: "conversations"
CREATE INDEX `conversation_company_id` ON `conversations` (`company_id`);
-- create index "conversation_company_id_status" to table: "conversations"
CREATE INDEX `conversation_company_id_status` ON `conversations` (`company_id`, `status`);
-- create index "conversation_visitor_id" to table: "conversations"
CREATE INDEX `conversation_visitor_id` ON `conversations` (`visitor_id`);
-- create index "conversation_company_id_created_at" to table: "conversations"
CREATE INDEX `conversation_company_id_created_at` ON `conversations` (`company_id`, `created_at`);
-- create index "conversation_pending_message_id" to table: "conversations"
CREATE INDEX `conversation_pending_message_id` ON `conversations` (`pending_message_id`);
-- create "new_messages" table
CREATE TABLE `new_messages` (`id` uuid NOT NULL, `sender_type` text NOT NULL, `body` text NOT NULL, `citations` json NULL, `client_message_id` text NULL, `created_at` datetime NOT NULL, `seq` integer NOT NULL, `sender_name` text NULL, `outcome` text NULL, `confidence` real NULL, `reply_to_id` uuid NULL, `company_id` uuid NOT NULL, `conversation_id` uuid NOT NULL, `sender_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `messages_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `messages_conversations_conversation` FOREIGN KEY (`conversation_id`) REFERENCES `conversations` (`id`) ON DELETE CASCADE, CONSTRAINT `messages_users_sender` FOREIGN KEY (`sender_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- copy rows from old table "messages" to new temporary table "new_messages"
INSERT INTO `new_messages` (`id`, `sender_type`, `body`, `citations`, `client_message_id`, `created_at`, `company_id`, `conversation_id`, `sender_id`) SELECT `id`, `sender_type`, `body`, `citations`, `client_message_id`, `created_at`, `company_id`, `conversation_id`, `sender_id` FROM `messages`;
-- drop "messages" table after copying rows
DROP TABLE `messages`;
-- rename temporary table "new_messages" to "messages"
ALTER TABLE `new_messages` RENAME TO `messages`;
-- create index "message_company_id" to table: "messages"
CREATE INDEX `message_company_id` ON `messages` (`company_id`);
-- create index "message_conversation_id_client_message_id" to table: "messages"
CREATE UNIQUE INDEX `message_conversation_id_client_message_id` ON `messages` (`conversation_id`, `client_message_id`);
-- create index "message_conversation_id_created_at" to table: "messages"
CREATE INDEX `message_conversation_id_created_at` ON `messages` (`conversation_id`, `created_at`);
-- create index "message_conversation_id_seq" to table: "messages"
CREATE UNIQUE INDEX `message_conversation_id_seq` ON `messages` (`conversation_id`, `seq`);
-- create index "message_company_id_created_at" to table: "messages"
CREATE INDEX `message_company_id_created_at` ON `messages` (`company_id`, `created_at`);
-- add column "online_until" to table: "users"
ALTER TABLE `users` ADD COLUMN `online_until` datetime NULL;
-- add column "last_assigned_at" to table: "users"
ALTER TABLE `users` ADD COLUMN `last_assigned_at` datetime NULL;
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: add column "last_assigned_at" to table: "users"
ALTER TABLE `users` DROP COLUMN `last_assigned_at`;
-- reverse: add column "online_until" to table: "users"
ALTER TABLE `users` DROP COLUMN `online_until`;
-- reverse: create index "message_company_id_created_at" to table: "messages"
DROP INDEX `message_company_id_created_at`;
-- reverse: create index "message_conversation_id_seq" to table: "messages"
DROP INDEX `message_conversation_id_seq`;
-- reverse: create index "message_conversation_id_created_at" to table: "messages"
DROP INDEX `message_conversation_id_created_at`;
-- reverse: create index "message_conversation_id_client_message_id" to table: "messages"
DROP INDEX `message_conversation_id_client_message_id`;
-- reverse: create index "message_company_id" to table: "messages"
DROP INDEX `message_company_id`;
-- reverse: create "new_messages" table
DROP TABLE `new_messages`;
-- reverse: create index "conversation_pending_message_id" to table: "conversations"
DROP INDEX `conversation_pending_message_id`;
-- reverse: create index "conversation_company_id_created_at" to table: "conversations"
DROP INDEX `conversation_company_id_created_at`;
-- reverse: create index "conversation_visitor_id" to table: "conversations"
DROP INDEX `conversation_visitor_id`;
-- reverse: create index "conversation_company_id_status" to table: "conversations"
DROP INDEX `conversation_company_id_status`;
-- reverse: create index "conversation_company_id" to table: "conversations"
DROP INDEX `conversation_company_id`;
-- reverse: create "new_conversations" table
DROP TABLE `new_conversations`;
-- reverse: create index "companies_widget_key_key" to table: "companies"
DROP INDEX `companies_widget_key_key`;
-- reverse: create index "companies_slug_key" to table: "companies"
DROP INDEX `companies_slug_key`;
-- reverse: create "new_companies" table
DROP TABLE `new_companies`;
