"""Redeliveries (migration 0016): a claim that takes a row over from a lapsed lease is counted,
on the row and per platform, because the lapsed holder may already have sent it."""

from __future__ import annotations

import asyncio

from engine.domain import Platform
from storage.db import Database
from storage.outbox import Outbox
from tests.fakes.notices import message
from tests.postgres import postgres_schema

NOW = 1_700_000_000.0


async def _queue(db: Database, *keys: str, platform: Platform = Platform.TELEGRAM) -> None:
    async with db.transaction() as tx:
        msgs = [message(key=k, platform=platform) for k in keys]
        await Outbox(tx.db).enqueue(msgs, now=NOW, tx=tx)


async def test_a_claim_over_a_lapsed_lease_is_a_counted_redelivery(db: Database) -> None:
    await _queue(db, "k")
    outbox = Outbox(db)
    [first] = await outbox.claim(NOW, 10, 15.0)
    [again] = await outbox.claim(NOW + 15.0, 10, 15.0)
    assert (first.redelivered, again.redelivered) == (False, True)
    [third] = await outbox.claim(NOW + 30.0, 10, 15.0)
    assert third.redelivered
    row = await outbox.get(again.id)
    assert row is not None and row.redeliveries == 2
    assert await outbox.redeliveries() == {"telegram": 2}


async def test_released_retried_and_sent_rows_are_not_redeliveries(db: Database) -> None:
    """Only a lease that ended without an outcome counts: a row given back unsent, or one
    whose failed attempt was recorded, goes out again as a plain claim."""
    await _queue(db, "released", "retried", "sent")
    outbox = Outbox(db)
    rows = {c.dedup_key: c.id for c in await outbox.claim(NOW, 10, 15.0)}
    await outbox.release([rows["released"]])
    await outbox.retry(rows["retried"], NOW + 1.0, "timeout")
    await outbox.mark_sent(rows["sent"], NOW + 1.0, "m-1")
    again = await outbox.claim(NOW + 60.0, 10, 15.0)
    assert sorted((c.dedup_key, c.redelivered) for c in again) == [
        ("released", False),
        ("retried", False),
    ]
    assert await outbox.redeliveries() == {}


async def test_release_all_at_start_keeps_the_rows_countable(db: Database) -> None:
    """The one SQLite process frees a dead predecessor's leases at start; the rows go out at
    once and still count, as they would after their leases expired."""
    await _queue(db, "a")
    await _queue(db, "b", platform=Platform.DISCORD)
    outbox = Outbox(db)
    await outbox.claim(NOW, 10, 60.0)
    assert await outbox.release_all() == 2
    again = await outbox.claim(NOW + 1.0, 10, 60.0)
    assert [c.redelivered for c in again] == [True, True]
    assert await outbox.redeliveries() == {"discord": 1, "telegram": 1}


async def test_two_workers_claiming_at_once_take_different_rows() -> None:
    """PostgreSQL: SKIP LOCKED keeps two workers' simultaneous claims apart (a row leased
    twice would be sent twice and counted as nothing)."""
    async with (
        postgres_schema() as url,
        Database.open(url) as one,
        Database.open(url) as two,
    ):
        await _queue(one, *(f"k{n}" for n in range(200)))
        for round_ in range(5):
            at = NOW + round_ * 100.0
            a, b = await asyncio.gather(
                Outbox(one).claim(at, 60, 15.0), Outbox(two).claim(at, 60, 15.0)
            )
            ids_a, ids_b = {c.id for c in a}, {c.id for c in b}
            assert not ids_a & ids_b, f"round {round_}: both claimed {sorted(ids_a & ids_b)}"
