"""The issue-18 performance bar: a one-year 1-minute sweep (525,600 bars, 8,760 hourly starts,
each held up to 7 days: ~88 M position-bars) must finish in minutes on a 2-core machine.

Synthetic GBM candles (seeded), a 10x isolated BTC long, the default rules, streamed marks
(every bar's open and extremes). Prints the sweep's wall time and position-bars per second,
and the per-start replay through the real pipeline on a small sample for the ratio.

    .venv/bin/python benchmarks/backtest_sweep.py            # full size
    .venv/bin/python benchmarks/backtest_sweep.py --days 30  # a quick look
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bot.backtest.position import PositionSpec, snapshot
from bot.backtest.single import replay_position
from engine.alerts.rules import Severity
from engine.backtest import (
    Priced,
    adverse_path,
    default_rules,
    poll_points,
    stream_points,
    sweep_points,
)
from engine.candles import Candles
from engine.sweep import liq_levels, summarise, sweep

MINUTE = 60_000
NOTIONAL = 150_000.0


def gbm_minutes(n: int, seed: int, sigma_year: float = 0.6) -> Candles:
    """n one-minute candles of a GBM (60 % a year), highs and lows from 6 sub-steps each."""
    rng = np.random.default_rng(seed)
    step = sigma_year / np.sqrt(525_600 * 6)
    paths = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, step, n * 6 + 1)))
    bars = paths[:-1].reshape(n, 6)
    opens = bars[:, 0]
    ends = paths[6::6]
    high = np.maximum(bars.max(axis=1), ends)
    low = np.minimum(bars.min(axis=1), ends)
    ts = 1_640_995_200_000 + MINUTE * np.arange(n, dtype=np.int64)
    return Candles(ts, opens, high, low, ends, np.zeros(n), MINUTE)


def replay_one(c: Candles, start_s: float, hold_s: float, poll_s: float | None) -> float | None:
    path = adverse_path(c, 1.0)
    if poll_s is None:
        t, x = stream_points(path, start_s, start_s + hold_s)
    else:
        t, x = poll_points(path, start_s, start_s + hold_s, poll_s)
    entry = float(x[0])
    spec = PositionSpec("BTC/USDT:USDT", "long", NOTIONAL / entry, entry, 10.0, "isolated")
    outcome, _ = replay_position(
        spec, path, (t, x), default_rules(), venue="binanceusdm",
        start_s=start_s, end_s=start_s + hold_s,
    )  # fmt: skip
    return outcome.lead_s(Severity.CRITICAL)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--days", type=int, default=365)
    args.add_argument("--hold-days", type=float, default=7.0)
    args.add_argument("--poll", type=float, default=None, help="poll seconds (default: stream)")
    args.add_argument("--sample", type=int, default=3, help="starts replayed one by one")
    opts = args.parse_args()
    load = os.getloadavg()[0]
    n = opts.days * 1440
    c = gbm_minutes(n, seed=18)
    hold = opts.hold_days * 86400.0
    t0 = int(c.ts_ms[0]) / 1000
    starts = t0 + 3600.0 * np.arange(opts.days * 24, dtype=np.float64)
    rules = default_rules()
    spec = PositionSpec("BTC/USDT:USDT", "long", 2.5, 60000.0, 10.0, "isolated")
    priced = Priced(snapshot(spec, 60000.0, taken_at_s=t0).snapshot, spec.symbol)
    ratio = float(priced.at(60000.0).liquidation_price[0]) / 60000.0

    began = time.perf_counter()
    points = sweep_points(adverse_path(c, 1.0), t0, t0 + n * 60.0, opts.poll)
    got = sweep(
        points,
        starts,
        hold_s=hold,
        side=1.0,
        liq_ratio=ratio,
        levels=liq_levels(rules, liq_ratio=ratio, side=1.0),
    )
    wall = time.perf_counter() - began
    bars = float(np.sum(got.held_s)) / 60.0
    summary = summarise(got, lead_s=600.0)

    sample = starts[:: max(len(starts) // opts.sample, 1)][: opts.sample]
    began = time.perf_counter()
    for start in sample.tolist():
        replay_one(c, start, hold, opts.poll)
    per_start = (time.perf_counter() - began) / len(sample)
    mode = "stream" if opts.poll is None else f"poll {opts.poll:g}s"
    print(f"load average at start: {load:.2f} (2 cores)")
    print(f"candles: {n:,} one-minute bars (GBM, seed 18); {mode}; {len(points.t):,} evaluations")
    print(f"starts: {len(starts):,} hourly, held up to {opts.hold_days:g} days")
    print(f"sweep: {wall:.1f} s for {bars / 1e6:.1f} M position-bars = {bars / wall / 1e6:.2f} M/s")
    print(
        f"liquidated {summary.liquidated:,} of {summary.starts:,}; critical >=10 min before: "
        f"{summary.critical_share:.1%}; "
        f"false criticals/month {summary.false_criticals_per_month:.2f}"
    )
    print(
        f"per-start replay (real pipeline): {per_start:.1f} s per start on {len(sample)} starts"
        f" -> {per_start * len(starts) / 3600:.1f} h for all {len(starts):,};"
        f" the sweep is {per_start * len(starts) / wall:,.0f}x faster"
    )


if __name__ == "__main__":
    main()
