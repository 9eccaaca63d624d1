-- +goose Up
-- modify "resources" table
ALTER TABLE "resources" ADD COLUMN "sync_interval" character varying NOT NULL DEFAULT 'NEVER', ADD COLUMN "last_synced_at" timestamptz NULL, ADD COLUMN "next_sync_at" timestamptz NULL;
-- create index "resource_next_sync_at" to table: "resources"
CREATE INDEX "resource_next_sync_at" ON "resources" ("next_sync_at");

-- +goose Down
-- reverse: create index "resource_next_sync_at" to table: "resources"
DROP INDEX "resource_next_sync_at";
-- reverse: modify "resources" table
ALTER TABLE "resources" DROP COLUMN "next_sync_at", DROP COLUMN "last_synced_at", DROP COLUMN "sync_interval";
