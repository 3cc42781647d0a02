"""`liqwatch migrate-db`: a seeded SQLite database (every table, NULLs, bytes, unicode) copied
into an empty PostgreSQL database row for row; counts printed and compared; ids kept and the
identities moved past them; a non-empty target refused; the copy read back through the
repositories."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.ops.migrate_db import migrate_db
from storage import StorageError
from storage.accounts import Accounts
from storage.copy import TABLES
from storage.db import Database
from tests.postgres import postgres_schema

NOW = 1_700_000_000.0
CIPHERTEXT = bytes(range(256)) * 3  # every byte value: nothing may be re-encoded on the way
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 100

SEED = [
    ("INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)", (1, "Zoë 🚀", NOW)),
    ("INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)", (7, "bob", NOW + 0.5)),
    (
        "INSERT INTO chat_identities VALUES (?, ?, ?, ?, ?)",
        ("telegram", "1001", 1, "1001", NOW),
    ),
    (
        "INSERT INTO accounts (id, owner_id, venue, label, status, poll_s, wallet_address,"
        " consecutive_failures, last_error, last_polled_at, created_at, poll_band, poll_every_s,"
        " poll_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (3, 1, "binanceusdm", "Main", "active", None, None, 0, None, NOW, NOW, "near", 5.0, "r"),
    ),
    (
        "INSERT INTO accounts (id, owner_id, venue, label, wallet_address, created_at,"
        " consecutive_failures, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (9, 7, "hyperliquid", "hl-7a3f", "0x" + "ab" * 20, NOW, 4, "HTTP 503 «down»"),
    ),
    ("INSERT INTO credentials VALUES (?, ?, ?, ?)", (3, CIPHERTEXT, "k-2024", 1)),
    (
        "INSERT INTO account_snapshots (account_id, taken_at, equity_usd, gross_exposure_usd,"
        " net_exposure_usd, effective_leverage, margin_ratio, positions_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (3, NOW, 10000.123456789, 50000.0, -1e-9, 5.0, None, '[{"symbol": "BTC/USDT:USDT"}]'),
    ),
    (
        "INSERT INTO alert_rules (id, owner_id, account_id, kind, params_json, severity,"
        " enabled, created_at, is_default) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (5, 1, 3, "liq_distance", '{"op": "<", "threshold": 5}', "critical", 1, NOW, 0),
    ),
    (
        "INSERT INTO alerts (id, rule_id, account_id, key, status, since, polls, value, worst)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (11, 5, 3, "BTC/USDT:USDT:long", "firing", NOW, 3, 4.2, 3.9),
    ),
    ("INSERT INTO alert_decisions (alert_id, at, reason) VALUES (?, ?, ?)", (11, NOW, "first")),
    (
        "INSERT INTO silences (owner_id, matchers_json, starts_at, ends_at, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (1, '{"symbol": "BTC"}', NOW, NOW + 3600, NOW),
    ),
    (
        "INSERT INTO chats (platform, chat_id, quiet_from, quiet_to, quiet_tz)"
        " VALUES (?, ?, ?, ?, ?)",
        ("telegram", "1001", "22:00", "07:00", "Europe/Paris"),
    ),
    (
        "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?)",
        ("telegram", "-100200", 3, 1, None, NOW),
    ),
    (
        "INSERT INTO outbox (id, dedup_key, owner_id, platform, chat_id, severity, payload_json,"
        " status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            20,
            "digest:1",
            1,
            "telegram",
            "1001",
            "info",
            '{"kind": "digest"}',
            "pending",
            0,
            NOW,
            NOW,
        ),
    ),
    ("INSERT INTO outbox_charts VALUES (?, ?, ?, ?, ?)", (20, 0, "equity", "Equity", PNG)),
    (
        "INSERT INTO digest_subscriptions (owner_id, platform, chat_id, local_time, timezone,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (1, "telegram", "1001", "08:30", "Asia/Tokyo", NOW),
    ),
    (
        "INSERT INTO account_flows VALUES (?, ?, ?, ?, ?, ?, ?)",
        (9, "funding", "1700000000000:ETH", NOW, "ETH/USDC:USDC", "USDC", -0.125),
    ),
    ("INSERT INTO account_flow_coverage VALUES (?, ?, ?, ?)", (9, "funding", NOW - 86400, NOW)),
    ("INSERT INTO connect_codes VALUES (?, ?, ?)", ("ab" * 32, 7, NOW + 600)),
    ("INSERT INTO connect_failures VALUES (?, ?, ?)", ("telegram", "666", NOW)),
    (
        "INSERT INTO venue_status (venue, stream, last_tick_at, reported_at) VALUES (?, ?, ?, ?)",
        ("binanceusdm", "live", NOW, NOW),
    ),
]


@pytest.fixture
async def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "liqwatch.db"
    async with Database.open(path) as db, db.transaction() as tx:
        for sql, params in SEED:
            await tx.execute(sql, params)
    return path


@pytest.fixture
async def target() -> AsyncIterator[str]:
    async with postgres_schema() as url:
        yield url


async def _rows(db: Database, table: str) -> list[tuple[object, ...]]:
    rows = await db.fetchall(f"SELECT * FROM {table}")
    return sorted((tuple(r) for r in rows), key=repr)


def test_the_copy_knows_every_table() -> None:
    """A table added by a migration and forgotten here would be left behind."""
    import sqlite3

    from storage.migrate import load_migrations, split_statements

    conn = sqlite3.connect(":memory:")
    for migration in load_migrations():
        for statement in split_statements(migration.sql, name=migration.name):
            conn.execute(statement)
    found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(TABLES) == found


async def test_migrate_db_copies_every_row_and_compares_the_counts(
    seeded: Path, target: str
) -> None:
    printed = await migrate_db(str(seeded), target)
    assert "every table's count matches" in printed
    assert re.search(r"^accounts +2 +2$", printed, re.M), printed
    async with Database.open(seeded) as sqlite, Database.open(target) as pg:
        for table in TABLES:
            assert await _rows(pg, table) == await _rows(sqlite, table), table
        # The identities moved past the copied ids: a new account gets a fresh one.
        added = await Accounts(pg).add(1, "okx", "second", now=NOW)
        assert added.id == 10
        found = await Accounts(pg).get(1, 3)
        assert found is not None and found.label == "Main"
        row = await pg.fetchone("SELECT ciphertext FROM credentials WHERE account_id = 3")
        assert row is not None and bytes(row[0]) == CIPHERTEXT
        assert not math.isnan(float((await _rows(pg, "account_snapshots"))[0][3]))


async def test_a_target_with_rows_is_refused_and_left_alone(seeded: Path, target: str) -> None:
    await migrate_db(str(seeded), target)
    with pytest.raises(StorageError, match="already holds rows") as refused:
        await migrate_db(str(seeded), target)
    assert "2 accounts" in str(refused.value)
    async with Database.open(target) as pg:
        assert len(await _rows(pg, "accounts")) == 2


def test_bad_arguments_get_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.db"
    assert main(["migrate-db", "--from", str(missing), "--to", "postgresql://x@h/db"]) == 2
    assert "--from must be an existing SQLite database file" in capsys.readouterr().err
    missing.write_bytes(b"")
    assert main(["migrate-db", "--from", str(missing), "--to", "other.db"]) == 2
    assert "--to must be a postgresql:// URL" in capsys.readouterr().err
