-- 0016: how often an outbox row was claimed again after an earlier claim lapsed unrecorded
-- (docs/storage.md#workers). A claim whose lease expires without an outcome written belongs to
-- a notifier that died (or lost the database) holding the row, perhaps after the platform took
-- it: the next claim may send it a second time. Delivery stays at-least-once; this counts the
-- "more than once" that can result, per row, so an operator can see it (and /metrics counts it).
ALTER TABLE outbox ADD COLUMN redeliveries INTEGER NOT NULL DEFAULT 0;
