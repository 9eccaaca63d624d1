-- +goose Up
-- modify "conversations" table
ALTER TABLE "conversations" DROP COLUMN "reply_lease_until";

-- +goose Down
-- reverse: modify "conversations" table
ALTER TABLE "conversations" ADD COLUMN "reply_lease_until" timestamptz NULL;
