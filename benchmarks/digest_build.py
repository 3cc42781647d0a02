"""How long one digest takes to build for N accounts with 30 days of 15-minute snapshots each.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.digest_build [--accounts 50] [--docs docs]``

Seeds a real SQLite database (every account is the bundled Binance USDⓈ-M example, analyzed by
the engine; its equity history drifts upwards; two days of funding every 8 hours and a few
closed trades with their commissions, and no transfers, each kind read whole by the ledger as
Binance's one income read covers them), then times, in one process: the digest content
(snapshots, alert log, live analyses → ``bot.digest.build.build``) and the three charts (matplotlib,
Agg). With ``--docs`` it also writes the example text and charts the README shows.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
import time
from pathlib import Path

from bot.analysis.snapshot import load
from bot.digest import build as digest
from bot.digest import text as digest_text
from bot.digest.jobs import CHARTS, DigestJobs
from bot.exchanges.flows import reported
from engine.analysis import analyze
from engine.domain import Platform, SnapshotSummary
from storage import Database
from storage.accounts import Accounts
from storage.flows import Flows, StoredFlow
from storage.snapshots import Snapshots
from storage.users import Users

EXAMPLE = Path(__file__).parents[1] / "examples" / "binanceusdm.json"
STEP_S = 900.0


async def _seed(
    db: Database, count: int, now: float, equity_now: float, leverage_now: float
) -> list[int]:
    user = await Users(db).ensure(Platform.TELEGRAM, "desk", "Desk", "-100", now=now)
    ids = []
    steps = int(30 * 86400 / STEP_S)
    for n in range(count):
        account = await Accounts(db).add(
            user.id, "binanceusdm", f"desk-{n:02d}", wallet_address=f"w{n}", now=now
        )
        ids.append(account.id)
        async with db.transaction() as tx:
            for i in range(steps + 1):
                # Drifts up to today's equity (with some wobble); leverage rises to today's.
                wobble = 0.02 * (((i * 7 + n) % 13) / 13 - 0.5)
                equity = equity_now * (0.85 + 0.15 * i / steps + wobble)
                lev = leverage_now * (0.7 + 0.3 * i / steps)
                at = now - 30 * 86400 + i * STEP_S
                summary = SnapshotSummary(
                    account.id, at, equity, equity * lev, equity * 0.6, lev, 0.1
                )
                await Snapshots(tx.db).insert(summary, tx=tx)
        await _seed_flows(db, account.id, n, now)
    return ids


async def _seed_flows(db: Database, account_id: int, n: int, now: float) -> None:
    """Funding paid on BTC every 8 h for two days, closed SOL trades every 7 h and each one's
    commission (Binance's COMMISSION income, negative when paid: 0.05 % taker on 5-10k USDT).

    Binance's income history serves every kind the ledger reads from it in one read
    (``bot/exchanges/flows.py``), so each kind is recorded over the same window, the
    transfers with none: a kind without its coverage would show as "not read yet"."""
    flows = [
        StoredFlow(account_id, "funding", f"f{i}", now - 3600 - i * 8 * 3600, "BTC/USDT:USDT",
                   "USDT", -round(4.0 + (n + i) % 5 * 0.75, 2))
        for i in range(6)
    ] + [
        StoredFlow(account_id, "realised", f"r{i}", now - 5400 - i * 7 * 3600, "SOL/USDT:USDT",
                   "USDT", round((-1) ** (i + n) * (60.0 + 25 * ((i + n) % 4)), 2))
        for i in range(6)
    ] + [
        StoredFlow(account_id, "fee", f"c{i}", now - 5400 - i * 7 * 3600, "SOL/USDT:USDT",
                   "USDT", -round(2.5 + 0.6 * ((i + 2 * n) % 5), 2))
        for i in range(6)
    ]  # fmt: skip
    for kind in reported("binanceusdm"):
        await Flows(db).record(
            account_id, kind, [f for f in flows if f.kind == kind], since=now - 50 * 3600,
            until=now - 600,
        )  # fmt: skip


async def measure(count: int, docs: Path | None) -> tuple[float, float, int]:
    """(seconds to build the content, seconds to render the three charts, snapshots stored)."""
    now = time.time()
    loaded = load(EXAMPLE)
    analysis = analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24)
    with tempfile.TemporaryDirectory() as tmp:
        async with Database.open(str(Path(tmp) / "bench.db")) as db:
            p = analysis.portfolio
            ids = await _seed(db, count, now, p.equity_usd, p.gross_exposure_usd / p.equity_usd)
            accounts = [a for a in await Accounts(db).all_accounts() if a.id in ids]
            latest = {i: analysis for i in ids}
            start = time.perf_counter()
            built = await digest.build(db, accounts, latest, now=now)
            content_s = time.perf_counter() - start
            jobs = DigestJobs(db, None, latest)  # type: ignore[arg-type]  # no scheduling here
            start = time.perf_counter()
            made = await jobs.charts(built)
            charts_s = time.perf_counter() - start
            rows = await db.fetchone("SELECT count(*) AS n FROM account_snapshots")
            if docs is not None:
                docs.mkdir(parents=True, exist_ok=True)
                for chart in made:
                    (docs / f"digest-{chart.name}").write_bytes(base64.b64decode(chart.png_base64))
                (docs / "digest-example.txt").write_text(digest_text.text(built) + "\n")
    assert len(made) == len(CHARTS)
    return content_s, charts_s, int(rows["n"]) if rows else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--docs", type=Path, default=None)
    args = parser.parse_args()
    content_s, charts_s, rows = asyncio.run(measure(args.accounts, args.docs))
    print(
        f"{args.accounts} accounts, {rows:,} snapshots: digest content {content_s * 1e3:,.0f} ms,"
        f" three charts {charts_s * 1e3:,.0f} ms, total {(content_s + charts_s):.2f} s"
    )


if __name__ == "__main__":
    main()
