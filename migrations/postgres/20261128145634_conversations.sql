-- +goose Up
-- modify "companies" table
ALTER TABLE "companies" ADD COLUMN "assistant_name" character varying NOT NULL DEFAULT 'Assistant', ADD COLUMN "assistant_tone" character varying NULL, ADD COLUMN "auto_handoff" boolean NOT NULL DEFAULT true, ADD COLUMN "business_hours" jsonb NULL, ADD COLUMN "away_message" character varying NULL;
-- modify "conversations" table
ALTER TABLE "conversations" ADD COLUMN "last_seq" bigint NOT NULL DEFAULT 0, ADD COLUMN "last_message_preview" character varying NULL, ADD COLUMN "human_requested_at" timestamptz NULL, ADD COLUMN "pending_message_id" uuid NULL, ADD COLUMN "reply_lease_until" timestamptz NULL, ADD COLUMN "language" character varying NULL;
-- create index "conversation_company_id_created_at" to table: "conversations"
CREATE INDEX "conversation_company_id_created_at" ON "conversations" ("company_id", "created_at");
-- create index "conversation_pending_message_id" to table: "conversations"
CREATE INDEX "conversation_pending_message_id" ON "conversations" ("pending_message_id");
-- modify "messages" table
ALTER TABLE "messages" ADD COLUMN "seq" bigint NOT NULL, ADD COLUMN "sender_name" character varying NULL, ADD COLUMN "outcome" character varying NULL, ADD COLUMN "confidence" double precision NULL, ADD COLUMN "reply_to_id" uuid NULL;
-- create index "message_company_id_created_at" to table: "messages"
CREATE INDEX "message_company_id_created_at" ON "messages" ("company_id", "created_at");
-- create index "message_conversation_id_seq" to table: "messages"
CREATE UNIQUE INDEX "message_conversation_id_seq" ON "messages" ("conversation_id", "seq");
-- modify "users" table
ALTER TABLE "users" ADD COLUMN "online_until" timestamptz NULL, ADD COLUMN "last_assigned_at" timestamptz NULL;

-- +goose Down
-- reverse: modify "users" table
ALTER TABLE "users" DROP COLUMN "last_assigned_at", DROP COLUMN "online_until";
-- reverse: create index "message_conversation_id_seq" to table: "messages"
DROP INDEX "message_conversation_id_seq";
-- reverse: create index "message_company_id_created_at" to table: "messages"
DROP INDEX "message_company_id_created_at";
-- reverse: modify "messages" table
ALTER TABLE "messages" DROP COLUMN "reply_to_id", DROP COLUMN "confidence", DROP COLUMN "outcome", DROP COLUMN "sender_name", DROP COLUMN "seq";
-- reverse: create index "conversation_pending_message_id" to table: "conversations"
DROP INDEX "conversation_pending_message_id";
-- reverse: create index "conversation_company_id_created_at" to table: "conversations"
DROP INDEX "conversation_company_id_created_at";
-- reverse: modify "conversations" table
ALTER TABLE "conversations" DROP COLUMN "language", DROP COLUMN "reply_lease_until", DROP COLUMN "pending_message_id", DROP COLUMN "human_requested_at", DROP COLUMN "last_message_preview", DROP COLUMN "last_seq";
-- reverse: modify "companies" table
ALTER TABLE "companies" DROP COLUMN "away_message", DROP COLUMN "business_hours", DROP COLUMN "auto_handoff", DROP COLUMN "assistant_tone", DROP COLUMN "assistant_name";
