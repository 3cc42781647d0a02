"""The spot × vol stress grid: each cell is the single-scenario stress, priced in one pass."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from engine.analysis import analyze
from engine.model import Account, ContractType
from engine.normalise import Snapshot
from engine.stress import VolShock, stress
from engine.stress_grid import stress_grid
from tests.engine.builders import positions, snapshot
from tests.engine.test_stress import _cross_book, _isolated_long

T0 = 1_768_478_400.0


def test_cells_liquidate_as_the_single_stress_does_on_a_cross_book() -> None:
    """ETH −29 % takes the cross book (equity 100 < maintenance 108.4), −25 % does not
    (engine/test_stress.py's hand figures); the grid's cells say the same at every vol."""
    snap = _cross_book()
    result = analyze(snap)
    grid = stress_grid(
        snap, result.portfolio, result.liquidation_price, underlying="ETH",
        spot_pct=(-29.0, -25.0),
    )  # fmt: skip
    assert grid.liquidates.tolist() == [[True] * 5, [False] * 5]
    np.testing.assert_allclose(grid.equity_usd_after, [[100.0] * 5, [500.0] * 5])
    for i, x in enumerate(grid.spot_pct):
        one = stress(
            snap, result.portfolio, result.liquidation_price, shock_pct=float(x), underlying="ETH"
        )
        assert one.liquidated.any() == grid.liquidates[i, 0]


def test_an_isolated_position_crossed_in_a_cell() -> None:
    """The isolated long's price 18,072.29 is crossed at −10 % (18,000), not at −5 %."""
    snap = _isolated_long()
    result = analyze(snap)
    grid = stress_grid(snap, result.portfolio, result.liquidation_price, spot_pct=(-10.0, -5.0))
    assert grid.liquidates[:, 0].tolist() == [True, False]
    np.testing.assert_allclose(grid.pnl_usd[:, 0], [-2_000.0, -1_000.0])


def _many_options(n: int) -> Snapshot:
    """``n`` USDC options of assorted strikes, sides, expiries and IVs: more than one chunk of
    the grid's option pass (65,536 / 45 cells)."""
    rng = np.random.default_rng(7)
    calls = rng.integers(0, 2, n).astype(float)
    pos = positions(
        "bybit",
        symbol=[f"BTC/USDC:USDC-O{i}" for i in range(n)],
        settle=["USDC"] * n, pool=["USDC"] * n, underlying=["BTC"] * n,
        side=rng.choice([-1.0, 1.0], n).tolist(), qty=rng.uniform(0.1, 2, n).tolist(),
        contracts=[1.0] * n, kind=[ContractType.OPTION] * n, mark=[1_000.0] * n,
        venue_upnl=[0.0] * n, underlying_price=[100_000.0] * n,
        strike=rng.uniform(60_000, 140_000, n).tolist(),
        expiry=(T0 + rng.uniform(1, 200, n) * 86_400).tolist(), call=calls.tolist(),
        mark_iv=rng.uniform(0.3, 1.2, n).tolist(), delta=[0.5] * n,
    )  # fmt: skip
    account = Account("bybit", margin_balance={"USDC": 1e7}, usd_rate={"USDC": 1.0})
    return replace(snapshot(pos, account), taken_at=T0)


def test_a_book_of_several_chunks_prices_every_cell_as_the_single_stress() -> None:
    """3,000 options (three chunks): two cells checked against the one-scenario path."""
    snap = _many_options(3_000)
    result = analyze(snap)
    grid = stress_grid(snap, result.portfolio, result.liquidation_price)
    assert grid.repriced == 3_000
    for x, v in ((-20.0, 30.0), (15.0, -15.0)):
        i, j = list(grid.spot_pct).index(x), list(grid.vol_pct).index(v)
        one = stress(
            snap, result.portfolio, result.liquidation_price, shock_pct=x, vol_shock=VolShock(v)
        )
        assert math.isclose(grid.pnl_usd[i, j], one.pnl_usd, rel_tol=1e-9)
        assert math.isclose(
            grid.margin_ratio_after[i, j, 0], one.pools[0].margin_ratio_after, rel_tol=1e-9
        )
