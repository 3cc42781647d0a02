-- 0006: realised PnL and funding payments per account, as the venue reported them, for the
-- digest's "over the day" lines. Amounts are from the trader's side (+ received / profit,
-- - paid / loss) in the settle currency; the venue's own id makes re-reads idempotent.
CREATE TABLE account_flows (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    ref         TEXT NOT NULL,
    at          REAL NOT NULL,
    symbol      TEXT NOT NULL DEFAULT '',
    currency    TEXT NOT NULL,
    amount      REAL NOT NULL,
    PRIMARY KEY (account_id, kind, ref)
);
CREATE INDEX account_flows_at ON account_flows (account_id, at);
CREATE INDEX account_flows_pruned ON account_flows (at);

-- The window of time whose flows are stored whole, per account and kind: a sum over a day is
-- only a day's sum if the day is inside it (a failed read leaves a gap, not a quiet day).
CREATE TABLE account_flow_coverage (
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    covered_from  REAL NOT NULL,
    covered_to    REAL NOT NULL,
    PRIMARY KEY (account_id, kind)
);
