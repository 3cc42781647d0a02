"""Several `liqwatch run` workers on one PostgreSQL database: accounts per worker, poll lag,
CPU per worker and the database's own load with 1, 2 and 3 workers; then the outbox drained
by 1 and by 3 notifiers.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.workers [--accounts 2000] [--seconds 180]
[--poll 30] [--messages 3000]``

Workers: one fresh schema, ``--accounts`` Deribit API keys on the fake venues (Deribit limits
requests per key, so no IP budget bounds them; ``tests/bot/runtime/workers.py``), and real
``python -m bot run`` processes with fixed ``--poll`` polls, the default 15 s leases and
``/metrics`` on a port each. One worker starts; when the leases are settled (each worker holds
its ceil(accounts / workers) and the handed-over accounts had a poll interval to be read)
``--seconds`` are measured; then a second worker joins, then a third. Per step:

- accounts per worker, from the lease table;
- poll lag (now − due, as each poll job is submitted): p50/p95 over the period, interpolated
  within the buckets of every worker's ``liqwatch_poll_lag_seconds`` histogram (the scrape at
  the period's end less the one at its start), as Prometheus' ``histogram_quantile`` does;
- CPU per worker: user+system from ``/proc/PID/stat`` over the period, as a share of a core;
- the database: CPU of the PostgreSQL backends serving this database (``pg_stat_activity``
  pids, ``/proc/PID/stat``; PostgreSQL runs on this machine) and transactions committed a
  second (``pg_stat_database.xact_commit``).

Outbox: ``--messages`` alert notices queued in one fresh schema, each to a chat of its own,
then drained by N notifier processes at once (this module's ``--notifier`` mode: the real
``Notifier`` with its own ``PgDatabase`` and the real ``TelegramChannel``, no pacing, against
the fake Bot API in this process, which answers at once); messages a second until every row
is sent, for N = 1 and N = 3, and how many messages the fake received per row (1, or a
duplicate). The fake's process serves all of them, so at high rates it can be the limit.

All the processes share this machine's cores: see docs/storage.md#workers for what the
figures predict for separate hosts. Needs the PostgreSQL server of LIQWATCH_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.security.vault import generate_key
from storage import Database
from tests.bot.runtime.workers import Procs, holders, seed_keys, start_worker, stop_workers
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

LEASE_S = 15.0
TICKS = os.sysconf("SC_CLK_TCK")
Buckets = dict[float, float]


@dataclass
class Probe:
    """What is read at each end of a measured period."""

    at: float
    cpu: dict[int, float]
    db_cpu: dict[int, float]
    commits: int
    lag: Buckets


@dataclass
class Step:
    workers: int
    held: list[int]
    lag_p50: float
    lag_p95: float
    cpu: list[float]
    db_cpu: float
    commits_s: float


def cpu_s(pid: int) -> float | None:
    """User+system seconds of a process (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def scrape_lag(session: aiohttp.ClientSession, port: int) -> Buckets:
    """Cumulative counts of ``liqwatch_poll_lag_seconds`` by upper bound."""
    async with session.get(f"http://127.0.0.1:{port}/metrics") as reply:
        text = await reply.text()
    out: Buckets = {}
    for family in text_string_to_metric_families(text):
        if family.name == "liqwatch_poll_lag_seconds":
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    out[float(sample.labels["le"])] = sample.value
    return out


def quantile(q: float, buckets: Buckets) -> float:
    """``histogram_quantile``: linear within the bucket holding the q-th observation."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return math.nan
    rank, below, lower = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        below, lower = count, bound
    return lower


async def probe(db: Database, session: aiohttp.ClientSession, ports: dict[int, int]) -> Probe:
    rows = await db.fetchall(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    )
    db_cpu = {int(r["pid"]): c for r in rows if (c := cpu_s(int(r["pid"]))) is not None}
    row = await db.fetchone(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    )
    lag: Buckets = Counter()
    for port in ports.values():
        for bound, count in (await scrape_lag(session, port)).items():
            lag[bound] += count
    cpu = {pid: cpu_s(pid) or 0.0 for pid in ports}
    return Probe(time.monotonic(), cpu, db_cpu, int(row[0]) if row else 0, dict(lag))


def step_of(workers: int, held: dict[str, int], a: Probe, b: Probe) -> Step:
    span = b.at - a.at
    lag = {bound: b.lag.get(bound, 0.0) - a.lag.get(bound, 0.0) for bound in b.lag}
    db_cpu = sum(c - a.db_cpu.get(pid, 0.0) for pid, c in b.db_cpu.items())
    return Step(
        workers,
        sorted(held.values(), reverse=True),
        quantile(0.5, lag),
        quantile(0.95, lag),
        [(b.cpu[pid] - a.cpu.get(pid, 0.0)) / span for pid in b.cpu],
        db_cpu / span,
        (b.commits - a.commits) / span,
    )


async def settle(db: Database, workers: int, accounts: int, poll_s: float) -> dict[str, int]:
    """Wait until ``workers`` hold every account evenly, then a poll interval more (a joiner's
    new accounts are all due at once)."""
    share, deadline = math.ceil(accounts / workers), time.monotonic() + 600
    while True:
        held = await holders(db)
        counts = sorted(held.values())
        if len(counts) == workers and sum(counts) == accounts and counts[-1] == share:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not settle within 600 s: {held}")
        await asyncio.sleep(1.0)
    await asyncio.sleep(poll_s)
    return await holders(db)


async def workers_run(
    accounts: int, seconds: float, poll_s: float, *, most: int = 3, lease_s: float = LEASE_S
) -> list[Step]:
    """One step per worker count, 1 to ``most``, each printed as it ends."""
    key, steps, ports = generate_key(), [], {}
    procs: Procs = {}
    async with (
        postgres_schema() as url,
        FakeExchange() as fake,
        FakeTelegram() as telegram,
        Database.open(url) as db,
        aiohttp.ClientSession() as session,
    ):
        await seed_keys(db, [fake], accounts, master_key=key)
        with tempfile.TemporaryDirectory() as cwd:
            try:
                for n in range(1, most + 1):
                    port = free_port()
                    proc = await start_worker(
                        url, f"w{n}", cwd=Path(cwd), exchange_url=fake.url, telegram=telegram,
                        master_key=key, lease_s=lease_s, poll_s=poll_s, http_port=port,
                    )  # fmt: skip
                    procs[proc.pid], ports[proc.pid] = (f"w{n}", proc), port
                    held = await settle(db, n, accounts, poll_s)
                    first = await probe(db, session, ports)
                    await asyncio.sleep(seconds)
                    last = await probe(db, session, ports)
                    steps.append(step_of(n, held, first, last))
                    print(_step_line(steps[-1]), flush=True)
            finally:
                await stop_workers(procs)
    return steps


def _step_line(s: Step) -> str:
    cpu = " / ".join(f"{c * 100:.0f} %" for c in s.cpu)
    held = " / ".join(str(n) for n in s.held)
    return (
        f"| {s.workers} | {held} | {s.lag_p50:.2f} s | {s.lag_p95:.2f} s | {cpu} "
        f"| {s.db_cpu * 100:.0f} % | {s.commits_s:,.0f} |"
    )


# --------------------------------------------------------------------- outbox ---------------


async def drain_here(url: str, api_url: str, token: str) -> None:
    """A notifier process (``--notifier``): ready, then drain on "go" and say how many it sent."""
    from telegram.ext import ApplicationBuilder

    from bot.delivery.notifier import Notifier
    from bot.telegram.channel import TelegramChannel
    from engine.domain import Platform

    app = ApplicationBuilder().token(token).base_url(f"{api_url}/bot").job_queue(None).build()
    async with Database.open(url) as db, app.bot:
        channel = TelegramChannel(app.bot)
        notifier = Notifier(db, {Platform.TELEGRAM: channel}, global_per_s=math.inf)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await notifier.drain()
        print(notifier.stats.by_platform.get((Platform.TELEGRAM, "sent"), 0), flush=True)


async def outbox_run(messages: int, notifiers: int) -> tuple[float, int, int, list[int]]:
    """(messages a second, rows the fake got more than once, rows never sent, how many each
    notifier sent)."""
    from benchmarks.notifier_throughput import _messages
    from storage.outbox import Outbox

    async with postgres_schema() as url, FakeTelegram() as telegram, Database.open(url) as db:
        for chat in range(1, messages + 1):
            telegram.private_chat(chat, f"u{chat}")
        now = time.time()
        batch = [m for m in _messages(messages + 1, messages + 1, now) if m.chat_id != "0"]
        async with db.transaction() as tx:
            await Outbox(tx.db).enqueue(batch, now=now, tx=tx)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.workers",
                "--notifier",
                url,
                telegram.url,
                telegram.token,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**env, "PTB_TIMEDELTA": "1"},
            )
            for _ in range(notifiers)
        ]
        for proc in procs:
            assert proc.stdout is not None
            await proc.stdout.readline()  # "ready"
        start = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = await asyncio.gather(*(proc.communicate() for proc in procs))
        took = time.monotonic() - start
        each = sorted((int(out.split()[-1]) for out, _ in outputs), reverse=True)
        got = Counter(len(telegram.bot_messages(chat)) for chat in range(1, messages + 1))
    return messages / took, sum(n for k, n in got.items() if k > 1), got.get(0, 0), each


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


async def main(accounts: int, seconds: float, poll_s: float, messages: int) -> None:
    before = load()
    print(f"load average before: {before}", flush=True)
    print(
        f"\n{accounts} Deribit accounts, {poll_s:g} s polls, {LEASE_S:g} s leases,"
        f" {seconds:g} s a step"
    )
    print(
        "| workers | accounts held | poll lag p50 | p95 | CPU per worker | PostgreSQL CPU"
        " | commits/s |"
    )
    print("|---:|---|---:|---:|---|---:|---:|", flush=True)
    await workers_run(accounts, seconds, poll_s)
    print(
        f"\n{messages} outbox rows, one chat each, unpaced notifiers,"
        " the fake Bot API answering at once"
    )
    print("| notifiers | messages/s | sent by each | rows sent twice | rows not sent |")
    print("|---:|---:|---|---:|---:|", flush=True)
    for n in (1, 3):
        rate, twice, unsent, each = await outbox_run(messages, n)
        split = " / ".join(str(e) for e in each)
        print(f"| {n} | {rate:,.0f} | {split} | {twice} | {unsent} |", flush=True)
    print(f"\nload average before: {before}; after: {load()}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--notifier":
        asyncio.run(drain_here(*sys.argv[2:5]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--poll", type=float, default=30.0)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.seconds, args.poll, args.messages))
