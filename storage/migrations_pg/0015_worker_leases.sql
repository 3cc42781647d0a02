-- 0015 on PostgreSQL (storage/migrations/0015_worker_leases.sql says why): the same tables in
-- PostgreSQL's types.
CREATE TABLE workers (
    id          TEXT PRIMARY KEY,
    started_at  DOUBLE PRECISION NOT NULL,
    seen_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE account_leases (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);

CREATE INDEX account_leases_owner ON account_leases (owner);
