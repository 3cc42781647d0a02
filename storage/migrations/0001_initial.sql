-- 0001: users, linked accounts, credentials, snapshots, alert rules/state, outbox, digests.
-- Append-only: never edit a released migration, add 0002_… instead.
-- Times are POSIX seconds (REAL). Enum columns (status, platform, severity) carry no CHECK:
-- SQLite cannot change a CHECK without rebuilding the table, and the repositories parse them
-- into StrEnums anyway.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  REAL NOT NULL
);

CREATE TABLE chat_identities (
    platform     TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id      TEXT,
    created_at   REAL NOT NULL,
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX chat_identities_user ON chat_identities (user_id);

CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY,
    owner_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    venue                 TEXT NOT NULL,
    -- NOCASE: "Main" and "main" are the same account to a person typing /positions main.
    label                 TEXT NOT NULL COLLATE NOCASE,
    status                TEXT NOT NULL DEFAULT 'active',
    poll_s                REAL CHECK (poll_s IS NULL OR poll_s >= 1),
    wallet_address        TEXT,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_error            TEXT,
    last_polled_at        REAL,
    created_at            REAL NOT NULL,
    UNIQUE (owner_id, label),
    -- Target of composite foreign keys that pin a row to an account AND its owner.
    UNIQUE (id, owner_id)
);
CREATE INDEX accounts_status ON accounts (status);

-- Already encrypted by the caller (authenticated encryption); key_id names the master key.
CREATE TABLE credentials (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL,
    key_id      TEXT NOT NULL
);

CREATE TABLE account_snapshots (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    taken_at            REAL NOT NULL,
    equity_usd          REAL,
    gross_exposure_usd  REAL,
    net_exposure_usd    REAL,
    effective_leverage  REAL,
    margin_ratio        REAL,
    positions_json      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX account_snapshots_account_taken ON account_snapshots (account_id, taken_at);
-- Retention prunes by age across all accounts.
CREATE INDEX account_snapshots_taken ON account_snapshots (taken_at);

CREATE TABLE alert_rules (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: every account of the owner. Otherwise it must be one of the owner's accounts.
    account_id   INTEGER,
    kind         TEXT NOT NULL,
    params_json  TEXT NOT NULL DEFAULT '{}',
    severity     TEXT NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at   REAL NOT NULL,
    FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX alert_rules_owner ON alert_rules (owner_id);
CREATE INDEX alert_rules_account ON alert_rules (account_id, owner_id);

-- One row per (rule, account, key); key tells apart what one rule watches (e.g. a symbol).
CREATE TABLE alert_state (
    rule_id           INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key               TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    since             REAL NOT NULL,
    last_value        REAL,
    last_notified_at  REAL,
    reason            TEXT,
    PRIMARY KEY (rule_id, account_id, key)
);
CREATE INDEX alert_state_account ON alert_state (account_id);

-- Delivery queue and notification log in one: rows are kept after sending.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    dedup_key        TEXT NOT NULL UNIQUE,
    -- Whose notification this is (for "why was I alerted"); NULL for operator messages.
    owner_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    platform         TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    severity         TEXT NOT NULL,
    payload_json     TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,
    lease_until      REAL,
    created_at       REAL NOT NULL,
    sent_at          REAL,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_owner ON outbox (owner_id, created_at);

CREATE TABLE digest_subscriptions (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform       TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    -- JSON array of account ids; [] means every account of the owner.
    accounts_json  TEXT NOT NULL DEFAULT '[]',
    -- Local wall-clock time "HH:MM" in the IANA zone below.
    local_time     TEXT NOT NULL CHECK (
        length(local_time) = 5 AND local_time GLOB '[0-2][0-9]:[0-5][0-9]'
        AND substr(local_time, 1, 2) <= '23'
    ),
    timezone       TEXT NOT NULL DEFAULT 'UTC',
    created_at     REAL NOT NULL,
    UNIQUE (platform, chat_id, owner_id)
);
