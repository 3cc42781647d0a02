"""Stress by full revaluation (issue 19, part 3): options re-priced by Black-76 under a spot
and a volatility shock, the delta fallback, coin-settled premiums and portfolio-margin pools.

Expected option values are computed here from Black's formula with ``statistics.NormalDist``,
never read back from ``engine.options``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest

from engine.analysis import analyze
from engine.model import Account, ContractType, MarginMode
from engine.normalise import Snapshot
from engine.stress import Stress, VolShock, stress
from engine.stress_grid import check_axes, stress_grid
from tests.engine.builders import positions, snapshot

N = NormalDist()
T0 = 1_768_478_400.0  # 2026-01-15 12:00 UTC, the snapshot's time (s)
DAYS = 30.0
YEARS = DAYS / 365.0
STRIKE = U = 100_000.0
SIGMA = 0.6
CASH = 50_000.0


def black76(forward: float, strike: float, sigma: float, years: float, *, call: bool) -> float:
    """Black (1976) with r = 0, written out: F·N(d1) − K·N(d2), or K·N(−d2) − F·N(−d1)."""
    s = sigma * math.sqrt(years)
    d1 = (math.log(forward / strike) + s * s / 2) / s
    d2 = d1 - s
    if call:
        return forward * N.cdf(d1) - strike * N.cdf(d2)
    return strike * N.cdf(-d2) - forward * N.cdf(-d1)


C0 = black76(U, STRIKE, SIGMA, YEARS, call=True)
P0 = black76(U, STRIKE, SIGMA, YEARS, call=False)


def _options(sides: list[float], calls: list[float], **columns: list[float]) -> Snapshot:
    """USDC-settled BTC options (Bybit's kind), 1 BTC each, struck at 100,000, 30 days out,
    σ 60 %, beside 50,000 USDC; ``columns`` override any column."""
    n = len(sides)
    marks = [C0 if c else P0 for c in calls]
    cols: dict[str, list[float]] = {
        "side": sides,
        "qty": [1.0] * n,
        "contracts": [1.0] * n,
        "kind": [ContractType.OPTION] * n,
        "mark": marks,
        "entry": marks,
        "venue_upnl": [0.0] * n,
        "underlying_price": [U] * n,
        "strike": [STRIKE] * n,
        "expiry": [T0 + DAYS * 86_400.0] * n,
        "call": calls,
        "mark_iv": [SIGMA] * n,
        "delta": [0.5 if c else -0.5 for c in calls],
        **columns,
    }
    symbols = [f"BTC/USDC:USDC-260214-100000-{'C' if c else 'P'}" for c in calls]
    pos = positions(
        "bybit", symbol=symbols, settle=["USDC"] * n, pool=["USDC"] * n, underlying=["BTC"] * n,
        **cols,  # type: ignore[arg-type]
    )  # fmt: skip
    account = Account("bybit", margin_balance={"USDC": CASH}, usd_rate={"USDC": 1.0})
    return replace(snapshot(pos, account), taken_at=T0)


def _straddle() -> Snapshot:
    return _options([-1.0, -1.0], [1.0, 0.0])


def _stress(snap: Snapshot, shock_pct: float, vol: VolShock | None = None) -> Stress:
    result = analyze(snap)
    return stress(
        snap, result.portfolio, result.liquidation_price, shock_pct=shock_pct, vol_shock=vol
    )


def _grid(snap: Snapshot, **axes: tuple[float, ...]):  # type: ignore[no-untyped-def]
    result = analyze(snap)
    return stress_grid(snap, result.portfolio, result.liquidation_price, **axes)  # type: ignore[arg-type]


def test_a_short_straddle_loses_on_both_sides_and_more_with_vol_up() -> None:
    """Spot −10 % or +10 %: both lose (a linear stress of a delta-neutral straddle says 0);
    each row loses more as volatility rises, and spot 0 / vol 0 is exactly 0."""
    grid = _grid(_straddle())
    spot, vol = list(grid.spot_pct), list(grid.vol_pct)
    flat = vol.index(0.0)
    down, up, still = spot.index(-10.0), spot.index(10.0), spot.index(0.0)
    assert grid.pnl_usd[down, flat] < 0 and grid.pnl_usd[up, flat] < 0
    assert grid.pnl_usd[still, flat] == 0.0
    for row in grid.pnl_usd:
        assert np.all(np.diff(row) < 0)  # vol −30 % … +30 %: worse at every step
    assert grid.repriced == 2 and grid.fallback == 0


def test_one_cell_of_the_straddle_by_hand() -> None:
    """Spot −10 %, vol +15 %: F = 90,000, σ = 0.69; PnL = −(C' + P' − C − P) USD."""
    grid = _grid(_straddle())
    i, j = list(grid.spot_pct).index(-10.0), list(grid.vol_pct).index(15.0)
    after = black76(90_000.0, STRIKE, 0.69, YEARS, call=True)
    after += black76(90_000.0, STRIKE, 0.69, YEARS, call=False)
    want = -(after - C0 - P0)
    assert math.isclose(grid.pnl_usd[i, j], want, rel_tol=1e-9)
    assert math.isclose(grid.equity_usd_after[i, j], CASH + want, rel_tol=1e-12)


def test_the_grid_and_the_single_stress_agree() -> None:
    """Each cell is the single-scenario stress: the same PnL and equity after."""
    snap = _straddle()
    grid = _grid(snap, spot_pct=(-15.0, 5.0), vol_pct=(-30.0, 20.0))
    for i, x in enumerate(grid.spot_pct):
        for j, v in enumerate(grid.vol_pct):
            one = _stress(snap, float(x), VolShock(float(v)))
            assert math.isclose(grid.pnl_usd[i, j], one.pnl_usd, rel_tol=1e-12)
            assert math.isclose(grid.equity_usd_after[i, j], one.equity_usd_after, rel_tol=1e-12)


def test_a_long_options_loss_is_bounded_by_its_premium() -> None:
    """A long call loses at most what it is worth (C0 for 1 BTC), whatever the shock: −99 %
    with volatility gone (−100 %) takes exactly its value, no more."""
    snap = _options([1.0], [1.0])
    for shock, vol in ((-20.0, 0.0), (-50.0, -50.0), (-99.0, -100.0), (20.0, 30.0)):
        result = _stress(snap, shock, VolShock(vol))
        assert result.pnl_usd >= -C0 - 1e-9
    worst = _stress(snap, -99.0, VolShock(-100.0))
    assert math.isclose(worst.pnl_usd, -C0, rel_tol=1e-12)
    assert worst.mark[0] == 0.0  # its premium after the shock


def test_vol_points_add_to_sigma() -> None:
    """vol +20pt: σ 0.6 → 0.8 (not 0.72, which +20 % gives)."""
    snap = _options([1.0], [1.0])
    points = _stress(snap, 0.0, VolShock(20.0, points=True))
    relative = _stress(snap, 0.0, VolShock(20.0))
    want_points = black76(U, STRIKE, 0.8, YEARS, call=True) - C0
    want_relative = black76(U, STRIKE, 0.72, YEARS, call=True) - C0
    assert math.isclose(points.pnl_usd, want_points, rel_tol=1e-9)
    assert math.isclose(relative.pnl_usd, want_relative, rel_tol=1e-9)


def test_vol_shocks_that_make_volatility_negative() -> None:
    """Relative below −100 % is refused in one sentence; points past zero are held at 0 σ
    (intrinsic value) with a note."""
    assert VolShock(-120.0).problem() == "vol shock -120% would make volatility negative."
    assert VolShock(-100.0).problem() is None
    assert VolShock(math.inf).problem() == "The vol shock must be a finite number."
    assert check_axes((-10.0,), (-130.0,)) == "vol shock -130% would make volatility negative."
    assert check_axes((-100.0,), (0.0,)) == "spot shock -100% would put the price at or below zero."
    result = _stress(_options([1.0], [1.0]), 0.0, VolShock(-70.0, points=True))
    assert result.notes == (
        "vol -70pt takes 1 option(s) below zero volatility: priced at 0 (intrinsic value)",
    )
    assert math.isclose(result.pnl_usd, -C0, rel_tol=1e-12)  # at the money: intrinsic 0
    with pytest.raises(ValueError, match="volatility negative"):
        _grid(_straddle(), vol_pct=(-150.0,))


def test_an_option_without_mark_iv_moves_by_its_delta_and_says_so() -> None:
    """No mark IV: s·Q·Δ·U·x = 1·1·0.5·100,000·(−10 %) = −5,000 USD, and a note names it."""
    snap = _options([1.0], [1.0], mark_iv=[math.nan])
    result = _stress(snap, -10.0, VolShock(20.0))
    assert math.isclose(result.pnl_usd, -5_000.0, rel_tol=1e-12)
    assert result.repriced is not None and not result.repriced.any()
    assert result.notes == (
        "BTC/USDC:USDC-260214-100000-C: not re-priced (mark IV unknown), moved by its delta "
        "instead (no vol shock applies)",
    )
    grid = _grid(snap, spot_pct=(-10.0,), vol_pct=(0.0, 20.0))
    np.testing.assert_allclose(grid.pnl_usd, [[-5_000.0, -5_000.0]])
    assert grid.fallback == 1 and grid.notes == result.notes


def test_an_option_without_a_snapshot_time_is_not_repriced() -> None:
    """No snapshot time means no time to expiry: the note names it."""
    snap = replace(_options([1.0], [1.0]), taken_at=math.nan)
    assert (
        _stress(snap, -10.0)
        .notes[0]
        .endswith("(snapshot time unknown), moved by its delta instead (no vol shock applies)")
    )


def _coin_settled() -> Snapshot:
    """Deribit's kind: a long 1 BTC call whose premium is in BTC (C0 / U), beside 2 BTC."""
    snap = _options([1.0], [1.0], mark=[C0 / U], entry=[C0 / U], delta=[0.45])
    pos = replace(
        snap.positions,
        settle=replace(snap.positions.settle, names=("BTC",)),
        pool=replace(snap.positions.pool, names=("BTC",)),
        settle_usd=np.asarray([U]),
    )
    account = Account("deribit", margin_balance={"BTC": 2.0}, usd_rate={"BTC": U})
    return replace(snap, positions=pos, account=account)


def test_a_coin_settled_premium_and_the_coin_collateral_both_move() -> None:
    """BTC −10 %: the call is worth C'/U' coins (C' at F = 90,000), so its PnL is
    (C'/90,000 − C0/100,000) BTC, valued at 90,000; the 2 BTC balance loses 20,000 USD."""
    result = _stress(_coin_settled(), -10.0)
    c_after = black76(90_000.0, STRIKE, SIGMA, YEARS, call=True)
    coin_pnl = c_after / 90_000.0 - C0 / U
    assert result.pnl_settle is not None
    assert math.isclose(result.pnl_settle[0], coin_pnl, rel_tol=1e-9)
    assert math.isclose(result.pnl_usd, coin_pnl * 90_000.0, rel_tol=1e-9)
    assert math.isclose(result.equity_usd_after, 2.0 * 90_000.0 + coin_pnl * 90_000.0)
    assert math.isclose(result.mark[0], c_after / 90_000.0, rel_tol=1e-9)


def test_coin_settled_delta_fallback_is_in_coin() -> None:
    """Deribit's delta is premium-adjusted (the change of the value in coin per unit move of
    U, times U): a −10 % move takes s·Q·Δ·x = 0.45·(−0.1) = −0.045 BTC."""
    snap = _coin_settled()
    pos = replace(snap.positions, mark_iv=np.asarray([math.nan]))
    result = _stress(replace(snap, positions=pos), -10.0)
    assert result.pnl_settle is not None
    assert math.isclose(result.pnl_settle[0], -0.045, rel_tol=1e-12)
    assert math.isclose(result.pnl_usd, -0.045 * 90_000.0, rel_tol=1e-12)


def _portfolio_margin(venue_ratio: float) -> Snapshot:
    """The straddle on a portfolio-margin USDC pool whose venue ratio is ``venue_ratio``."""
    snap = _straddle()
    account = replace(
        snap.account,
        portfolio_margin=frozenset({"USDC"}),
        venue_margin_ratio={"USDC": venue_ratio},
    )
    return replace(snap, account=account)


def test_a_portfolio_margin_pool_uses_the_venues_ratio() -> None:
    """Venue ratio 20 % of 50,000: its maintenance, 10,000 USDC, is held while the equity takes
    the shock; the ratio after is 10,000 / (50,000 + PnL), marked as the venue's."""
    result = _stress(_portfolio_margin(0.2), -10.0, VolShock(15.0))
    (pool,) = result.pools
    assert (pool.pool, pool.source) == ("USDC", "venue")
    assert pool.margin_ratio_before == 0.2
    assert pool.maintenance_after == 10_000.0
    assert math.isclose(pool.equity_after, CASH + result.pnl_usd, rel_tol=1e-12)
    assert math.isclose(pool.margin_ratio_after, 10_000.0 / (CASH + result.pnl_usd))
    assert not result.liquidated.any()


def test_a_portfolio_margin_pool_is_liquidated_at_the_venues_maintenance() -> None:
    """Venue ratio 90 %: maintenance 45,000 held; a −20 % move with vol +30 % costs the
    straddle more than the 5,000 of headroom, so its positions go — in the grid too."""
    snap = _portfolio_margin(0.9)
    result = _stress(snap, -20.0, VolShock(30.0))
    assert result.pnl_usd < -5_000.0
    assert result.liquidated.all()
    assert result.pools[0].margin_ratio_after > 1.0
    grid = _grid(snap)
    i, j = list(grid.spot_pct).index(-20.0), list(grid.vol_pct).index(30.0)
    assert grid.liquidates[i, j] and not grid.liquidates[4, 2]
    assert grid.pool_sources == ("venue",)
    assert math.isclose(grid.margin_ratio_after[i, j, 0], result.pools[0].margin_ratio_after)


def test_an_engine_pool_reports_its_ratio_after() -> None:
    """Not on portfolio margin: the source is the engine's, the ratio maintenance / equity."""
    result = _stress(_straddle(), -10.0)
    (pool,) = result.pools
    assert pool.source == "engine"
    assert math.isclose(pool.equity_after, CASH + result.pnl_usd, rel_tol=1e-12)


def test_futures_move_linearly_beside_options() -> None:
    """A 1 BTC linear long beside the straddle: the grid's PnL is the straddle's plus
    1·100,000·x, the same at every vol."""
    snap = _straddle()
    fut = positions(
        "bybit", symbol=["BTC/USDC:USDC"], settle=["USDC"], pool=["USDC"], underlying=["BTC"],
        side=[1.0], qty=[1.0], contracts=[1.0], mark=[U], entry=[U],
        margin_mode=[MarginMode.CROSS], mmr=[0.005],
    )  # fmt: skip
    both = replace(snapshot(_concat(snap.positions, fut), snap.account), taken_at=T0)
    alone = _grid(snap, spot_pct=(-10.0, 10.0))
    mixed = _grid(both, spot_pct=(-10.0, 10.0))
    np.testing.assert_allclose(mixed.pnl_usd - alone.pnl_usd, [[-10_000.0] * 5, [10_000.0] * 5])


def _concat(a, b):  # type: ignore[no-untyped-def]
    """Two books as one (columns end to end, labels re-coded)."""
    from engine.model import Labels

    out = {}
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, Labels):
            out[name] = Labels.of([*x, *y])
        elif isinstance(x, np.ndarray):
            out[name] = np.concatenate([x, y])
        elif isinstance(x, tuple):
            out[name] = x + y
        else:
            out[name] = x
    return type(a)(**out)


def test_an_option_past_its_expiry_is_worth_its_intrinsic_value_and_says_so() -> None:
    """Expired at the snapshot's time (the venue settles it): a long ATM call is worth its
    intrinsic value, max(F − K, 0): BTC +10 % makes it 10,000, whatever the vol; a note."""
    snap = _options([1.0], [1.0], expiry=[T0 - 3_600.0], mark=[0.0], entry=[0.0])
    result = _stress(snap, 10.0, VolShock(50.0))
    assert math.isclose(result.pnl_usd, 10_000.0, rel_tol=1e-12)
    assert result.notes == (
        "BTC/USDC:USDC-260214-100000-C: expired at the snapshot's time: valued at intrinsic, "
        "which no vol shock moves",
    )
