"""Real `liqwatch run` workers on one PostgreSQL database, for the failover test and
``benchmarks/failover.py``: seed wallets, start worker processes, read who holds what."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bot.runtime.app import INBOUND_KEY
from bot.security.vault import generate_key
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.postgres import PgDatabase
from storage.users import Users
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[3]
Procs = dict[int, tuple[str, asyncio.subprocess.Process]]


async def seed_wallets(db: Database, fake: FakeExchange, count: int) -> None:
    """``count`` Hyperliquid wallets on the fake, watched by one owner."""
    owner = await Users(db).ensure(Platform.TELEGRAM, "1", "desk", "1", now=time.time())
    for n in range(count):
        address = f"0x{n + 1:040x}"
        fake.add_wallet(address)
        await Accounts(db).add(
            owner.id, "hyperliquid", f"hl-{n}", wallet_address=address, now=time.time()
        )


async def start_workers(
    url: str,
    fake: FakeExchange,
    telegram: FakeTelegram,
    names: tuple[str, ...],
    *,
    cwd: Path,
    lease_s: float,
    poll_s: float,
) -> Procs:
    """One ``python -m bot run`` per name, on ``url``, fixed polls, streams off."""
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), "LIQWATCH_DB": url,
        "LIQWATCH_MASTER_KEY": generate_key(), "LIQWATCH_POLL_SECONDS": f"{poll_s:g}",
        "LIQWATCH_POLL_BANDS": "off", "LIQWATCH_STREAM": "off",
        "LIQWATCH_LEASE_SECONDS": f"{lease_s:g}", "LIQWATCH_EXCHANGE_URL_PREFIX": fake.url,
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url,
        "PTB_TIMEDELTA": "1",
    }  # fmt: skip
    procs: Procs = {}
    for name in names:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=cwd, env={**env, "LIQWATCH_WORKER_ID": name},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        procs[proc.pid] = (name, proc)
    return procs


async def stop_workers(procs: Procs) -> None:
    """SIGTERM the living ones, then wait (kill what does not stop in 30 s)."""
    for _, proc in procs.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for _, proc in procs.values():
        try:
            await asyncio.wait_for(proc.wait(), timeout=30)
        except TimeoutError:
            proc.kill()


async def holders(db: Database) -> dict[str, int]:
    """Live leases per worker."""
    rows = await db.fetchall(
        "SELECT owner, COUNT(*) AS n FROM account_leases WHERE expires_at > ? GROUP BY owner",
        (time.time(),),
    )
    return {str(r["owner"]): int(r["n"]) for r in rows}


async def inbound_pid(db: Database) -> int | None:
    """The OS pid of the worker holding the inbound lock of this schema (its application_name
    says it; other schemas' workers hold locks of the same key, storage/postgres.py#SPACE)."""
    assert isinstance(db, PgDatabase)
    name = await db.holder(INBOUND_KEY)
    return None if name is None else int(name.split()[2].split("@")[0])
