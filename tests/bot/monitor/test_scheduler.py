"""The real AsyncIOScheduler with short intervals: jobs per account, coalesced overruns."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.monitor import PollEvent
from storage import Transaction
from storage.snapshots import Snapshots
from tests.bot.monitor.conftest import World, make_world
from tests.fakes.exchange import FakeExchange


async def _wait_for(predicate, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_the_scheduler_polls_each_account_on_its_interval(world: World) -> None:
    """Started with a 1 s interval, an account gets polled repeatedly; unlinking drops its job."""
    world.monitor.poll_s = 1.0
    account = await world.link("hyperliquid")
    await world.monitor.start()
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is not None

    async def two_snapshots() -> bool:
        rows = await Snapshots(world.db).between(world.owner_id, account.id, 0, 2e10)
        return len(rows) >= 2

    await _wait_for(two_snapshots, 30)
    await world.service.unlink(world.owner_id, str(account.id))
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is None


async def test_an_overrunning_poll_is_counted_not_stacked(
    tmp_path: Path, fake: FakeExchange
) -> None:
    """A poll taking 2.5 s on a 1 s interval never runs twice at once; skips are counted."""
    running, peak = 0, 0

    async def slow(tx: Transaction, event: PollEvent) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await asyncio.sleep(2.5)
        finally:
            running -= 1

    async for world in make_world(tmp_path, fake, alerts=slow, poll_s=1.0):
        await world.link("deribit")
        await world.monitor.start()
        await asyncio.sleep(5)
        stats = world.monitor.stats
        assert peak == 1
        assert stats.overruns >= 1 and stats.skipped >= 1
