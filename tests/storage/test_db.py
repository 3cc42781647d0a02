"""Database: pragmas, WAL, serialised BEGIN IMMEDIATE transactions, cancellation, reads."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
from storage.errors import StorageCorrupt, StorageError, StorageUnavailable

COUNTER = "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"


async def _make_counter(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(COUNTER)
        await tx.execute("INSERT OR IGNORE INTO counter (id, n) VALUES (1, 0)")


async def _increment(db: Database) -> None:
    """Read-modify-write with a yield in between, so unserialised tasks would lose updates."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT n FROM counter WHERE id = 1")
        assert row is not None
        await asyncio.sleep(0)
        await tx.execute("UPDATE counter SET n = ? WHERE id = 1", (row["n"] + 1,))


async def _count(db: Database) -> int:
    row = await db.fetchone("SELECT n FROM counter WHERE id = 1")
    assert row is not None
    return int(row["n"])


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("synchronous", 1), ("busy_timeout", 5000), ("foreign_keys", 1)],
)
async def test_pragmas_are_set_on_the_write_connection(
    sqlite_db: Database, pragma: str, expected: object
) -> None:
    """Writes run with WAL, synchronous=NORMAL (1), busy_timeout=5000 and foreign keys on."""
    async with sqlite_db.transaction() as tx:
        row = await tx.fetchone(f"PRAGMA {pragma}")
    assert row is not None and row[0] == expected


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("busy_timeout", 5000), ("foreign_keys", 1), ("query_only", 1)],
)
async def test_pragmas_are_set_on_the_read_connection(
    sqlite_db: Database, pragma: str, expected: object
) -> None:
    """The read connection has the same settings and is query-only."""
    row = await sqlite_db.fetchone(f"PRAGMA {pragma}")
    assert row is not None and row[0] == expected


async def test_wal_file_exists_after_a_write(sqlite_db: Database, db_path: Path) -> None:
    """In WAL mode a committed write leaves the -wal file next to the database."""
    await _make_counter(sqlite_db)
    assert Path(f"{db_path}-wal").exists()


async def test_concurrent_transactions_on_one_connection_do_not_interleave(db: Database) -> None:
    """50 tasks each incrementing a counter in a transaction end at exactly 50."""
    await _make_counter(db)
    await asyncio.gather(*(_increment(db) for _ in range(50)))
    assert await _count(db) == 50


async def test_two_connections_to_one_file_do_not_hit_database_is_locked(db_path: Path) -> None:
    """BEGIN IMMEDIATE + busy_timeout: two Database objects writing at once both succeed."""
    async with Database.open(db_path) as one, Database.open(db_path) as two:
        await _make_counter(one)
        await asyncio.gather(*(_increment(db) for db in [one, two] * 25))
        assert await _count(two) == 50


async def test_an_exception_rolls_the_transaction_back(db: Database) -> None:
    """A transaction body that raises leaves nothing behind."""
    await _make_counter(db)
    with pytest.raises(ZeroDivisionError):
        async with db.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 99")
            _ = 1 / 0
    assert await _count(db) == 0


async def test_a_cancelled_transaction_rolls_back_and_frees_the_lock(db: Database) -> None:
    """Cancelling a task mid-transaction undoes its writes; the next transaction proceeds."""
    await _make_counter(db)
    written = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 99")
            written.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(stuck())
    await written.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _count(db) == 0
    await asyncio.wait_for(_increment(db), timeout=5)
    assert await _count(db) == 1


@pytest.mark.parametrize("steps", range(8))
async def test_cancelling_at_any_step_leaves_the_connection_usable(
    db: Database, steps: int
) -> None:
    """Cancelled while queued, in BEGIN, in the body or in COMMIT: later writers still work."""
    await _make_counter(db)
    tasks = [asyncio.create_task(_increment(db)) for _ in range(3)]
    for _ in range(steps):
        await asyncio.sleep(0)
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    finished = sum(1 for r in results if r is None)
    await asyncio.wait_for(_increment(db), timeout=5)
    # A task cancelled while COMMIT was already queued may have committed: count is a range.
    assert finished + 1 <= await _count(db) <= len(tasks) + 1


async def test_reads_do_not_see_uncommitted_writes(db: Database) -> None:
    """db.fetchone reads committed data only, while the transaction itself sees its writes."""
    await _make_counter(db)
    async with db.transaction() as tx:
        await tx.execute("UPDATE counter SET n = 7")
        inside = await tx.fetchone("SELECT n FROM counter")
        assert inside is not None and inside["n"] == 7
        assert await _count(db) == 0
    assert await _count(db) == 7


async def test_nested_transaction_in_the_same_task_is_refused(db: Database) -> None:
    """Opening a transaction inside another in the same task raises instead of deadlocking."""
    async with db.transaction():
        with pytest.raises(RuntimeError, match="nested"):
            async with db.transaction():
                pass


async def test_a_transaction_cannot_be_used_after_it_ended(db: Database) -> None:
    """Statements on a finished Transaction raise StorageError (they would run outside it)."""
    async with db.transaction() as tx:
        pass
    with pytest.raises(StorageError, match="after it ended"):
        await tx.execute("SELECT 1")


async def test_in_memory_database_is_refused() -> None:
    """':memory:' would give each connection its own database, so it is refused."""
    with pytest.raises(StorageError, match="memory"):
        await Database.open(":memory:")


async def test_open_is_awaitable_as_well_as_a_context_manager(db_path: Path) -> None:
    """`await Database.open(p)` returns an open database the caller closes."""
    db = await Database.open(db_path)
    try:
        assert await db.schema_version() >= 1
    finally:
        await db.close()


async def test_an_unopenable_path_raises_storage_error(tmp_path: Path) -> None:
    """A database path in a missing directory fails with the path in a StorageError."""
    with pytest.raises(StorageError, match="no-such-dir"):
        await Database.open(tmp_path / "no-such-dir" / "x.db")


async def test_a_lock_held_past_the_busy_timeout_is_storage_unavailable(db_path: Path) -> None:
    """Another process holding the write lock too long: one sentence naming the file and what
    to do, nothing written; the same write succeeds once the lock is gone."""
    async with Database.open(db_path, busy_timeout_s=0.2) as db:
        await _make_counter(db)
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageUnavailable, match=f"{db_path} is locked by another"):
                await _increment(db)
        finally:
            other.rollback()
            other.close()
        await _increment(db)
        row = await db.fetchone("SELECT n FROM counter")
        assert row is not None and row["n"] == 1


async def test_a_file_that_is_not_a_database_is_storage_corrupt(tmp_path: Path) -> None:
    """A text file (a wrong LIQWATCH_DB) is named as such, not a sqlite3 traceback."""
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StorageCorrupt, match="is not a liqwatch database or is damaged"):
        await Database.open(path)
