"""Two `liqwatch run` processes on one PostgreSQL database (issue 17, items 2 and 3): they
share the accounts by lease and one of them holds the Telegram inbound. kill -9 of the
inbound holder: the other answers commands within seconds and holds every account within the
lease time. Real processes, the fake Bot API and fake venues; skipped without PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime.app import INBOUND_KEY
from bot.security.vault import generate_key
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
WALLETS, LEASE_S = 12, 3.0
USER = 5150


async def _holders(db: Database) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT owner, COUNT(*) AS n FROM account_leases WHERE expires_at > ? GROUP BY owner",
        (time.time(),),
    )
    return {str(r["owner"]): int(r["n"]) for r in rows}


async def _inbound_pid(db: Database) -> int | None:
    """The OS pid of the worker holding the inbound lock (its application_name says it)."""
    row = await db.fetchone(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.objid = ? AND l.granted",
        (INBOUND_KEY,),
    )
    if row is None:
        return None
    return int(str(row[0]).split()[2].split("@")[0])


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
        owner = await Users(db).ensure(Platform.TELEGRAM, "1", "desk", "1", now=time.time())
        for n in range(WALLETS):
            address = f"0x{n + 1:040x}"
            fake.add_wallet(address)
            await Accounts(db).add(
                owner.id, "hyperliquid", f"hl-{n}", wallet_address=address, now=time.time()
            )
        env = {
            **os.environ, "PYTHONUNBUFFERED": "1", "LIQWATCH_DB": url,
            "LIQWATCH_MASTER_KEY": generate_key(), "LIQWATCH_POLL_SECONDS": "2",
            "LIQWATCH_POLL_BANDS": "off", "LIQWATCH_STREAM": "off",
            "LIQWATCH_LEASE_SECONDS": str(LEASE_S),
            "LIQWATCH_EXCHANGE_URL_PREFIX": fake.url,
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url,
            "PTB_TIMEDELTA": "1",
        }  # fmt: skip
        procs = {}
        for name in ("wA", "wB"):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path,
                env={**env, "LIQWATCH_WORKER_ID": name, "PYTHONPATH": str(ROOT)},
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            procs[proc.pid] = (name, proc)
        try:
            yield db, telegram, {pid: name for pid, (name, _) in procs.items()}
        finally:
            for _, proc in procs.values():
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            for _, proc in procs.values():
                try:
                    await asyncio.wait_for(proc.wait(), timeout=30)
                except TimeoutError:
                    proc.kill()


async def test_kill_9_of_the_inbound_holder_moves_the_inbound_and_the_accounts(
    workers: tuple[Database, FakeTelegram, dict[int, str]],
) -> None:
    db, telegram, names = workers

    async def both_hold() -> bool:
        return set((await _holders(db)).keys()) == {"wA", "wB"}

    async def someone_leads() -> bool:
        return await _inbound_pid(db) is not None and bool(telegram.calls_to("getUpdates"))

    await _until(both_hold, 60, "both workers hold accounts")
    await _until(someone_leads, 30, "one worker polls Telegram")
    held = await _holders(db)
    assert sum(held.values()) == WALLETS and abs(held["wA"] - held["wB"]) <= 1, held
    chat = telegram.private_chat(USER, "Ann")
    telegram.send(chat, "/help")
    await telegram.wait_for(lambda: telegram.bot_messages(USER), timeout=15)

    leader = await _inbound_pid(db)
    assert leader in names
    survivor = next(n for pid, n in names.items() if pid != leader)
    os.kill(leader, signal.SIGKILL)
    killed = time.monotonic()
    before = len(telegram.bot_messages(USER))
    telegram.send(chat, "/help")
    await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) > before, timeout=30)
    answered = time.monotonic() - killed

    async def survivor_holds_all() -> bool:
        return await _holders(db) == {survivor: WALLETS}

    await _until(survivor_holds_all, 4 * LEASE_S + 5, "the survivor holds every account")
    took = time.monotonic() - killed
    print(
        f"\ninbound answered {answered:.1f} s after kill -9; all accounts held after {took:.1f} s"
    )
    assert answered < 15
