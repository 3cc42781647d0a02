"""The database refusing the notifier (locked past busy_timeout): retried in place, the loop
lives on, every message is delivered once the lock is gone, and none twice."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.notifier import Notifier
from engine.domain import Platform
from storage.db import Database
from storage.outbox import Outbox, OutboxStatus
from tests.bot.delivery.conftest import enqueue
from tests.fakes.channel import FakeChannel
from tests.fakes.notices import message


@pytest.fixture
async def quick_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A database whose writes give up on a foreign lock after 0.1 s (production: 5 s)."""
    async with Database.open(tmp_path / "liqwatch.db", busy_timeout_s=0.1) as database:
        yield database


def _lock(db: Database) -> sqlite3.Connection:
    """Another process's writer holding SQLite's write lock (a backup, the CLI)."""
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _unlock(other: sqlite3.Connection) -> None:
    other.rollback()
    other.close()


async def _until(predicate: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_locked_claim_does_not_end_the_loop(quick_db: Database) -> None:
    """Rows queued while the database is locked go out once it is released; run() lives."""
    channel = FakeChannel(Platform.TELEGRAM, clock=time.time)
    for chat in ("1", "2", "3"):
        await enqueue(quick_db, message(chat, key=f"k{chat}"))
    other = _lock(quick_db)
    notifier = Notifier(quick_db, {Platform.TELEGRAM: channel}, global_per_s=float("inf"))
    task = asyncio.create_task(notifier.run())
    try:
        await asyncio.sleep(1.0)
        assert not task.done() and channel.sent == []
        assert notifier.storage_failing_since is not None
        _unlock(other)
        await _until(lambda: len(channel.sent) == 3)
        await _until(lambda: notifier.stats.sent == 3)
        assert notifier.storage_failing_since is None and not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    counts = await Outbox(quick_db).counts()
    assert counts[OutboxStatus.SENT] == 3 and notifier.stats.storage_errors > 0


async def test_sends_that_cannot_be_recorded_are_recorded_later_and_not_resent(
    quick_db: Database,
) -> None:
    """Claimed rows go out while the database is locked; their outcome waits in the send
    task (retried), is written once the lock clears, and nothing is sent twice."""
    channel = FakeChannel(Platform.TELEGRAM, clock=time.time)
    hold = channel.hold("7")
    for n in range(4):
        await enqueue(quick_db, message("7", key=f"m{n}"))
    notifier = Notifier(quick_db, {Platform.TELEGRAM: channel}, global_per_s=float("inf"))
    task = asyncio.create_task(notifier.run())
    try:
        await _until(lambda: len(channel.calls) == 1)  # claimed, the first send is waiting
        other = _lock(quick_db)
        hold.set()
        await _until(lambda: len(channel.sent) == 4)  # sends go on without the database
        await asyncio.sleep(0.5)
        assert notifier.stats.sent == 0 and not task.done()
        _unlock(other)
        await _until(lambda: notifier.stats.sent == 4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    counts = await Outbox(quick_db).counts()
    assert counts[OutboxStatus.SENT] == 4 and len(channel.calls) == 4
