-- 0007: /connect codes are kept only as SHA-256 hashes, never in plaintext, and wrong codes
-- are counted per chat identity so that guessing one is rate-limited (issue 13 item 7).

-- A code lives ten minutes and cannot be hashed in SQL: the plaintext codes still pending are
-- dropped with the table (their owners send /connect again for a new one). secure_delete
-- zeroes the freed pages, so no code is left in the file (most builds have it on already;
-- it holds for this connection only). The retention job deletes expired codes by
-- expires_at, so that column keeps its name.
PRAGMA secure_delete = ON;
DELETE FROM connect_codes;
DROP TABLE connect_codes;
CREATE TABLE connect_codes (
    -- hex SHA-256 of the code as typed after normalising (upper case, no dashes).
    code_hash   TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  REAL NOT NULL
);
CREATE INDEX connect_codes_user ON connect_codes (user_id);

-- One row per wrong (unknown or expired) code an identity sent; rows older than the counting
-- window are deleted whenever a code is tried, so the table stays small without a job.
CREATE TABLE connect_failures (
    platform     TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    at           REAL NOT NULL
);
CREATE INDEX connect_failures_identity ON connect_failures (platform, external_id, at);
CREATE INDEX connect_failures_at ON connect_failures (at);
