"""The full metric pass, vectorised engine vs a per-position pure-Python version, side by side.

Run: ``.venv/bin/python -m benchmarks.engine_throughput [--sizes 1000,10000,100000,1000000]``

Both sides compute the same maths on the same synthetic Binance USDⓈ-M account (half cross,
half isolated, one-way mode, Binance's ten BTCUSDT brackets): the engine's own liquidation
price with the bracket fixed point, uPnL, notional, derived leverage, ROE, maintenance,
distance in % and σ, the GBM touch probability, de-leveraging advice and the portfolio
totals. The results are compared (they must agree to 1e-9) before any time is reported, so the
speed-up is never bought with different answers. Input normalisation (reading ccxt dicts) is
not timed on either side: it is the same per-dict reading for both.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from benchmarks.reference import reference_pass
from benchmarks.synthetic import BRACKETS, HORIZON_H, SIGMA, synthetic
from engine.analysis import Analysis, analyze
from engine.normalise import Snapshot


def engine_pass(snapshot: Snapshot) -> Analysis:
    """The timed vectorised pass: exactly what the monitor runs per account."""
    return analyze(snapshot, volatility={"BTC": SIGMA}, horizon_hours=HORIZON_H)


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _check(result: Analysis, ref: dict[str, list[float]]) -> None:
    """The two implementations agree everywhere (NaN where the other has NaN)."""
    pairs = {
        "liquidation": result.computed.price,
        "distance_pct": result.distance_pct,
        "probability": result.probability,
        "leverage": result.leverage,
        "margin_to_add": result.advice.margin_to_add,
    }
    for name, got in pairs.items():
        np.testing.assert_allclose(got, np.asarray(ref[name]), rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(
        result.portfolio.gross_exposure_usd, ref["gross"][0], rtol=1e-9, err_msg="gross"
    )


def run(sizes: list[int]) -> list[tuple[int, float, float]]:
    """(n, engine seconds, reference seconds) per size, after checking both agree."""
    rows = []
    for n in sizes:
        snapshot, columns = synthetic(n, seed=n)
        result = engine_pass(snapshot)
        ref_start = time.perf_counter()
        ref = reference_pass(columns, BRACKETS)
        ref_s = time.perf_counter() - ref_start
        _check(result, ref)
        engine_s = _best_of(lambda snap=snapshot: engine_pass(snap), repeats=5 if n < 10**6 else 3)
        rows.append((n, engine_s, ref_s))
        print(
            f"{n:>9,}  engine {engine_s * 1e3:9.1f} ms  {n / engine_s:>13,.0f} pos/s   "
            f"per-position {ref_s * 1e3:10.1f} ms  {n / ref_s:>11,.0f} pos/s   "
            f"speed-up {ref_s / engine_s:6.1f}x",
            flush=True,
        )
    return rows


def main() -> None:
    """Parse sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    args = parser.parse_args()
    run([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
