"""The engine's option pass, vectorised vs a per-option pure-Python version, side by side.

Run: ``.venv/bin/python -m benchmarks.options [--sizes 1000,10000,100000]``

Both sides take the same synthetic book of options (BTC and ETH, calls and puts, long and
short, strikes ±40 % around the forward, 1 to 180 days, mark IV 30-120 %, half coin-settled
with Deribit's premium-adjusted delta, half USDC-settled) and compute what the engine does once
positions are read (normalisation is not timed on either side): each option's Black-76 delta,
gamma, vega and theta per long unit (``engine.options.per_unit_greeks``), the position's
greeks (``engine.greeks.position_greeks``) and the sums per underlying (``by_underlying``).
The per-option side does the same arithmetic with the ``math`` module in one Python loop. The
results are compared (to 1e-9) before any time is reported.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.engine_throughput import _best_of
from engine.greeks import UnderlyingGreeks, by_underlying, position_greeks
from engine.model import OPTION_COLUMNS, ContractType, Labels, Leg, MarginMode, Positions
from engine.options import YEAR_S, per_unit_greeks

#: Snapshot time of the synthetic book (POSIX seconds).
TAKEN_AT = 1_774_576_800.0
FORWARD = {"BTC": 100_000.0, "ETH": 3_500.0}


def synthetic_options(n: int, seed: int = 1) -> Positions:
    """``n`` option positions with every input the Black-76 pass needs."""
    rng = np.random.default_rng(seed)
    eth = rng.random(n) < 0.3
    forward = np.where(eth, FORWARD["ETH"], FORWARD["BTC"])
    coin = rng.random(n) < 0.5
    nan = np.full(n, np.nan)
    columns: dict[str, Any] = {name: nan.copy() for name in OPTION_COLUMNS}
    columns.update(
        underlying_price=forward,
        strike=np.round(forward * rng.uniform(0.6, 1.4, n), -1),
        expiry=TAKEN_AT + rng.uniform(1.0, 180.0, n) * 86_400.0,
        call=(rng.random(n) < 0.5).astype(np.float64),
        mark_iv=rng.uniform(0.3, 1.2, n),
    )
    underlying = Labels(("BTC", "ETH"), eth.astype(np.int64))
    settle = Labels.of(np.where(coin, np.where(eth, "ETH", "BTC"), "USDC").tolist())
    qty = np.round(rng.uniform(0.1, 25.0, n), 1)
    return Positions(
        venue="deribit",
        symbol=Labels.of([f"O{i:07d}" for i in range(n)]),
        underlying=underlying,
        settle=settle,
        pool=settle,
        greeks_source=Labels(("engine",), np.zeros(n, dtype=np.int64)),
        side=rng.choice([-1.0, 1.0], n),
        contracts=qty,
        contract_size=np.ones(n),
        qty=qty,
        kind=np.full(n, int(ContractType.OPTION)),
        margin_mode=np.full(n, int(MarginMode.CROSS)),
        leg=np.full(n, int(Leg.BOTH)),
        entry=nan.copy(),
        mark=np.full(n, 0.05),
        venue_liq=nan.copy(),
        isolated_wallet=nan.copy(),
        leverage=nan.copy(),
        mmr=nan.copy(),
        maint_amount=np.zeros(n),
        max_leverage=nan.copy(),
        venue_upnl=nan.copy(),
        venue_maint_margin=nan.copy(),
        venue_initial_margin=nan.copy(),
        taker_fee=nan.copy(),
        settle_usd=np.where(coin, forward, 1.0),
        valid=np.ones(n, dtype=np.bool_),
        diagnostics=((),) * n,
        **columns,
    )


def engine_pass(p: Positions) -> tuple[UnderlyingGreeks, ...]:
    """The timed vectorised pass: per-unit Black-76 columns, position greeks, sums."""
    years = np.maximum(p.expiry - TAKEN_AT, 0.0) / YEAR_S
    adjusted = p.settle.code != p.settle.names.index("USDC")
    unit = per_unit_greeks(p.underlying_price, p.strike, p.mark_iv, p.call, years, adjusted)
    filled = replace(p, **unit)
    return by_underlying(filled, position_greeks(filled))


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def reference_pass(p: Positions) -> dict[str, list[float]]:
    """The same arithmetic one option at a time with ``math``: per underlying, the six sums."""
    sums = {name: [0.0, 0.0] for name in ("delta_coin", "gamma_coin", "vega_usd", "theta_usd")}
    adjusted = [name != "USDC" for name in p.settle]
    rows = zip(
        p.underlying.code.tolist(),
        p.side.tolist(),
        p.qty.tolist(),
        p.underlying_price.tolist(),
        p.strike.tolist(),
        p.mark_iv.tolist(),
        p.call.tolist(),
        p.expiry.tolist(),
        adjusted,
        strict=True,
    )
    for k, s, q, f, strike, sigma, call, expiry, adjust in rows:
        t = max(expiry - TAKEN_AT, 0.0) / YEAR_S
        st = sigma * math.sqrt(t)
        d1 = (math.log(f / strike) + 0.5 * st * st) / st
        d2 = d1 - st
        pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
        n1 = _ncdf(d1)
        if call == 1.0:
            delta, price = n1, f * n1 - strike * _ncdf(d2)
        else:
            delta, price = n1 - 1.0, strike * _ncdf(-d2) - f * _ncdf(-d1)
        if adjust:
            delta -= max(price, 0.0) / f
        sums["delta_coin"][k] += s * q * delta
        sums["gamma_coin"][k] += s * q * pdf / (f * st)
        sums["vega_usd"][k] += s * q * f * pdf * math.sqrt(t) / 100.0
        sums["theta_usd"][k] += s * q * -f * pdf * sigma / (2.0 * math.sqrt(t)) / 365.0
    return sums


def _check(got: tuple[UnderlyingGreeks, ...], want: dict[str, list[float]]) -> None:
    for name, values in want.items():
        np.testing.assert_allclose(
            [getattr(u, name) for u in got], values, rtol=1e-9, atol=1e-9, err_msg=name
        )


def run(sizes: list[int]) -> list[tuple[int, float, float]]:
    """(n, engine seconds, per-option seconds) per size, after checking both agree."""
    rows = []
    for n in sizes:
        book = synthetic_options(n, seed=n)
        ref_start = time.perf_counter()
        want = reference_pass(book)
        ref_s = time.perf_counter() - ref_start
        _check(engine_pass(book), want)
        engine_s = _best_of(lambda b=book: engine_pass(b), repeats=5)
        rows.append((n, engine_s, ref_s))
        print(
            f"{n:>9,} options  engine {engine_s * 1e3:8.1f} ms  {n / engine_s:>12,.0f} /s   "
            f"per-option {ref_s * 1e3:9.1f} ms  {n / ref_s:>10,.0f} /s   "
            f"speed-up {ref_s / engine_s:6.1f}x",
            flush=True,
        )
    return rows


def main() -> None:
    """Parse sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    run([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
