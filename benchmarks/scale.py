"""Thousands of accounts on one process, risk-driven bands beside fixed 30 s polling.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.scale [--accounts 5000] [--seconds 1200]``

The real monitor (scheduler, hub, shared budgets, engine, one SQLite transaction per poll,
the budget fit every 30 s) polls ``--accounts`` accounts, half Hyperliquid wallets and half
Binance USDⓈ-M keys (``--hyperliquid``), 80 % far, 15 % middle and 5 % near liquidation
(``tests/bot/monitor/fleet.py`` says which holding puts an account in which band). The fake
venues run in a child process, so the CPU measured is liqwatch's alone; they weigh every
request as the venue does (``tests/fakes/exchange/weights.py``).

Each mode starts from an empty database with every account due at once (a restart), then runs
``--seconds``; first with the bands (the defaults: near 5 s, middle 30 s, far 300 s), then with
``LIQWATCH_POLL_BANDS=off`` (every account every 30 s, as before issue 16). Reported per mode:

- CPU: the process's user+system seconds over the run, as a share of one core; peak RSS.
- Snapshots: rows and database bytes added in the run's second half, per day at that rate
  (the first half holds every account's first snapshot; a run shorter than twice
  LIQWATCH_SNAPSHOT_SECONDS mixes those with the cadence and is flagged).
- REST: each venue's weight a minute (mean over the run, and the busiest sliding minute)
  against its published limit, requests a minute, and the minutes that passed the limit.
- Staleness: at every second of the run's second half, the age of each account's positions
  (now − its last positions read reached the venue; never read: since the start), p50 and p95
  per band.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.exchanges import Credentials, ExchangeHub
from bot.monitor.cadence import Cadences
from bot.monitor.events import MonitorStats
from bot.monitor.poller import Monitor
from bot.runtime.assemble import poll_costs
from bot.security.vault import Vault, generate_key
from bot.settings import Secret, Settings
from engine.cadence import Band
from engine.domain import Platform
from storage import Database
from storage.users import Users
from tests.bot.monitor.fleet import HOLDINGS, POSITIONS, SECRET
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.weights import LIMITS

MIX = {Band.NEAR: 0.05, Band.MIDDLE: 0.15, Band.FAR: 0.80}
VENUES = ("hyperliquid", "binanceusdm")


@dataclass(frozen=True)
class Planned:
    """One account of the run: its venue, band, and key (wallet address or API key)."""

    venue: str
    band: Band
    key: str


def plan(accounts: int, hyperliquid: float) -> list[Planned]:
    """The accounts, near ones first (as the scale test links them), keys deterministic so
    the fake's process and this one agree without talking."""
    counts = {"hyperliquid": round(accounts * hyperliquid)}
    counts["binanceusdm"] = accounts - counts["hyperliquid"]
    out: list[Planned] = []
    for band, share in MIX.items():
        for venue in VENUES:
            wanted = counts[venue]
            n = round(wanted * share) if band is not Band.FAR else wanted - _taken(out, venue)
            for _ in range(n):
                i = len(out) + 1
                key = f"0x{i:040x}" if venue == "hyperliquid" else f"KEY-{i}"
                out.append(Planned(venue, band, key))
    return out


def _taken(out: list[Planned], venue: str) -> int:
    return sum(p.venue == venue for p in out)


# ---------------------------------------------------------------- the fake venues' process
async def serve(accounts: int, hyperliquid: float) -> None:
    """Child mode: serve the planned accounts, print the port, and at stdin's end print what
    the venues saw (weights, and when each account's positions were read) as JSON."""
    async with FakeExchange() as fake:
        for p in plan(accounts, hyperliquid):
            position = (HOLDINGS[p.venue][p.band],)
            if p.venue == "hyperliquid":
                fake.add_wallet(p.key, positions=position)
            else:
                fake.add_account(p.venue, api_key=p.key, secret=SECRET, positions=position)
        print(fake.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        print(json.dumps(_seen(fake)), flush=True)


def _seen(fake: FakeExchange) -> dict[str, Any]:
    reads: dict[str, list[float]] = {}
    count: dict[str, list[float]] = {v: [] for v in VENUES}
    for request in fake.requests:
        if request.venue in count:
            count[request.venue].append(request.at)
        if POSITIONS.get(request.venue) == request.endpoint:
            if request.venue == "hyperliquid":
                key = str(request.json().get("user", "")).lower()
            else:
                key = request.headers.get("X-MBX-APIKEY", "")
            reads.setdefault(key, []).append(request.at)
    meter = fake.weights
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "reads": reads,
        "requests": count,
        "weights": {v: {"peak": meter.peak(v), "total": meter.totals.get(v, 0.0)} for v in VENUES},
        "breaches": [b.venue for b in meter.breaches],
        "unknown": [f"{v} {e}" for v, e in meter.unknown],
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


# ---------------------------------------------------------------- liqwatch's process
@dataclass
class Measured:
    """What liqwatch's own process did in one mode's run."""

    started: float
    ended: float
    cpu_s: float
    rss_mb: float
    rows_run: int
    rows_per_day: float
    bytes_per_day: float
    stats: MonitorStats


@dataclass
class Result:
    mode: str
    measured: Measured
    #: What the fake venues saw (``_seen``).
    fake: dict[str, Any]
    staleness: dict[Band, tuple[float, float]]

    @property
    def seconds(self) -> float:
        return self.measured.ended - self.measured.started


async def run(mode: str, args: argparse.Namespace) -> Result:
    env = {"LIQWATCH_MASTER_KEY": generate_key()}
    if mode == "off":
        env["LIQWATCH_POLL_BANDS"] = "off"
    settings = Settings.from_env(env)
    planned = plan(args.accounts, args.hyperliquid)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.scale", "--serve", "--accounts", str(args.accounts),
        "--hyperliquid", str(args.hyperliquid),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    port = int((await child.stdout.readline()).decode())
    with tempfile.TemporaryDirectory() as tmp:
        measured = await _measure(settings, planned, f"http://127.0.0.1:{port}", Path(tmp), args)
    child.stdin.close()
    seen = json.loads((await child.stdout.read()).decode())
    await child.wait()
    ages = staleness(planned, seen["reads"], measured.started, measured.ended)
    return Result(mode, measured, seen, ages)


async def _measure(
    settings: Settings,
    planned: Sequence[Planned],
    url: str,
    tmp: Path,
    args: argparse.Namespace,
) -> Measured:
    vault = Vault(Secret(generate_key()))
    async with Database.open(str(tmp / "liqwatch.db")) as db, ExchangeHub(url) as hub:
        monitor = Monitor(
            db=db, hub=hub, vault=vault, poll_s=settings.poll_s,
            cadences=Cadences(settings.bands()), snapshot_s=settings.snapshot_s,
        )  # fmt: skip
        monitor.budget_costs = lambda venue: poll_costs(hub, monitor, venue)
        await _link(db, monitor, vault, planned)
        before = _cpu_s()
        started = time.monotonic()
        await monitor.start()
        keeper = asyncio.create_task(monitor.watch())
        await asyncio.sleep(args.seconds / 2)
        half = await _stored(db)
        await asyncio.sleep(args.seconds / 2)
        end = await _stored(db)
        ended = time.monotonic()
        keeper.cancel()
        await monitor.stop(grace_s=2.0)
        cpu_s = _cpu_s() - before
    per_day = 86400.0 / (args.seconds / 2)
    return Measured(
        started, ended, cpu_s, _rss_mb(), end[0], (end[0] - half[0]) * per_day,
        (end[1] - half[1]) * per_day, monitor.stats,
    )  # fmt: skip


async def _link(db: Database, monitor: Monitor, vault: Vault, planned: Sequence[Planned]) -> None:
    owner = await Users(db).ensure(Platform.TELEGRAM, "1001", "ops", "1001", now=time.time())
    for n, p in enumerate(planned):
        label = f"{p.venue}-{n}"
        if p.venue == "hyperliquid":
            await monitor.accounts.add(
                owner.id, p.venue, label, wallet_address=p.key, now=time.time()
            )
            continue

        def seal(account_id: int, key: str = p.key) -> bytes:
            return vault.encrypt(Credentials(key, SECRET), account_id=account_id)

        await monitor.accounts.add(
            owner.id, p.venue, label, ciphertext=seal, key_id=vault.key_id, now=time.time()
        )


async def _stored(db: Database) -> tuple[int, int]:
    """(snapshot rows, database bytes) now."""
    rows = await db.fetchone("SELECT COUNT(*) FROM account_snapshots")
    pages = await db.fetchone("PRAGMA page_count")
    size = await db.fetchone("PRAGMA page_size")
    assert rows is not None and pages is not None and size is not None
    return int(rows[0]), int(pages[0]) * int(size[0])


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def staleness(
    planned: Sequence[Planned], reads: dict[str, list[float]], started: float, ended: float
) -> dict[Band, tuple[float, float]]:
    """p50 and p95 of positions' age per band, sampled every second of the run's second
    half (an account never read is as old as the run)."""
    ticks = np.arange(started + (ended - started) / 2, ended, 1.0)
    ages: dict[Band, list[np.ndarray]] = {band: [] for band in MIX}
    for p in planned:
        key = p.key.lower() if p.venue == "hyperliquid" else p.key
        times = np.array(sorted(reads.get(key, [])), dtype=np.float64)
        if not len(times):
            ages[p.band].append(ticks - started)
            continue
        last = np.searchsorted(times, ticks, side="right") - 1
        since = np.where(last >= 0, times[np.maximum(last, 0)], started)
        ages[p.band].append(ticks - since)
    out = {}
    for band, parts in ages.items():
        if parts:
            joined = np.concatenate(parts)
            out[band] = (float(np.percentile(joined, 50)), float(np.percentile(joined, 95)))
    return out


# ---------------------------------------------------------------- report
Row = tuple[str, Callable[[Result], str]]


def _per_min(count: float, r: Result) -> float:
    return count / (r.seconds / 60.0)


def _process_rows() -> list[Row]:
    """liqwatch's own process: CPU, memory, polls, snapshots."""
    return [
        ("CPU, share of one core", lambda r: f"{r.measured.cpu_s / r.seconds:.1%}"),
        ("peak RSS", lambda r: f"{r.measured.rss_mb:.0f} MB"),
        ("polls a minute", lambda r: f"{_per_min(r.measured.stats.polls, r):,.0f}"),
        ("polls longer than their interval", lambda r: f"{r.measured.stats.overruns:,}"),
        ("runs skipped (poll still running)", lambda r: f"{r.measured.stats.skipped:,}"),
        ("failed polls", lambda r: f"{r.measured.stats.failures:,}"),
        ("snapshot rows in the run", lambda r: f"{r.measured.rows_run:,}"),
        ("snapshot rows a day", lambda r: f"{r.measured.rows_per_day:,.0f}"),
        ("database growth a day", lambda r: f"{r.measured.bytes_per_day / 1e6:,.1f} MB"),
    ]


def _venue_rows(venue: str) -> list[Row]:
    """One venue's REST use against its published limit, as the fake venue counted it."""
    limit = LIMITS[venue]

    def weight(r: Result, key: str) -> float:
        return float(r.fake["weights"][venue][key])

    return [
        (f"{venue} weight a minute (mean)",
         lambda r: f"{_per_min(weight(r, 'total'), r):,.0f} of {limit:,.0f}"),
        (f"{venue} weight, busiest minute",
         lambda r: f"{weight(r, 'peak'):,.0f} of {limit:,.0f}"),
        (f"{venue} requests a minute",
         lambda r: f"{_per_min(len(r.fake['requests'][venue]), r):,.0f}"),
    ]  # fmt: skip


def _age_rows() -> list[Row]:
    def ages(band: Band) -> Callable[[Result], str]:
        def text(r: Result) -> str:
            found = r.staleness.get(band)
            return "n/a" if found is None else f"{found[0]:.1f} s / {found[1]:.1f} s"

        return text

    return [(f"{band} positions' age p50 / p95", ages(band)) for band in MIX]


def report(results: Sequence[Result]) -> None:
    """Both modes side by side, then what a reader must know about the figures."""
    rows: list[Row] = [
        *_process_rows(),
        *(row for venue in VENUES for row in _venue_rows(venue)),
        ("requests past a limit", lambda r: f"{len(r.fake['breaches']):,}"),
        *_age_rows(),
        ("fake venues' CPU (not counted)", lambda r: f"{r.fake['cpu_s'] / r.seconds:.1%}"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{r.mode:>22}" for r in results))
    for label, cell in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{cell(r):>22}" for r in results))
    if any(r.seconds / 2 < 2 * 300.0 for r in results):
        print(
            "note: the run's second half is shorter than twice LIQWATCH_SNAPSHOT_SECONDS (300 s):"
            " its snapshot rate mixes first snapshots with the cadence; use --seconds 1200 or more"
        )
    unknown = {u for r in results for u in r.fake["unknown"]}
    if unknown:
        print(f"requests the weight table does not know: {sorted(unknown)}")


async def main_async(args: argparse.Namespace) -> None:
    # Each overrun and skipped run is counted below; a line per poll would bury the report.
    logging.basicConfig(level=logging.ERROR)
    print(f"$ PYTHONPATH=. .venv/bin/python -m benchmarks.scale {' '.join(sys.argv[1:])}")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    for mode in args.modes.split(","):
        print(f"running {mode} ({args.accounts:,} accounts, {args.seconds:g} s) …", flush=True)
        results.append(await run(mode, args))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    report(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=1200.0, help="each mode's run length (s)")
    parser.add_argument("--hyperliquid", type=float, default=0.5, help="share of wallets")
    parser.add_argument("--modes", default="bands,off", help="which runs, in order (bands, off)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.accounts, args.hyperliquid))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
