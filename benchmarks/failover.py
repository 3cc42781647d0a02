"""Failover of `liqwatch run` workers on PostgreSQL after kill -9, over several trials.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.failover [--trials 10] [--wallets 60]
[--lease 15]``

Each trial: a fresh schema, the fake venues (Hyperliquid wallets) and the fake Bot API in this
process, two real ``python -m bot run`` workers with the default settings but for the lease
(``--lease``, 15 s by default as in production) and 5 s fixed polls. Once both hold accounts and
one holds the Telegram inbound, that one is killed with SIGKILL; measured from the kill:

- inbound: until a command sent after the kill is answered (the survivor takes the inbound
  lock, tried every 5 s, and starts long polling);
- accounts: until the survivor holds every account by live lease (the dead worker's leases
  expire after the lease time, then the survivor's next round, every lease/3, claims them).

Prints p50 and p95 of both over the trials. Needs the PostgreSQL server of
LIQWATCH_TEST_POSTGRES_URL (the tests' default: the local ``test`` database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.runtime.app import INBOUND_KEY
from bot.security.vault import generate_key
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

ROOT = Path(__file__).resolve().parents[1]
USER = 5150


async def _holders(db: Database) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT owner, COUNT(*) AS n FROM account_leases WHERE expires_at > ? GROUP BY owner",
        (time.time(),),
    )
    return {str(r["owner"]): int(r["n"]) for r in rows}


async def _inbound_pid(db: Database) -> int | None:
    row = await db.fetchone(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.objid = ? AND l.granted",
        (INBOUND_KEY,),
    )
    return None if row is None else int(str(row[0]).split()[2].split("@")[0])


async def trial(wallets: int, lease_s: float) -> tuple[float, float]:
    """(seconds until a command is answered, until the survivor holds every account)."""
    async with (
        postgres_schema() as url,
        FakeExchange() as fake,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):
        owner = await Users(db).ensure(Platform.TELEGRAM, "1", "desk", "1", now=time.time())
        for n in range(wallets):
            address = f"0x{n + 1:040x}"
            fake.add_wallet(address)
            await Accounts(db).add(
                owner.id, "hyperliquid", f"hl-{n}", wallet_address=address, now=time.time()
            )
        env = {
            **os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), "LIQWATCH_DB": url,
            "LIQWATCH_MASTER_KEY": generate_key(), "LIQWATCH_POLL_SECONDS": "5",
            "LIQWATCH_POLL_BANDS": "off", "LIQWATCH_STREAM": "off",
            "LIQWATCH_LEASE_SECONDS": str(lease_s), "LIQWATCH_EXCHANGE_URL_PREFIX": fake.url,
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url,
        }  # fmt: skip
        procs = {}
        with tempfile.TemporaryDirectory() as cwd:
            for name in ("wA", "wB"):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", cwd=cwd,
                    env={**env, "LIQWATCH_WORKER_ID": name}, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                procs[proc.pid] = (name, proc)
            try:
                return await _measure(db, telegram, {p: n for p, (n, _) in procs.items()}, lease_s)
            finally:
                for _, proc in procs.values():
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                for _, proc in procs.values():
                    try:
                        await asyncio.wait_for(proc.wait(), timeout=30)
                    except TimeoutError:
                        proc.kill()


async def _measure(
    db: Database, telegram: FakeTelegram, names: dict[int, str], lease_s: float
) -> tuple[float, float]:
    deadline = time.monotonic() + 120
    while not (
        set(await _holders(db)) == {"wA", "wB"}
        and await _inbound_pid(db) in names
        and telegram.calls_to("getUpdates")
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within 120 s")
        await asyncio.sleep(0.1)
    leader = await _inbound_pid(db)
    assert leader is not None
    survivor = next(n for pid, n in names.items() if pid != leader)
    chat = telegram.private_chat(USER, "Ann")
    os.kill(leader, signal.SIGKILL)
    killed = time.monotonic()
    telegram.send(chat, "/help")
    answered = held = None
    while answered is None or held is None:
        now = time.monotonic()
        if now - killed > 4 * lease_s + 30:
            raise RuntimeError("no failover")
        if answered is None and telegram.bot_messages(USER):
            answered = now - killed
        if held is None and list(await _holders(db)) == [survivor]:
            held = now - killed
        await asyncio.sleep(0.05)
    return answered, held


def _pcts(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):5.1f} s  p95 {p95:5.1f} s  max {ordered[-1]:5.1f} s"


async def main(trials: int, wallets: int, lease_s: float) -> None:
    inbound, accounts = [], []
    for n in range(trials):
        a, b = await trial(wallets, lease_s)
        inbound.append(a)
        accounts.append(b)
        print(f"trial {n + 1:2d}: inbound {a:5.1f} s, accounts {b:5.1f} s", flush=True)
    print(
        f"\n{trials} trials, {wallets} wallets, {lease_s:g} s leases, kill -9 of the inbound holder"
    )
    print(f"inbound answered again: {_pcts(inbound)}")
    print(f"every account held by the survivor: {_pcts(accounts)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--wallets", type=int, default=60)
    parser.add_argument("--lease", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(main(args.trials, args.wallets, args.lease))
