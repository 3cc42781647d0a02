"""Migrations: packaged files, idempotent reopen, atomic failure, newer schema refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
from storage.errors import MigrationError, SchemaTooNewError
from storage.migrate import Migration, check_sequence, load_migrations, split_statements

TABLES = {
    "users",
    "venue_status",
    "shares",
    "connect_codes",
    "connect_failures",
    "chat_identities",
    "accounts",
    "credentials",
    "account_snapshots",
    "account_flows",
    "account_flow_coverage",
    "alert_rules",
    "alerts",
    "alert_decisions",
    "silences",
    "chats",
    "outbox",
    "outbox_charts",
    "digest_subscriptions",
    "workers",
    "account_leases",
}


def _schema(path: Path) -> tuple[int, list[tuple[str, str]]]:
    """user_version and every schema object, read with plain sqlite3 outside the app."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        objects = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    return int(version), objects


def test_packaged_migrations_are_found_through_importlib() -> None:
    """load_migrations reads storage/migrations/*.sql as package data, numbered from 1."""
    migrations = load_migrations()
    assert migrations[0] == Migration(1, "0001_initial.sql", migrations[0].sql)
    assert "CREATE TABLE accounts" in migrations[0].sql


async def test_a_new_database_gets_every_table(db: Database) -> None:
    """Opening a new database creates every table, at the last migration's version (on
    PostgreSQL: the baseline standing for 0001-0014, then the later ones)."""
    if db.dialect == "postgres":
        rows = await db.fetchall(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name != 'liqwatch_schema'"
        )
    else:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {row["name"] for row in rows} == TABLES
    assert await db.schema_version() == len(load_migrations())


async def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    """A second open of a migrated file leaves version and schema exactly as they were."""
    async with Database.open(db_path):
        pass
    before = _schema(db_path)
    async with Database.open(db_path):
        pass
    assert _schema(db_path) == before


async def test_an_added_migration_is_applied_on_the_next_open(db_path: Path) -> None:
    """An appended migration runs once and moves user_version to its number."""
    async with Database.open(db_path):
        pass
    n = len(load_migrations()) + 1
    extra = Migration(n, f"{n:04d}_extra.sql", "CREATE TABLE extra (a INTEGER);")
    async with Database.open(db_path, migrations=[*load_migrations(), extra]) as db:
        assert await db.schema_version() == n
        assert await db.fetchone("SELECT count(*) FROM extra") is not None


async def test_a_failing_migration_leaves_version_and_schema_intact(db_path: Path) -> None:
    """A migration failing half-way rolls back its DDL and user_version, naming the file."""
    async with Database.open(db_path):
        pass
    before = _schema(db_path)
    n = len(load_migrations()) + 1
    broken = Migration(
        n,
        f"{n:04d}_broken.sql",
        "CREATE TABLE half (a INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    )
    with pytest.raises(MigrationError, match=rf"{n:04d}_broken\.sql"):
        await Database.open(db_path, migrations=[*load_migrations(), broken])
    assert _schema(db_path) == before


async def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    """user_version above the last known migration: open raises SchemaTooNewError."""
    async with Database.open(db_path) as db, db.transaction() as tx:
        await tx.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNewError, match="schema version 99"):
        await Database.open(db_path)


def test_a_gap_in_the_numbering_is_rejected() -> None:
    """Migrations must be numbered 1..N: a missing number is an error, not a skipped step."""
    with pytest.raises(MigrationError, match=r"0003_late\.sql"):
        check_sequence([Migration(1, "0001_a.sql", ""), Migration(3, "0003_late.sql", "")])


def test_split_keeps_semicolons_inside_string_literals() -> None:
    """A ';' inside a quoted string does not end the statement."""
    sql = "INSERT INTO t VALUES ('a;b');\nINSERT INTO t VALUES ('c');\n"
    assert split_statements(sql) == [
        "INSERT INTO t VALUES ('a;b');",
        "INSERT INTO t VALUES ('c');",
    ]


def test_split_keeps_a_trigger_body_whole() -> None:
    """CREATE TRIGGER … BEGIN …; …; END; is one statement."""
    trigger = (
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET a = 1; UPDATE t SET b = 2;\nEND;"
    )
    assert split_statements(f"-- lead; comment\n{trigger}\n") == [f"-- lead; comment\n{trigger}"]


def test_split_rejects_an_unterminated_statement() -> None:
    """A trailing statement without ';' is an error naming the file, not silently run."""
    with pytest.raises(MigrationError, match=r"0009_x\.sql"):
        split_statements("CREATE TABLE a (x);\nCREATE TABLE b (y)", name="0009_x.sql")


def test_split_rejects_transaction_control() -> None:
    """A migration may not COMMIT: the runner owns the transaction."""
    with pytest.raises(MigrationError, match="transaction control"):
        split_statements("CREATE TABLE a (x);\nCOMMIT;\n")
