-- +goose NO TRANSACTION
-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_conversations" table
CREATE TABLE `new_conversations` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('BOT'), `rating` integer NULL, `rating_comment` text NULL, `last_message_at` datetime NOT NULL, `closed_at` datetime NULL, `last_seq` integer NOT NULL DEFAULT (0), `last_message_preview` text NULL, `human_requested_at` datetime NULL, `pending_message_id` uuid NULL, `language` text NULL, `company_id` uuid NOT NULL, `visitor_id` uuid NOT NULL, `assignee_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `conversations_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `conversations_visitors_visitor` FOREIGN KEY (`visitor_id`) REFERENCES `visitors` (`id`) ON DELETE NO ACTION, CONSTRAINT `conversations_users_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- copy rows from old table "conversations" to new temporary table "new_conversations"
INSERT INTO `new_conversations` (`id`, `created_at`, `updated_at`, `status`, `rating`, `rating_comment`, `last_message_at`, `closed_at`, `last_seq`, `last_message_preview`, `human_requested_at`, `pending_message_id`, `language`, `company_id`, `visitor_id`, `assignee_id`) SELECT `id`, `created_at`, `updated_at`, `status`, `rating`, `rating_comment`, `last_message_at`, `closed_at`, `last_seq`, `last_message_preview`, `human_requested_at`, `pending_message_id`, `language`, `company_id`, `visitor_id`, `assignee_id` FROM `conversations`;
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
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
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
