-- 0004: one-time codes that join a second platform identity (Telegram ↔ Discord) to a user,
-- so both chats share the same accounts, rules and alerts (/connect).
CREATE TABLE connect_codes (
    code        TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  REAL NOT NULL
);
