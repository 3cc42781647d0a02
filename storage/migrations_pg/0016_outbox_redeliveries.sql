-- 0016 on PostgreSQL (storage/migrations/0016_outbox_redeliveries.sql says why): the same
-- column in PostgreSQL's types.
ALTER TABLE outbox ADD COLUMN redeliveries BIGINT NOT NULL DEFAULT 0;
