-- +goose Up
-- Rate buckets are transient: a crash may refill them, which is harmless,
-- and unlogged they cost no WAL flush. Every message takes two tokens (its
-- visitor's and its company's), and the company's bucket is one row that
-- all replicas update: with a flush for each take, that row serialised the
-- platform's messages at about a millisecond each.
ALTER TABLE "rate_buckets" SET UNLOGGED;

-- +goose Down
ALTER TABLE "rate_buckets" SET LOGGED;
