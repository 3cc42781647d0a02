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
import tempfile
import time
from pathlib import Path

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

USER = 5150


async def trial(wallets: int, lease_s: float) -> tuple[float, float]:
    """(seconds until a command is answered, until the survivor holds every account)."""
    async with (
        postgres_schema() as url,
        FakeExchange() as fake,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):
        await seed_wallets(db, fake, wallets)
        with tempfile.TemporaryDirectory() as cwd:
            procs = await start_workers(
                url, fake, telegram, ("wA", "wB"), cwd=Path(cwd), lease_s=lease_s, poll_s=5
            )
            try:
                return await _measure(db, telegram, {p: n for p, (n, _) in procs.items()}, lease_s)
            finally:
                await stop_workers(procs)


async def _measure(
    db: Database, telegram: FakeTelegram, names: dict[int, str], lease_s: float
) -> tuple[float, float]:
    deadline = time.monotonic() + 120
    while not (
        set(await holders(db)) == {"wA", "wB"}
        and await inbound_pid(db) in names
        and telegram.calls_to("getUpdates")
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within 120 s")
        await asyncio.sleep(0.1)
    leader = await inbound_pid(db)
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
        if held is None and list(await holders(db)) == [survivor]:
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
