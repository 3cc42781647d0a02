"""PostgreSQL connections lost and opened again (a network cut, a server restart): the write
connection reopens at its next use with its session locks taken again, a lead another worker
took meanwhile is told, and the LISTEN connection reopens by itself. Skipped without a server."""

from __future__ import annotations

import asyncio
import time

from storage import Database, StorageUnavailable
from storage.postgres import HOLD_KEY, PgDatabase
from tests.postgres import postgres_schema

LEAD = 7749901


async def _backend(db: Database) -> int:
    """The server pid of ``db``'s write connection."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT pg_backend_pid()")
    assert row is not None
    return int(row[0])


async def _write_again(db: Database) -> int:
    """The write connection's server pid once a transaction works again (the first use of a
    connection the server dropped fails: that statement is lost, the next reconnects)."""
    try:
        return await _backend(db)
    except StorageUnavailable:
        return await _backend(db)


async def _until(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_the_write_connection_reopens_with_its_locks_and_a_lost_lead_is_told() -> None:
    async with postgres_schema() as url, Database.open(url) as db, Database.open(url) as other:
        assert isinstance(db, PgDatabase) and isinstance(other, PgDatabase)
        lost: list[int] = []
        db.on_lead_lost = lost.append
        await db.hold("run", shared=True)
        assert await db.try_lead(LEAD) and not await other.try_lead(LEAD)
        before = await _backend(db)
        await other.fetchone("SELECT pg_terminate_backend(?)", (before,))

        async def other_leads() -> bool:
            return await other.try_lead(LEAD)

        await _until(other_leads, "the dead session's lead is free")
        after = await _write_again(db)
        assert after != before and lost == [LEAD]
        held = await other.fetchone(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ?"
            " AND pid = ? AND mode = 'ShareLock' AND granted",
            (HOLD_KEY, after),
        )
        assert held is not None and held[0] == 1, "the shared run lock was not taken again"


async def test_the_listen_connection_reopens_and_wakes_its_listeners() -> None:
    async with postgres_schema() as url, Database.open(url) as db, Database.open(url) as other:
        assert isinstance(db, PgDatabase)
        woken = asyncio.Event()
        await db.listen("lw_test_channel", woken.set)
        listener = db._listener
        assert listener is not None
        await other.fetchone("SELECT pg_terminate_backend(?)", (listener.get_server_pid(),))
        # Reopened, it wakes its listeners once (notifications meanwhile were missed) …
        await asyncio.wait_for(woken.wait(), timeout=10)
        assert db._listener is not listener
        woken.clear()
        # … and hears the next notification.
        async with other.transaction() as tx:
            await tx.execute("SELECT pg_notify('lw_test_channel', '')")
        await asyncio.wait_for(woken.wait(), timeout=10)
