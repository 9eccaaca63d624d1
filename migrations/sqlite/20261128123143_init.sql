-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` uuid NOT NULL, `name` text NOT NULL, `prefix` text NOT NULL, `hash` text NOT NULL, `scopes` json NOT NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `created_at` datetime NOT NULL, `company_id` uuid NOT NULL, `created_by_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `api_keys_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `api_keys_users_created_by` FOREIGN KEY (`created_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- create index "api_keys_prefix_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_prefix_key` ON `api_keys` (`prefix`);
-- create index "apikey_company_id" to table: "api_keys"
CREATE INDEX `apikey_company_id` ON `api_keys` (`company_id`);
-- create "chunks" table
CREATE TABLE `chunks` (`id` uuid NOT NULL, `ordinal` integer NOT NULL, `text` text NOT NULL, `heading` text NULL, `page` integer NULL, `url` text NULL, `token_count` integer NOT NULL DEFAULT (0), `company_id` uuid NOT NULL, `resource_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `chunks_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `chunks_resources_resource` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- create index "chunk_company_id" to table: "chunks"
CREATE INDEX `chunk_company_id` ON `chunks` (`company_id`);
-- create index "chunk_resource_id_ordinal" to table: "chunks"
CREATE INDEX `chunk_resource_id_ordinal` ON `chunks` (`resource_id`, `ordinal`);
-- create "companies" table
CREATE TABLE `companies` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, `email` text NOT NULL, `phone` text NULL, `website` text NULL, `logo_url` text NULL, `subscription_plan` text NOT NULL DEFAULT ('FREE'), `is_active` bool NOT NULL DEFAULT (true), `deactivated_at` datetime NULL, `widget_key` text NOT NULL, `brand_color` text NOT NULL DEFAULT ('#4F46E5'), `greeting` text NOT NULL DEFAULT ('Hi! How can we help you today?'), `allowed_origins` json NULL, `identity_secret` text NOT NULL, `require_identity` bool NOT NULL DEFAULT (false), PRIMARY KEY (`id`));
-- create index "companies_slug_key" to table: "companies"
CREATE UNIQUE INDEX `companies_slug_key` ON `companies` (`slug`);
-- create index "companies_widget_key_key" to table: "companies"
CREATE UNIQUE INDEX `companies_widget_key_key` ON `companies` (`widget_key`);
-- create "conversations" table
CREATE TABLE `conversations` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('BOT'), `rating` integer NULL, `rating_comment` text NULL, `last_message_at` datetime NOT NULL, `closed_at` datetime NULL, `company_id` uuid NOT NULL, `visitor_id` uuid NOT NULL, `assignee_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `conversations_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `conversations_visitors_visitor` FOREIGN KEY (`visitor_id`) REFERENCES `visitors` (`id`) ON DELETE NO ACTION, CONSTRAINT `conversations_users_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- create index "conversation_company_id" to table: "conversations"
CREATE INDEX `conversation_company_id` ON `conversations` (`company_id`);
-- create index "conversation_company_id_status" to table: "conversations"
CREATE INDEX `conversation_company_id_status` ON `conversations` (`company_id`, `status`);
-- create index "conversation_visitor_id" to table: "conversations"
CREATE INDEX `conversation_visitor_id` ON `conversations` (`visitor_id`);
-- create "messages" table
CREATE TABLE `messages` (`id` uuid NOT NULL, `sender_type` text NOT NULL, `body` text NOT NULL, `citations` json NULL, `client_message_id` text NULL, `created_at` datetime NOT NULL, `company_id` uuid NOT NULL, `conversation_id` uuid NOT NULL, `sender_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `messages_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE, CONSTRAINT `messages_conversations_conversation` FOREIGN KEY (`conversation_id`) REFERENCES `conversations` (`id`) ON DELETE CASCADE, CONSTRAINT `messages_users_sender` FOREIGN KEY (`sender_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- create index "message_company_id" to table: "messages"
CREATE INDEX `message_company_id` ON `messages` (`company_id`);
-- create index "message_conversation_id_client_message_id" to table: "messages"
CREATE UNIQUE INDEX `message_conversation_id_client_message_id` ON `messages` (`conversation_id`, `client_message_id`);
-- create index "message_conversation_id_created_at" to table: "messages"
CREATE INDEX `message_conversation_id_created_at` ON `messages` (`conversation_id`, `created_at`);
-- create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (`id` uuid NOT NULL, `token_hash` text NOT NULL, `user_id` uuid NULL, `super_admin_id` uuid NULL, `family` uuid NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `revoked_at` datetime NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "refresh_tokens_token_hash_key" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refresh_tokens_token_hash_key` ON `refresh_tokens` (`token_hash`);
-- create index "refreshtoken_family" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_family` ON `refresh_tokens` (`family`);
-- create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_user_id` ON `refresh_tokens` (`user_id`);
-- create index "refreshtoken_super_admin_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_super_admin_id` ON `refresh_tokens` (`super_admin_id`);
-- create "resources" table
CREATE TABLE `resources` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `type` text NOT NULL, `title` text NOT NULL, `source_url` text NULL, `file_path` text NULL, `file_name` text NULL, `extracted_content` text NULL, `metadata` json NULL, `status` text NOT NULL DEFAULT ('PENDING'), `error` text NULL, `is_active` bool NOT NULL DEFAULT (true), `chunk_count` integer NOT NULL DEFAULT (0), `progress` real NOT NULL DEFAULT (0), `company_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `resources_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE);
-- create index "resource_company_id" to table: "resources"
CREATE INDEX `resource_company_id` ON `resources` (`company_id`);
-- create index "resource_company_id_status" to table: "resources"
CREATE INDEX `resource_company_id_status` ON `resources` (`company_id`, `status`);
-- create "super_admins" table
CREATE TABLE `super_admins` (`id` uuid NOT NULL, `username` text NOT NULL, `email` text NOT NULL, `hashed_password` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `is_active` bool NOT NULL DEFAULT (true), `session_version` integer NOT NULL DEFAULT (0), `last_login_at` datetime NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "super_admins_username_key" to table: "super_admins"
CREATE UNIQUE INDEX `super_admins_username_key` ON `super_admins` (`username`);
-- create index "super_admins_email_key" to table: "super_admins"
CREATE UNIQUE INDEX `super_admins_email_key` ON `super_admins` (`email`);
-- create "users" table
CREATE TABLE `users` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `hashed_password` text NOT NULL, `full_name` text NOT NULL, `role` text NOT NULL DEFAULT ('AGENT'), `is_active` bool NOT NULL DEFAULT (true), `session_version` integer NOT NULL DEFAULT (0), `last_seen_at` datetime NULL, `company_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `users_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE);
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- create index "user_company_id" to table: "users"
CREATE INDEX `user_company_id` ON `users` (`company_id`);
-- create "visitors" table
CREATE TABLE `visitors` (`id` uuid NOT NULL, `name` text NULL, `email` text NULL, `external_id` text NULL, `metadata` json NULL, `first_seen_at` datetime NOT NULL, `last_seen_at` datetime NOT NULL, `company_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `visitors_companies_company` FOREIGN KEY (`company_id`) REFERENCES `companies` (`id`) ON DELETE CASCADE);
-- create index "visitor_company_id" to table: "visitors"
CREATE INDEX `visitor_company_id` ON `visitors` (`company_id`);
-- create index "visitor_company_id_external_id" to table: "visitors"
CREATE UNIQUE INDEX `visitor_company_id_external_id` ON `visitors` (`company_id`, `external_id`);

-- +goose Down
-- reverse: create index "visitor_company_id_external_id" to table: "visitors"
DROP INDEX `visitor_company_id_external_id`;
-- reverse: create index "visitor_company_id" to table: "visitors"
DROP INDEX `visitor_company_id`;
-- reverse: create "visitors" table
DROP TABLE `visitors`;
-- reverse: create index "user_company_id" to table: "users"
DROP INDEX `user_company_id`;
-- reverse: create index "users_email_key" to table: "users"
DROP INDEX `users_email_key`;
-- reverse: create "users" table
DROP TABLE `users`;
-- reverse: create index "super_admins_email_key" to table: "super_admins"
DROP INDEX `super_admins_email_key`;
-- reverse: create index "super_admins_username_key" to table: "super_admins"
DROP INDEX `super_admins_username_key`;
-- reverse: create "super_admins" table
DROP TABLE `super_admins`;
-- reverse: create index "resource_company_id_status" to table: "resources"
DROP INDEX `resource_company_id_status`;
-- reverse: create index "resource_company_id" to table: "resources"
DROP INDEX `resource_company_id`;
-- reverse: create "resources" table
DROP TABLE `resources`;
-- reverse: create index "refreshtoken_super_admin_id" to table: "refresh_tokens"
DROP INDEX `refreshtoken_super_admin_id`;
-- reverse: create index "refreshtoken_user_id" to table: "refresh_tokens"
DROP INDEX `refreshtoken_user_id`;
-- reverse: create index "refreshtoken_family" to table: "refresh_tokens"
DROP INDEX `refreshtoken_family`;
-- reverse: create index "refresh_tokens_token_hash_key" to table: "refresh_tokens"
DROP INDEX `refresh_tokens_token_hash_key`;
-- reverse: create "refresh_tokens" table
DROP TABLE `refresh_tokens`;
-- reverse: create index "message_conversation_id_created_at" to table: "messages"
DROP INDEX `message_conversation_id_created_at`;
-- reverse: create index "message_conversation_id_client_message_id" to table: "messages"
DROP INDEX `message_conversation_id_client_message_id`;
-- reverse: create index "message_company_id" to table: "messages"
DROP INDEX `message_company_id`;
-- reverse: create "messages" table
DROP TABLE `messages`;
-- reverse: create index "conversation_visitor_id" to table: "conversations"
DROP INDEX `conversation_visitor_id`;
-- reverse: create index "conversation_company_id_status" to table: "conversations"
DROP INDEX `conversation_company_id_status`;
-- reverse: create index "conversation_company_id" to table: "conversations"
DROP INDEX `conversation_company_id`;
-- reverse: create "conversations" table
DROP TABLE `conversations`;
-- reverse: create index "companies_widget_key_key" to table: "companies"
DROP INDEX `companies_widget_key_key`;
-- reverse: create index "companies_slug_key" to table: "companies"
DROP INDEX `companies_slug_key`;
-- reverse: create "companies" table
DROP TABLE `companies`;
-- reverse: create index "chunk_resource_id_ordinal" to table: "chunks"
DROP INDEX `chunk_resource_id_ordinal`;
-- reverse: create index "chunk_company_id" to table: "chunks"
DROP INDEX `chunk_company_id`;
-- reverse: create "chunks" table
DROP TABLE `chunks`;
-- reverse: create index "apikey_company_id" to table: "api_keys"
DROP INDEX `apikey_company_id`;
-- reverse: create index "api_keys_prefix_key" to table: "api_keys"
DROP INDEX `api_keys_prefix_key`;
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
