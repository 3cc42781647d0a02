"""Real `liqwatch run` workers on one PostgreSQL database, for the failover test and
``benchmarks/failover.py``: seed wallets, start worker processes, read who holds what."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.exchanges import Credentials
from bot.runtime.app import INBOUND_KEY
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
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


#: A venue whose request limits are per API key, not per IP as Binance's and Hyperliquid's
#: are: thousands of its accounts behind one host are not held back by one shared budget. A
#: Deribit poll is two requests (positions, account summaries) once its markets are loaded.
PER_KEY_VENUE = "deribit"
KEY_SECRET = "fleet-secret"


async def seed_keys(
    db: Database, fakes: Sequence[FakeExchange], count: int, *, master_key: str
) -> dict[str, int]:
    """``count`` Deribit API keys, registered on every fake of ``fakes`` (the same accounts
    behind each) and linked by one owner, sealed with ``master_key`` (the workers'
    LIQWATCH_MASTER_KEY): API key → account id."""
    vault = Vault(Secret(master_key))
    owner = await Users(db).ensure(Platform.TELEGRAM, "1", "desk", "1", now=time.time())
    accounts, linked = Accounts(db), {}
    for n in range(count):
        key = f"DRB-{n:05d}"
        for fake in fakes:
            fake.add_account(PER_KEY_VENUE, api_key=key, secret=KEY_SECRET)

        def seal(account_id: int, key: str = key) -> bytes:
            return vault.encrypt(Credentials(key, KEY_SECRET), account_id=account_id)

        account = await accounts.add(
            owner.id, PER_KEY_VENUE, f"drb-{n}", ciphertext=seal, key_id=vault.key_id,
            now=time.time(),
        )  # fmt: skip
        linked[key] = account.id
    return linked


async def start_worker(
    url: str,
    name: str,
    *,
    cwd: Path,
    exchange_url: str,
    telegram: FakeTelegram,
    master_key: str,
    lease_s: float,
    poll_s: float,
    http_port: int | None = None,
    log: Path | None = None,
) -> asyncio.subprocess.Process:
    """One ``python -m bot run`` named ``name`` as ``start_workers`` starts them, but with the
    venues at ``exchange_url`` (a fake of its own tells this worker's reads apart), a given
    master key, optionally ``/metrics`` on ``http_port`` and its log in ``log``."""
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), "LIQWATCH_DB": url,
        "LIQWATCH_MASTER_KEY": master_key, "LIQWATCH_POLL_SECONDS": f"{poll_s:g}",
        "LIQWATCH_POLL_BANDS": "off", "LIQWATCH_STREAM": "off", "LIQWATCH_PUSH": "off",
        "LIQWATCH_LEASE_SECONDS": f"{lease_s:g}", "LIQWATCH_EXCHANGE_URL_PREFIX": exchange_url,
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url,
        "PTB_TIMEDELTA": "1", "LIQWATCH_WORKER_ID": name,
    }  # fmt: skip
    if http_port is not None:
        env["LIQWATCH_HTTP_PORT"] = str(http_port)
    with open(log or os.devnull, "ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=cwd, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
