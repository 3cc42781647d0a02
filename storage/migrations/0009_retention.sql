-- 0009: retention of the outbox, alert log, silences and codes; digest charts out of the outbox row (issue 13 item 8).

-- A digest's charts (~140 KB of PNG) are needed only to send it: they live beside its outbox
-- row, not in payload_json, and go as soon as the row is sent or dead-lettered. The row keeps
-- its text (the log of what was said); the pictures are not worth a year of disk.
CREATE TABLE outbox_charts (
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    -- Order in the digest: exposure, ladder, equity.
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    png        BLOB NOT NULL,
    PRIMARY KEY (outbox_id, position)
);

-- A trigger, not a call in each repository method: every way a row leaves 'pending' (sent,
-- dead, a whole chat dead-lettered, a corrupt payload found at claim) drops its charts in the
-- same transaction, including ways added later.
CREATE TRIGGER outbox_charts_done AFTER UPDATE OF status ON outbox
    WHEN NEW.status != 'pending'
BEGIN
    DELETE FROM outbox_charts WHERE outbox_id = NEW.id;
END;

-- Digests already sent or given up by an older liqwatch carry their charts as base64 in the
-- payload: drop them once here. Pending ones keep them and still send with their charts.
-- CASE, not AND: json_extract must not run on a corrupt payload (it would fail the migration).
UPDATE outbox SET payload_json = json_set(payload_json, '$.charts', json('[]'))
WHERE status != 'pending' AND CASE WHEN json_valid(payload_json)
    THEN json_extract(payload_json, '$.kind') = 'digest'
        AND json_array_length(payload_json, '$.charts') > 0
    ELSE 0 END;

-- The daily retention job's queries: each reads only what is due, through these.
CREATE INDEX outbox_done_created ON outbox (created_at) WHERE status != 'pending';
CREATE INDEX alerts_resolved_at ON alerts (resolved_at) WHERE status = 'resolved';
CREATE INDEX silences_ends ON silences (ends_at);
CREATE INDEX connect_codes_expires ON connect_codes (expires_at);
