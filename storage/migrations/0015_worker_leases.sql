-- 0015: several `liqwatch run` workers on one PostgreSQL database share the accounts by lease
-- (docs/storage.md#workers). A worker is "host:pid"; it says it is alive in `workers` and holds
-- each account it polls in `account_leases` until `expires_at`, renewing while it lives. A
-- worker killed with kill -9 stops renewing, and the others claim its accounts once the leases
-- expire. On SQLite (one process per file) the tables stay empty.
CREATE TABLE workers (
    id          TEXT PRIMARY KEY,
    started_at  REAL NOT NULL,
    seen_at     REAL NOT NULL
);

CREATE TABLE account_leases (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,
    expires_at  REAL NOT NULL
);

CREATE INDEX account_leases_owner ON account_leases (owner);
