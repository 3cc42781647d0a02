"""Two `liqwatch run` processes on one PostgreSQL database (issue 17, items 2 and 3): they
share the accounts by lease and one of them holds the Telegram inbound. kill -9 of the
inbound holder: the other answers commands within seconds and holds every account within the
lease time. Real processes, the fake Bot API and fake venues; skipped without PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database
from tests.bot.runtime.workers import (
    holders,
    inbound_pid,
    seed_wallets,
    start_workers,
    stop_workers,
)
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow

WALLETS, LEASE_S = 12, 3.0
USER = 5150


async def _until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.1)


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[tuple[Database, FakeTelegram, dict[int, str]]]:
    async with (
        postgres_schema() as url,
        FakeExchange() as fake,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):
        await seed_wallets(db, fake, WALLETS)
        procs = await start_workers(
            url, fake, telegram, ("wA", "wB"), cwd=tmp_path, lease_s=LEASE_S, poll_s=2
        )
        try:
            yield db, telegram, {pid: name for pid, (name, _) in procs.items()}
        finally:
            await stop_workers(procs)


async def test_kill_9_of_the_inbound_holder_moves_the_inbound_and_the_accounts(
    workers: tuple[Database, FakeTelegram, dict[int, str]],
) -> None:
    db, telegram, names = workers

    async def both_hold() -> bool:
        return set((await holders(db)).keys()) == {"wA", "wB"}

    async def someone_leads() -> bool:
        return await inbound_pid(db) is not None and bool(telegram.calls_to("getUpdates"))

    await _until(both_hold, 60, "both workers hold accounts")
    await _until(someone_leads, 30, "one worker polls Telegram")
    held = await holders(db)
    assert sum(held.values()) == WALLETS and abs(held["wA"] - held["wB"]) <= 1, held
    chat = telegram.private_chat(USER, "Ann")
    telegram.send(chat, "/help")
    await telegram.wait_for(lambda: telegram.bot_messages(USER), timeout=15)

    leader = await inbound_pid(db)
    assert leader in names
    survivor = next(n for pid, n in names.items() if pid != leader)
    os.kill(leader, signal.SIGKILL)
    killed = time.monotonic()
    before = len(telegram.bot_messages(USER))
    telegram.send(chat, "/help")
    await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) > before, timeout=30)
    answered = time.monotonic() - killed

    async def survivor_holds_all() -> bool:
        return await holders(db) == {survivor: WALLETS}

    await _until(survivor_holds_all, 4 * LEASE_S + 5, "the survivor holds every account")
    took = time.monotonic() - killed
    print(
        f"\ninbound answered {answered:.1f} s after kill -9; all accounts held after {took:.1f} s"
    )
    assert answered < 15
