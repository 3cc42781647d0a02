"""On PostgreSQL a worker that queues outbox rows wakes every worker's idle notifier at once
(NOTIFY at commit, LISTEN on a connection of its own); a rolled-back or duplicate enqueue wakes
no one. Skipped without a server."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database
from storage.outbox import OUTBOX_CHANNEL, Outbox
from tests.postgres import postgres_schema
from tests.storage.test_outbox import NOW, enqueue, message


async def test_a_queued_row_wakes_another_workers_notifier() -> None:
    async with postgres_schema() as url, Database.open(url) as one, Database.open(url) as two:
        woken = asyncio.Event()
        calls: list[int] = []

        def wake() -> None:
            calls.append(1)
            woken.set()

        await two.listen(OUTBOX_CHANNEL, wake)  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError):
            async with one.transaction() as tx:
                await Outbox(tx.db).enqueue([message(key="k-1")], now=NOW, tx=tx)
                raise RuntimeError("rolled back: nothing was queued")
        await asyncio.sleep(0.3)
        assert calls == []
        assert await enqueue(one, message(key="k-1")) == 1
        await asyncio.wait_for(woken.wait(), timeout=2)
        woken.clear()
        assert await enqueue(one, message(key="k-1")) == 0  # a duplicate: nothing new
        await asyncio.sleep(0.3)
        assert calls == [1]
