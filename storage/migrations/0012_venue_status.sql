-- 0012: what the running service last saw of each venue, for operators (`/status`,
-- `liqwatch accounts list`, which runs in another process): its mark stream's state, the age
-- of its last tick, its REST budget use and its polls. `liqwatch run` replaces every row every
-- few seconds; reported_at says how fresh they are (a stopped service leaves them aging).
CREATE TABLE venue_status (
    venue TEXT PRIMARY KEY,
    stream TEXT NOT NULL CHECK (stream IN ('live', 'degraded', 'off')),
    -- Unix seconds of the venue's last mark tick, stream or REST (NULL: none yet).
    last_tick_at REAL,
    symbols INTEGER NOT NULL DEFAULT 0 CHECK (symbols >= 0),
    stale INTEGER NOT NULL DEFAULT 0 CHECK (stale >= 0),
    reconnects INTEGER NOT NULL DEFAULT 0 CHECK (reconnects >= 0),
    -- ccxt cost units spent in the last minute, and what ccxt lets through a minute (NULL:
    -- no REST request yet, or a simulated venue).
    rest_per_min REAL,
    rest_limit_per_min REAL,
    -- 1: the limit is the IP's, shared by every account; 0: each key's (the busiest shown).
    rest_per_ip INTEGER,
    polls_per_min REAL NOT NULL DEFAULT 0,
    accounts INTEGER NOT NULL DEFAULT 0,
    reported_at REAL NOT NULL
);
