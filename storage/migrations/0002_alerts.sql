-- 0002: the alert pipeline: alert episodes and their decisions, silences, chat settings,
-- and what the notifier learns when it sends (the platform's message id).

-- alert_state (0001) kept one row per (rule, account, key) and lost the history; an alert is
-- now one row per episode (pending → firing → resolved), kept for /why and the digests.
DROP TABLE alert_state;

CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY,
    rule_id           INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- What one rule watches inside the account: "" (account level) or "SYMBOL:side".
    key               TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    since             REAL NOT NULL,
    polls             INTEGER NOT NULL DEFAULT 1 CHECK (polls >= 0),
    fired_at          REAL,
    resolved_at       REAL,
    value             REAL,
    worst             REAL,
    notified_value    REAL,
    last_notified_at  REAL,
    acked_at          REAL,
    snoozed_until     REAL,
    reason            TEXT,
    reason_at         REAL
);
-- At most one live episode per (rule, account, key): the evaluator relies on it.
CREATE UNIQUE INDEX alerts_live ON alerts (rule_id, account_id, key)
    WHERE status IN ('pending', 'firing');
CREATE INDEX alerts_account_status ON alerts (account_id, status);
CREATE INDEX alerts_fired ON alerts (fired_at);

-- Every decision that changed something, with its reason: /why reads the latest ones.
CREATE TABLE alert_decisions (
    id        INTEGER PRIMARY KEY,
    alert_id  INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at        REAL NOT NULL,
    reason    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_decisions_alert ON alert_decisions (alert_id, at);

ALTER TABLE alert_rules ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1));

-- Silence by matcher (Alertmanager style): every matcher must equal the alert's label.
CREATE TABLE silences (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    matchers_json  TEXT NOT NULL,
    starts_at      REAL NOT NULL,
    ends_at        REAL NOT NULL CHECK (ends_at > starts_at),
    created_at     REAL NOT NULL
);
CREATE INDEX silences_owner_end ON silences (owner_id, ends_at);

-- Per chat: quiet hours, and whether the platform told us the chat is gone or blocked us.
CREATE TABLE chats (
    platform              TEXT NOT NULL,
    chat_id               TEXT NOT NULL,
    -- Local wall-clock "HH:MM" bounds in quiet_tz; NULL: no quiet hours.
    quiet_from            TEXT,
    quiet_to              TEXT,
    quiet_tz              TEXT NOT NULL DEFAULT 'UTC',
    -- 1: critical alerts still go through during quiet hours (the default).
    quiet_allow_critical  INTEGER NOT NULL DEFAULT 1 CHECK (quiet_allow_critical IN (0, 1)),
    blocked_at            REAL,
    blocked_reason        TEXT,
    PRIMARY KEY (platform, chat_id)
);

-- The platform's id of the sent message, so a resolved notice can edit or reply to its alert.
ALTER TABLE outbox ADD COLUMN message_ref TEXT;
