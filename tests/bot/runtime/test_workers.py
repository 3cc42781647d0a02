"""Several workers on one PostgreSQL database (issue 17, item 2): three assembled runtimes,
each with its own database connections and exchange clients, share 90 Hyperliquid wallets
by lease. Each account is polled by exactly one worker in every interval; a worker that dies
(stops renewing and polling, as kill -9 leaves it) loses its accounts to the others within
the lease time; a clean stop hands them over at once. Skipped without a PostgreSQL server."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from bot.exchanges import ExchangeHub
from bot.monitor.schedule import drop_jobs
from bot.runtime.assemble import LEASES, Runtime, assemble
from bot.security.vault import Vault, generate_key
from bot.settings import Secret, Settings
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.fakes.channel import FakeChannel
from tests.fakes.exchange import FakeExchange
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow

WALLETS, POLL_S, LEASE_S = 90, 3.0, 3.0


class Polls:
    """(worker, account, time) of every poll the workers start."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, float]] = []

    def record(self, runtime: Runtime, name: str) -> None:
        monitor = runtime.monitor
        original = monitor.poll

        async def poll(account_id: int) -> object:
            self.seen.append((name, account_id, time.monotonic()))
            return await original(account_id)

        monitor.poll = poll  # type: ignore[method-assign]  # jobs call it from the next sync

    def holders(self, since: float, until: float) -> dict[int, set[str]]:
        found: dict[int, set[str]] = defaultdict(set)
        for name, account, at in self.seen:
            if since <= at < until:
                found[account].add(name)
        return found


async def _worker(
    stack: AsyncExitStack, url: str, fake: FakeExchange, key: str, name: str, polls: Polls
) -> Runtime:
    settings = Settings(
        db_path=None,  # type: ignore[arg-type]
        db_url=url, poll_s=POLL_S, poll_bands=False, snapshot_s=0.0, lease_s=LEASE_S,
        worker_id=f"test:{name}",
    )  # fmt: skip
    db = await stack.enter_async_context(Database.open(url))
    hub = await stack.enter_async_context(ExchangeHub(fake.url, rate_limit=False, retries=1))
    channels = {Platform.TELEGRAM: FakeChannel(Platform.TELEGRAM, clock=time.time)}
    runtime = await stack.enter_async_context(
        assemble(settings, db=db, hub=hub, vault=Vault(Secret(key)), channels=channels)
    )
    polls.record(runtime, name)
    drop_jobs(runtime.monitor.scheduler, keep=())  # rebuilt by the sync, calling the recorder
    await runtime.monitor.sync()
    return runtime


@pytest.fixture
async def shared() -> AsyncIterator[tuple[str, FakeExchange]]:
    async with postgres_schema() as url, FakeExchange() as fake:
        async with Database.open(url) as db:
            owner = await Users(db).ensure(Platform.TELEGRAM, "1", "desk", "1", now=time.time())
            for n in range(WALLETS):
                address = f"0x{n + 1:040x}"
                fake.add_wallet(address)
                await Accounts(db).add(
                    owner.id, "hyperliquid", f"hl-{n}", wallet_address=address, now=time.time()
                )
        yield url, fake


async def test_three_workers_share_the_accounts_and_take_over_a_dead_ones(
    shared: tuple[str, FakeExchange],
) -> None:
    url, fake = shared
    key, polls = generate_key(), Polls()
    async with AsyncExitStack() as stack:
        workers = [await _worker(stack, url, fake, key, f"w{i}", polls) for i in range(3)]
        await asyncio.sleep(2 * LEASE_S)  # every worker has seen the others and evened out
        start = time.monotonic()
        await asyncio.sleep(3 * POLL_S)
        held = polls.holders(start, time.monotonic())
        assert len(held) == WALLETS, "every account polled in the window"
        assert all(len(names) == 1 for names in held.values()), "by exactly one worker"
        shares = [sum(1 for n in held.values() if f"w{i}" in n) for i in range(3)]
        assert all(abs(s - WALLETS / 3) <= 1 for s in shares), shares

        # w0 dies as kill -9 leaves it: no renewal, no polls, its leases left to expire.
        dead = workers[0]
        lost = set(dead.leases.held) if dead.leases else set()
        await dead.supervisor.stop_task(LEASES)
        dead.monitor.scheduler.pause()
        died = time.monotonic()
        while not lost <= set(polls.holders(died, time.monotonic())):
            assert time.monotonic() - died < LEASE_S + 3 * LEASE_S / 3 + POLL_S + 3, "taken over"
            await asyncio.sleep(0.1)
        took = time.monotonic() - died
        after = polls.holders(died + took, time.monotonic() + 0.01)
        assert all(names <= {"w1", "w2"} for names in after.values())
        print(f"\n{len(lost)} accounts of a dead worker polled again after {took:.1f} s")
        dead.monitor.scheduler.resume()  # let its context exit cleanly
