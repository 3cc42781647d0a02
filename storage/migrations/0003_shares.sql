-- 0003: accounts shared with group chats (/share in a Telegram group or Discord channel).
-- A group sees only what its members shared with it; the share remembers the forum topic
-- (thread) it was made in, so the group's alerts land in that topic.
CREATE TABLE shares (
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    shared_by   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id   TEXT,
    created_at  REAL NOT NULL,
    PRIMARY KEY (platform, chat_id, account_id)
);
CREATE INDEX shares_account ON shares (account_id);
