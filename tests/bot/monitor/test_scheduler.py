"""The real AsyncIOScheduler with short intervals: jobs per account, coalesced overruns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.monitor.events import PollEvent
from bot.runtime.supervisor import Supervisor
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


@pytest.mark.slow
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
        stats = world.monitor.stats
        async with asyncio.timeout(30):  # until a poll overran and a start was skipped
            while not (stats.overruns >= 1 and stats.skipped >= 1):
                await asyncio.sleep(0.1)
        assert peak == 1


async def test_a_scheduler_that_stopped_is_started_again_by_the_supervised_watch(
    world: World,
) -> None:
    """The scheduler dies under the running service: the supervised watch notices on its next
    round, the supervisor restarts it, and the account's poll job is back."""
    account = await world.link("hyperliquid")
    await world.monitor.start()
    reinstalled: list[bool] = []

    async def reinstall() -> None:
        reinstalled.append(True)

    supervisor = Supervisor(None)
    supervisor.start(
        "poll scheduler", lambda: world.monitor.watch(every_s=0.1, reinstall=reinstall)
    )
    try:
        world.monitor.scheduler.shutdown(wait=False)  # takes effect on the next loop turn
        await asyncio.sleep(0.01)
        assert not world.monitor.scheduler.running

        async def back() -> bool:
            job = world.monitor.scheduler.get_job(f"poll:{account.id}")
            return world.monitor.scheduler.running and job is not None

        await _wait_for(back, 10)
        assert supervisor.crashes["poll scheduler"] == 1 and reinstalled == [True]
        assert world.monitor.scheduler.get_job("maintenance:prune") is not None
    finally:
        await supervisor.stop()


async def test_accounts_linked_by_another_process_are_picked_up_by_the_watch(
    world: World,
) -> None:
    """An account added straight to the database (the CLI, another process) gets its job."""
    await world.monitor.start()
    watching = asyncio.create_task(world.monitor.watch(every_s=0.1))
    try:
        account = await world.link("bybit")  # through a service whose on_change is ours …
        world.monitor.scheduler.remove_job(f"poll:{account.id}")  # … so forget it was told

        async def picked_up() -> bool:
            return world.monitor.scheduler.get_job(f"poll:{account.id}") is not None

        await _wait_for(picked_up, 10)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
